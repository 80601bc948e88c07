#!/usr/bin/env bash
# Provisions the attacker VM: curl, and a route sending 169.254.169.254 to the misconfigured instance.
# Usage: provision-attacker.sh INSTANCE_ADDRESS      (run as root by `vagrant provision`)
set -euo pipefail
instance_address="${1:?usage: provision-attacker.sh INSTANCE_ADDRESS}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends curl iproute2 tcpdump
/imds-hop/scripts/lab/attacker.sh "$instance_address"
# Kept across reboots: the route comes back with the interface.
cat >/etc/network/if-up.d/ihlab-attacker <<HOOK
#!/bin/sh
ip route replace 169.254.169.254/32 via ${instance_address} 2>/dev/null || true
HOOK
chmod +x /etc/network/if-up.d/ihlab-attacker
echo "attacker ready: 169.254.169.254 via ${instance_address}"

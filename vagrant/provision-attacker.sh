#!/usr/bin/env bash
# Provisions the attacker VM: curl, and a route sending 169.254.169.254 to the misconfigured instance.
# Usage: provision-attacker.sh INSTANCE_ADDRESS      (run as root by `vagrant provision`)
set -euo pipefail
instance_address="${1:?usage: provision-attacker.sh INSTANCE_ADDRESS}"
if ! command -v curl >/dev/null || ! command -v tcpdump >/dev/null || ! command -v ip >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends curl iproute2 tcpdump
fi
/imds-hop/scripts/lab/attacker.sh "$instance_address"
# Kept across reboots: the route comes back with the interface (ifupdown on the public box, networkd on ours).
device="$(ip -o route get "$instance_address" | sed -n 's/.* dev \([^ ]*\).*/\1/p')"
if [[ -d /etc/network/if-up.d ]]; then
  cat >/etc/network/if-up.d/ihlab-attacker <<HOOK
#!/bin/sh
ip route replace 169.254.169.254/32 via ${instance_address} 2>/dev/null || true
HOOK
  chmod +x /etc/network/if-up.d/ihlab-attacker
elif [[ -d /etc/systemd/network && -n $device ]]; then
  mkdir -p "/etc/systemd/network/50-vagrant-${device}.network.d"
  printf '[Route]\nDestination=169.254.169.254/32\nGateway=%s\n' "$instance_address" \
    >"/etc/systemd/network/50-vagrant-${device}.network.d/ihlab-attacker.conf"
fi
echo "attacker ready: 169.254.169.254 via ${instance_address}"

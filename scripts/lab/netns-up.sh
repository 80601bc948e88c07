#!/usr/bin/env bash
# The misconfiguration lab on one Linux host, in network namespaces (what CI runs):
#
#   [ihlab-attacker] att0 198.18.0.2 --veth-- ihl-att 198.18.0.1 [ihlab-instance] tap ihlab0 -- imds-hop
#                                                 ihl-br0 198.18.1.1    forwards + masquerades (nftables)
#   [ihlab-container] ctr0 198.18.1.2 --veth-- ihl-ctr (on ihl-br0)     nginx :8080, WAF :8081, SSRF app :8082
#
# Usage: netns-up.sh [HOP_LIMIT] [HTTP_TOKENS]     (undo with netns-down.sh; on failure it undoes itself)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lab-env.sh
source "$here/lab-env.sh"
hop_limit="${1:-1}"
http_tokens="${2:-optional}"

[[ $EUID -eq 0 ]] || { echo "the lab needs root (network namespaces, a tap)" >&2; exit 1; }
[[ -n "$IHLAB_NODE" ]] || { echo "node not found (set IHLAB_NODE)" >&2; exit 1; }
if [[ -e "/run/netns/${IHLAB_NS_INSTANCE}" ]]; then
  echo "the lab is already up (run netns-down.sh first)" >&2
  exit 1
fi

cleanup() {
  echo "netns-up: failed, tearing the lab down" >&2
  "$here/netns-down.sh" || true
}
trap cleanup ERR INT TERM

mkdir -p "$IHLAB_RUN_DIR"
for ns in "$IHLAB_NS_INSTANCE" "$IHLAB_NS_ATTACKER"; do
  ip netns add "$ns"
  ip -n "$ns" link set lo up
done

# The attacker's network, on the instance's second interface.
ip link add "$IHLAB_INSTANCE_DEV" netns "$IHLAB_NS_INSTANCE" type veth peer name "$IHLAB_ATTACKER_DEV" netns "$IHLAB_NS_ATTACKER"
ip netns exec "$IHLAB_NS_INSTANCE" sysctl -qw "net.ipv6.conf.${IHLAB_INSTANCE_DEV}.disable_ipv6=1"
ip netns exec "$IHLAB_NS_ATTACKER" sysctl -qw "net.ipv6.conf.${IHLAB_ATTACKER_DEV}.disable_ipv6=1"
ip -n "$IHLAB_NS_INSTANCE" address add "${IHLAB_INSTANCE_ADDR}/24" dev "$IHLAB_INSTANCE_DEV"
ip -n "$IHLAB_NS_ATTACKER" address add "${IHLAB_ATTACKER_ADDR}/24" dev "$IHLAB_ATTACKER_DEV"
ip -n "$IHLAB_NS_INSTANCE" link set "$IHLAB_INSTANCE_DEV" up
ip -n "$IHLAB_NS_ATTACKER" link set "$IHLAB_ATTACKER_DEV" up
ip netns exec "$IHLAB_NS_ATTACKER" "$here/attacker.sh" "$IHLAB_INSTANCE_ADDR"

# The same provisioning steps as the Vagrant instance VM, run inside the instance namespace.
IHLAB_CONTAINER_HOST_NS="$IHLAB_NS_INSTANCE" "$here/container.sh" up
ip netns exec "$IHLAB_NS_INSTANCE" "$here/router.sh" "$IHLAB_TAP" "$IHLAB_ATTACKER_NET" "$IHLAB_CONTAINER_NET"
ip netns exec "$IHLAB_NS_INSTANCE" "$here/appliance.sh" start "$hop_limit" "$http_tokens"
ip netns exec "$IHLAB_NS_INSTANCE" "$here/services.sh" start "$IHLAB_INSTANCE_ADDR"

trap - ERR INT TERM
echo "lab up: instance ${IHLAB_NS_INSTANCE}, attacker ${IHLAB_NS_ATTACKER}, container ${IHLAB_NS_CONTAINER}"

#!/usr/bin/env bash
# Misconfigures THIS host (or namespace) as an open layer-3 router/NAT toward the metadata service: forwards
# and masquerades every listed source network out of the interface that reaches 169.254.169.254.
# Usage: router.sh OUT_INTERFACE SOURCE_CIDR...      (removed by: nft delete table ip ihlab)
set -euo pipefail
out_interface="${1:?usage: router.sh OUT_INTERFACE SOURCE_CIDR...}"
shift
(($# > 0)) || { echo "usage: router.sh OUT_INTERFACE SOURCE_CIDR..." >&2; exit 2; }
sources="$(IFS=,; echo "$*")"

cleanup() {
  nft delete table ip ihlab 2>/dev/null || true
}
trap cleanup ERR INT TERM

sysctl -qw net.ipv4.ip_forward=1
nft delete table ip ihlab 2>/dev/null || true
nft -f - <<NFT
table ip ihlab {
  chain forward {
    type filter hook forward priority filter; policy accept;
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr { ${sources} } oifname "${out_interface}" masquerade
  }
}
NFT
trap - ERR INT TERM
echo "router: forwarding and masquerading ${sources} out of ${out_interface}"

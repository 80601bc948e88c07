#!/usr/bin/env bash
# Removes everything netns-up.sh created: the processes in the lab's namespaces (imds-hop first, so it removes
# its tap and control socket), then the namespaces (with their veths, bridge and nftables), then the run folder.
# Safe to run at any time, any number of times.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lab-env.sh
source "$here/lab-env.sh"

namespaces=("$IHLAB_NS_ATTACKER" "$IHLAB_NS_CONTAINER" "$IHLAB_NS_INSTANCE")
existing=()
for ns in "${namespaces[@]}"; do
  if [[ -e "/run/netns/${ns}" ]]; then existing+=("$ns"); fi
done

"$here/appliance.sh" stop || true
"$here/services.sh" stop || true

for signal in TERM KILL; do
  for ns in "${existing[@]}"; do
    # Anything else still running inside a lab namespace (captures, clients) belongs to the lab.
    mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null || true)
    if ((${#pids[@]} > 0)); then kill "-$signal" "${pids[@]}" 2>/dev/null || true; fi
  done
  [[ $signal == TERM ]] && sleep 0.5
done

for ns in "${existing[@]}"; do
  ip netns delete "$ns" 2>/dev/null || true
done
rm -f "/run/imds-hop/${IHLAB_TAP}.sock"
rm -rf "$IHLAB_RUN_DIR"
echo "lab down"

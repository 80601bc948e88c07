#!/usr/bin/env bash
# A "container" behind the instance: a Docker-like bridge on the instance and a namespace on it, one hop from the
# instance, with its route to the metadata service through the bridge.
# Usage: container.sh up|down      run on the instance; with IHLAB_CONTAINER_HOST_NS set, the instance is that
#                                  namespace (the netns lab) — namespaces must be created from the host's mounts.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lab-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/lab-env.sh"
host_ns="${IHLAB_CONTAINER_HOST_NS:-}"

# Runs a command where the instance's kernel is.
on_instance() {
  if [[ -n "$host_ns" ]]; then ip netns exec "$host_ns" "$@"; else "$@"; fi
}

down() {
  ip netns delete "$IHLAB_NS_CONTAINER" 2>/dev/null || true
  on_instance ip link delete "$IHLAB_BRIDGE" 2>/dev/null || true
}

up() {
  trap down ERR INT TERM
  ip netns add "$IHLAB_NS_CONTAINER"
  ip -n "$IHLAB_NS_CONTAINER" link set lo up
  on_instance ip link add "$IHLAB_BRIDGE" type bridge
  on_instance sysctl -qw "net.ipv6.conf.${IHLAB_BRIDGE}.disable_ipv6=1"
  on_instance ip address add "${IHLAB_BRIDGE_ADDR}/24" dev "$IHLAB_BRIDGE"
  on_instance ip link set "$IHLAB_BRIDGE" up
  on_instance ip link add "$IHLAB_CONTAINER_HOST_DEV" type veth peer name "$IHLAB_CONTAINER_DEV" netns "$IHLAB_NS_CONTAINER"
  on_instance sysctl -qw "net.ipv6.conf.${IHLAB_CONTAINER_HOST_DEV}.disable_ipv6=1"
  on_instance ip link set "$IHLAB_CONTAINER_HOST_DEV" master "$IHLAB_BRIDGE" up
  ip netns exec "$IHLAB_NS_CONTAINER" sysctl -qw "net.ipv6.conf.${IHLAB_CONTAINER_DEV}.disable_ipv6=1"
  ip -n "$IHLAB_NS_CONTAINER" address add "${IHLAB_CONTAINER_ADDR}/24" dev "$IHLAB_CONTAINER_DEV"
  ip -n "$IHLAB_NS_CONTAINER" link set "$IHLAB_CONTAINER_DEV" up
  ip -n "$IHLAB_NS_CONTAINER" route add "${IHLAB_SERVICE_ADDR}/32" via "$IHLAB_BRIDGE_ADDR"
  trap - ERR INT TERM
  echo "container: ${IHLAB_NS_CONTAINER} at ${IHLAB_CONTAINER_ADDR} behind ${IHLAB_BRIDGE}"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: container.sh up|down" >&2; exit 2 ;;
esac

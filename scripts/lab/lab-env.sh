# shellcheck shell=bash
# Names and addresses of the misconfiguration lab, sourced by every scripts/lab step (override any by environment).
# Lab addresses stay inside 169.254.0.0/16 and 198.18.0.0/15.
IHLAB_NS_INSTANCE="${IHLAB_NS_INSTANCE:-ihlab-instance}"
IHLAB_NS_ATTACKER="${IHLAB_NS_ATTACKER:-ihlab-attacker}"
IHLAB_NS_CONTAINER="${IHLAB_NS_CONTAINER:-ihlab-container}"
IHLAB_TAP="${IHLAB_TAP:-ihlab0}"
# The attacker's link: the instance's end, the attacker's end, and the /24 between them.
IHLAB_ATTACKER_NET="${IHLAB_ATTACKER_NET:-198.18.0.0/24}"
IHLAB_INSTANCE_ADDR="${IHLAB_INSTANCE_ADDR:-198.18.0.1}"
IHLAB_ATTACKER_ADDR="${IHLAB_ATTACKER_ADDR:-198.18.0.2}"
IHLAB_INSTANCE_DEV="${IHLAB_INSTANCE_DEV:-ihl-att}"
IHLAB_ATTACKER_DEV="${IHLAB_ATTACKER_DEV:-att0}"
# The container bridge (a Docker-like bridge on the instance, one hop behind it).
IHLAB_BRIDGE="${IHLAB_BRIDGE:-ihl-br0}"
IHLAB_CONTAINER_NET="${IHLAB_CONTAINER_NET:-198.18.1.0/24}"
IHLAB_BRIDGE_ADDR="${IHLAB_BRIDGE_ADDR:-198.18.1.1}"
IHLAB_CONTAINER_ADDR="${IHLAB_CONTAINER_ADDR:-198.18.1.2}"
IHLAB_CONTAINER_HOST_DEV="${IHLAB_CONTAINER_HOST_DEV:-ihl-ctr}"
IHLAB_CONTAINER_DEV="${IHLAB_CONTAINER_DEV:-ctr0}"
# The misconfigured services on the instance, all on the address the attacker reaches.
IHLAB_PROXY_PORT="${IHLAB_PROXY_PORT:-8080}"
IHLAB_WAF_PORT="${IHLAB_WAF_PORT:-8081}"
IHLAB_SSRF_PORT="${IHLAB_SSRF_PORT:-8082}"
IHLAB_SERVICE_ADDR="${IHLAB_SERVICE_ADDR:-169.254.169.254}"
IHLAB_RUN_DIR="${IHLAB_RUN_DIR:-/run/ihlab}"
IHLAB_REPO="${IHLAB_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
IHLAB_NODE="${IHLAB_NODE:-$(command -v node || true)}"
export IHLAB_NS_INSTANCE IHLAB_NS_ATTACKER IHLAB_NS_CONTAINER IHLAB_TAP IHLAB_ATTACKER_NET IHLAB_INSTANCE_ADDR \
  IHLAB_ATTACKER_ADDR IHLAB_INSTANCE_DEV IHLAB_ATTACKER_DEV IHLAB_BRIDGE IHLAB_CONTAINER_NET IHLAB_BRIDGE_ADDR \
  IHLAB_CONTAINER_ADDR IHLAB_CONTAINER_HOST_DEV IHLAB_CONTAINER_DEV IHLAB_PROXY_PORT IHLAB_WAF_PORT IHLAB_SSRF_PORT \
  IHLAB_SERVICE_ADDR IHLAB_RUN_DIR IHLAB_REPO IHLAB_NODE

# Waits until a TCP port listens in the current namespace (a condition, not a sleep of a guessed length), for
# IHLAB_WAIT_SECONDS (default 10; a VM under software emulation needs longer).
ihlab_wait_listening() {
  local port="$1" tries=$((${IHLAB_WAIT_SECONDS:-10} * 10))
  until ss -Hltn "sport = :${port}" | grep -q LISTEN; do
    tries=$((tries - 1))
    if ((tries == 0)); then
      echo "nothing listens on port ${port} after ${IHLAB_WAIT_SECONDS:-10} s" >&2
      return 1
    fi
    sleep 0.1
  done
}

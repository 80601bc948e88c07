#!/usr/bin/env bash
# Starts imds-hop on its tap in the current namespace, in the background, and waits until it serves.
# Usage: appliance.sh start [HOP_LIMIT] [HTTP_TOKENS] | stop      (log: $IHLAB_RUN_DIR/appliance.log)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lab-env.sh
source "$here/lab-env.sh"
pidfile="${IHLAB_RUN_DIR}/appliance.pid"
log="${IHLAB_RUN_DIR}/appliance.log"

stop() {
  [[ -e "$pidfile" ]] || return 0
  local pid tries=100
  pid="$(cat "$pidfile")"
  kill -TERM "$pid" 2>/dev/null || true
  # SIGTERM makes imds-hop remove its route, address, control socket and tap; give it time to.
  while kill -0 "$pid" 2>/dev/null && ((tries > 0)); do
    sleep 0.1
    tries=$((tries - 1))
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

start() {
  local hop_limit="${1:-1}" http_tokens="${2:-optional}" tries=300
  trap stop ERR INT TERM
  mkdir -p "$IHLAB_RUN_DIR"
  setsid "$IHLAB_NODE" "$IHLAB_REPO/bin/imds-hop.mjs" serve --interface "$IHLAB_TAP" --hop-limit "$hop_limit" \
    --http-tokens "$http_tokens" --metrics-listen off >"$log" 2>"${log%.log}.err" </dev/null &
  echo $! >"$pidfile"
  until grep -qs '"msg":"serving"' "$log"; do
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "imds-hop exited before serving:" >&2
      cat "${log%.log}.err" >&2
      false
    fi
    tries=$((tries - 1))
    ((tries > 0)) || { echo "imds-hop did not start serving in 30 s" >&2; false; }
    sleep 0.1
  done
  trap - ERR INT TERM
  echo "appliance: imds-hop on ${IHLAB_TAP}, hop limit ${hop_limit}, http-tokens ${http_tokens}"
}

case "${1:-}" in
  start) start "${2:-}" "${3:-}" ;;
  stop) stop ;;
  *) echo "usage: appliance.sh start [HOP_LIMIT] [HTTP_TOKENS] | stop" >&2; exit 2 ;;
esac

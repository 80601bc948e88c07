#!/usr/bin/env bash
# The instance's misconfigured services, all listening on LISTEN_ADDRESS (an address the attacker reaches):
#   :8080 nginx, an open reverse proxy to 169.254.169.254 that adds X-Forwarded-For;
#   :8081 a WAF-like transparent proxy that passes only GET and HEAD;
#   :8082 a web app with an SSRF hole (GET /fetch?url=... fetches any URL and returns the body).
# Usage: services.sh start LISTEN_ADDRESS | stop        (state and logs in $IHLAB_RUN_DIR/services)
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source-path=SCRIPTDIR source=lab-env.sh
source "$here/lab-env.sh"
state="${IHLAB_RUN_DIR}/services"

stop() {
  local pidfile pid
  for pidfile in "$state"/*.pid; do
    [[ -e "$pidfile" ]] || continue
    pid="$(cat "$pidfile")"
    kill "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

start() {
  local listen="${1:?usage: services.sh start LISTEN_ADDRESS}"
  trap stop ERR INT TERM
  mkdir -p "$state/nginx-temp"
  sed -e "s|@STATE@|${state}|g" -e "s|@LISTEN@|${listen}:${IHLAB_PROXY_PORT}|g" \
    -e "s|@UPSTREAM@|${IHLAB_SERVICE_ADDR}|g" "$here/nginx-open-proxy.conf" >"$state/nginx.conf"
  nginx -t -q -e "$state/nginx-error.log" -c "$state/nginx.conf"
  nginx -e "$state/nginx-error.log" -c "$state/nginx.conf"
  setsid python3 "$here/waf-proxy.py" --listen "$listen" --port "$IHLAB_WAF_PORT" \
    --upstream "$IHLAB_SERVICE_ADDR" >"$state/waf.log" 2>&1 </dev/null &
  echo $! >"$state/waf.pid"
  setsid python3 "$here/ssrf-app.py" --listen "$listen" --port "$IHLAB_SSRF_PORT" \
    >"$state/ssrf.log" 2>&1 </dev/null &
  echo $! >"$state/ssrf.pid"
  ihlab_wait_listening "$IHLAB_PROXY_PORT"
  ihlab_wait_listening "$IHLAB_WAF_PORT"
  ihlab_wait_listening "$IHLAB_SSRF_PORT"
  trap - ERR INT TERM
  echo "services: open proxy :${IHLAB_PROXY_PORT}, WAF :${IHLAB_WAF_PORT}, SSRF app :${IHLAB_SSRF_PORT} on ${listen}"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop ;;
  *) echo "usage: services.sh start LISTEN_ADDRESS | stop" >&2; exit 2 ;;
esac

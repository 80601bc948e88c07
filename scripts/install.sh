#!/usr/bin/env bash
# Installs imds-hop on a Debian 12 or 13 host, as root, and puts the `imds-hop` command on PATH. Safe to run again.
#
#   bash scripts/install.sh            what `serve`, the control commands, `capture` and `lab` need (lean)
#   bash scripts/install.sh --test     that, plus everything `npm test` needs (clients, captures, lint, benchmark)
#   bash scripts/install.sh --systemd  that, plus the imds-hop.service unit and /etc/imds-hop/ (combines with --test)
#
# Steps: Debian packages; Node.js >= 20.11 (scripts/install-node.sh); `npm ci` (native addons built against the
# running Node's own headers: nothing is downloaded but packages); `npm pack` (compiles src/ into dist/) and
# `npm install --global` of that package, so `imds-hop` runs compiled JavaScript like any installed tool.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the running appliance and the lab need, and what builds the native addons (cap, raw-socket, ours).
runtime_packages=(
  ca-certificates netbase curl
  iproute2 nftables procps # tap set-up; the lab's namespaces, NAT and forwarding
  libpcap-dev              # the cap package (pcap backend, `capture`) builds against libpcap
  make g++ python3         # node-gyp; python3 also runs the lab's WAF proxy and SSRF app
  nginx                    # the lab's open reverse proxy (installed stopped and disabled: the lab runs its own)
)
# Only what the tests need on top.
test_packages=(
  git mmdebstrap     # the fresh-host test builds a minimal Debian root and clones the project into it
  tcpdump iputils-ping openssl
  python3-botocore   # a real IMDS client (botocore InstanceMetadataFetcher) for the integration tests
  tshark             # proves the lab's pcap files open in standard tools
  shellcheck vagrant # lint and validate the Vagrant lab's provisioning
  wrk                # HTTP load generator for the benchmark
  awscli             # a real IMDS client: the AWS CLI's credential lookup (integration tests)
  cloud-init         # a real IMDS client: its EC2 datasource helper, imported by the tests; never run as a service
)
# Services that come with a package but that imds-hop only starts itself, with its own config and lifetime.
never_started_services=(nginx)

with_tests=false
with_systemd=false
for argument in "$@"; do
  case "$argument" in
    --test) with_tests=true ;;
    --systemd) with_systemd=true ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $argument (see --help)" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (it installs Debian packages and imds-hop needs CAP_NET_ADMIN)" >&2
  exit 1
fi

packages=("${runtime_packages[@]}")
if $with_tests; then packages+=("${test_packages[@]}"); fi
if $with_systemd && ! command -v systemd-analyze >/dev/null 2>&1; then packages+=(systemd); fi
if $with_tests && ! command -v systemd-analyze >/dev/null 2>&1; then packages+=(systemd); fi # the unit's test

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq

# A service installed now for the first time must not start (policy-rc.d: invoke-rc.d and deb-systemd-invoke ask
# it) and is disabled afterwards; one the host already had is left as it was.
newly_installed_services=()
for service in "${never_started_services[@]}"; do
  if ! dpkg-query -W -f '${Status}' "$service" 2>/dev/null | grep -q 'install ok installed'; then
    newly_installed_services+=("$service")
  fi
done
policy_rc_d=/usr/sbin/policy-rc.d
own_policy=false
if [ ${#newly_installed_services[@]} -gt 0 ] && [ ! -e "$policy_rc_d" ]; then
  printf '#!/bin/sh\n# imds-hop install.sh: no service starts during the install\nexit 101\n' > "$policy_rc_d"
  chmod 755 "$policy_rc_d"
  own_policy=true
  trap 'rm -f "$policy_rc_d"' EXIT
fi
apt-get install -y -qq --no-install-recommends "${packages[@]}"
if $own_policy; then rm -f "$policy_rc_d"; trap - EXIT; fi
# cloud-init is installed for its Python modules only: keep it from ever running at boot on this host.
if [ -d /etc/cloud ]; then touch /etc/cloud/cloud-init.disabled; fi
for service in "${newly_installed_services[@]}"; do
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now "$service" >/dev/null 2>&1 || true; fi
  if command -v update-rc.d >/dev/null 2>&1; then update-rc.d "$service" disable >/dev/null 2>&1 || true; fi
done

bash scripts/install-node.sh
hash -r

# cap and raw-socket are built by npm's node-gyp, ours by the install script: all against the running Node's
# headers (--nodedir), never downloaded ones.
npm_config_nodedir=$(node scripts/build-native.mjs --print-nodedir)
export npm_config_nodedir
npm ci --no-audit --no-fund

# The installed command: the packed package (prepack compiles dist/), installed globally like any npm tool.
package_dir=$(mktemp -d)
trap 'rm -rf "$package_dir"' EXIT
npm pack --silent --pack-destination "$package_dir" >/dev/null
# These three compile native code at install; npm 11 wants their install scripts allowed (older npm ignores this).
npm install --global --prefer-offline --no-audit --no-fund --allow-scripts=imds-hop,cap,raw-socket "$package_dir"/imds-hop-*.tgz
rm -rf "$package_dir"
trap - EXIT
hash -r
echo "install.sh: $(command -v imds-hop) (Node.js $(node --version))"

if $with_systemd; then
  bash scripts/install-systemd.sh
fi

#!/usr/bin/env bash
# Installs everything imds-hop needs on a Debian 12 host, as root: system packages, npm dependencies and the
# native addon. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (it installs Debian packages and imds-hop needs CAP_NET_ADMIN)" >&2
  exit 1
fi

packages=(
  iproute2 nftables tcpdump curl iputils-ping procps openssl python3 make g++ # runtime, tests, node-gyp toolchain
  libpcap-dev # the cap package (pcap backend, captures) builds against libpcap
  python3-botocore # a real IMDS client (botocore InstanceMetadataFetcher) for the integration tests
  nginx            # the lab's open reverse proxy and the benchmark's kernel-stack baseline
  tshark           # proves the lab's pcap files open in standard tools
  shellcheck vagrant # lint and validate the Vagrant lab's provisioning
  wrk              # HTTP load generator for the benchmark
  awscli           # the AWS CLI: credential lookup (IMDS) and the seed exercise against the EC2 API (integration tests)
  cloud-init       # a real IMDS client: its EC2 datasource helper, imported by the tests; never run as a service
)
export DEBIAN_FRONTEND=noninteractive
apt-get update
if ! command -v node >/dev/null 2>&1; then
  packages+=(nodejs npm) # Debian's own Node.js when the host has none
fi
apt-get install -y --no-install-recommends "${packages[@]}"
# cloud-init is installed for its Python modules only: keep it from ever running at boot on this host.
if [ -d /etc/cloud ]; then touch /etc/cloud/cloud-init.disabled; fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 18 ]; then
  echo "install.sh: Node.js >= 18 is required (20 recommended), found $(node --version)" >&2
  exit 1
fi

npm ci --no-audit --no-fund
npm run build:native

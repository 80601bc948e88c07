#!/usr/bin/env bash
# Installs systemd/imds-hop.service and a starting config in /etc/imds-hop/ (kept if already there), as root.
# Run by `bash scripts/install.sh --systemd`, after `imds-hop` is on PATH. Does not enable or start the service.
set -euo pipefail
cd "$(dirname "$0")/.."

unit_dir=${IMDS_HOP_UNIT_DIR:-/etc/systemd/system}
config_dir=${IMDS_HOP_CONFIG_DIR:-/etc/imds-hop}

if ! command -v imds-hop >/dev/null 2>&1; then
  echo "install-systemd.sh: imds-hop is not on PATH; run scripts/install.sh first" >&2
  exit 1
fi
install -d -m 0755 "$config_dir"
if [ ! -e "$config_dir/imds-hop.ini" ]; then
  install -m 0644 examples/imds-hop.ini "$config_dir/imds-hop.ini"
fi
install -D -m 0644 systemd/imds-hop.service "$unit_dir/imds-hop.service"
systemd-analyze verify "$unit_dir/imds-hop.service"
if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
echo "install-systemd.sh: $unit_dir/imds-hop.service (config $config_dir/imds-hop.ini); start it with: systemctl enable --now imds-hop"

#!/usr/bin/env bash
# Starts virtlogd and libvirtd when they are not running (CI and containers have no systemd as PID 1 to start
# them), then waits until libvirt answers. Does nothing when libvirt already answers.
set -euo pipefail

answers() { virsh --connect qemu:///system version >/dev/null 2>&1; }

if answers; then
  echo "start-libvirt: libvirtd answers"
  exit 0
fi
[[ $EUID -eq 0 ]] || { echo "start-libvirt.sh: run as root (starts system daemons)" >&2; exit 1; }
if [[ -d /run/systemd/system ]]; then
  systemctl start virtlogd.socket libvirtd.socket libvirtd.service
else
  mkdir -p /run/libvirt
  pgrep -x virtlogd >/dev/null || virtlogd --daemon
  pgrep -x libvirtd >/dev/null || libvirtd --daemon
fi
for _ in $(seq 1 100); do
  answers && { echo "start-libvirt: libvirtd answers"; exit 0; }
  sleep 0.2
done
echo "start-libvirt: libvirtd did not answer within 20 s" >&2
exit 1

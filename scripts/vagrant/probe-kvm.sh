#!/usr/bin/env bash
# Prints the libvirt driver the lab's VMs should use: `kvm` when a guest kernel actually runs under KVM here,
# `qemu` (software emulation) otherwise. /dev/kvm may exist and answer while guests hang (nested virtualisation
# that does not work), so this boots the box's kernel under KVM with no root filesystem: a working KVM reaches the
# kernel's "no root" panic within seconds and QEMU exits (-no-reboot); a hanging one is killed after 30 s.
# Usage: probe-kvm.sh BOX_DIR      (BOX_DIR holds vmlinuz, from build-box.sh)
set -uo pipefail
box_dir="${1:?usage: probe-kvm.sh BOX_DIR}"
if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
  echo "probe-kvm: /dev/kvm is not usable; software emulation" >&2
  echo qemu
  exit 0
fi
log="$(mktemp)"
timeout 30 qemu-system-x86_64 -accel kvm -cpu host -m 128 -nographic -no-reboot -nodefaults -serial stdio \
  -kernel "$box_dir/vmlinuz" -append 'console=ttyS0 panic=-1 root=/dev/ihlab-no-root' </dev/null >"$log" 2>&1
if grep -q 'Kernel panic' "$log"; then
  echo "probe-kvm: a guest kernel runs under KVM" >&2
  echo kvm
else
  echo "probe-kvm: a guest kernel does not get to its panic under KVM in 30 s; software emulation" >&2
  echo qemu
fi
rm -f "$log"

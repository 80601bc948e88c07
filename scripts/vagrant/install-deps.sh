#!/usr/bin/env bash
# Installs what the Vagrant lab needs on a Debian 12 host, as root, from Debian's packages only: Vagrant and its
# libvirt provider, libvirt and QEMU (TCG works without /dev/kvm), mmdebstrap and the tools that turn its root
# filesystem into a box. Safe to run again; installs nothing when everything is there.
set -euo pipefail

packages=(
  vagrant vagrant-libvirt              # Vagrant 2.3.4 and the libvirt provider (0.11.2)
  libvirt-daemon-system libvirt-clients # libvirtd, virtlogd, virsh
  qemu-system-x86 qemu-utils            # the emulator (KVM or TCG) and qemu-img for the box's qcow2
  dnsmasq-base                          # DHCP on the isolated management network
  mmdebstrap e2fsprogs                  # the box's Debian 12 root filesystem, and mkfs.ext4 -d to image it
  rsync openssh-client                  # the rsync synced folder; the demo's ssh
)

if [[ $EUID -ne 0 ]]; then
  echo "install-deps.sh: run as root (it installs Debian packages)" >&2
  exit 1
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: everything installed"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
# Services must not be started by the package scripts: there may be no init to start them (run start-libvirt.sh).
policy_rc=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy_rc ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy_rc"
  chmod +x "$policy_rc"
  created_policy=1
fi
status=0
apt-get install -y --no-install-recommends "${missing[@]}" || status=$?
((created_policy == 0)) || rm -f "$policy_rc"
exit "$status"

#!/usr/bin/env bash
# Removes everything the Vagrant lab puts in libvirt, whatever state a run left it in: `vagrant destroy -f`, then,
# for what an interrupted run may leave, the lab's domains (ihlab-instance, ihlab-attacker) with their volumes, the
# lab's QEMU processes, the networks (ihlab, imds-hop-mgmt), the local box's base volumes, and vagrant/.vagrant.
# Safe to run at any time, any number of times. Usage: cleanup.sh [--keep-box-volume]
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
vagrant_dir="$(cd "$here/../../vagrant" && pwd)"
keep_box_volume=0
[[ ${1:-} == --keep-box-volume ]] && keep_box_volume=1
domains=(ihlab-instance ihlab-attacker)
networks=(ihlab imds-hop-mgmt)
virsh() { command virsh --connect qemu:///system "$@"; }

if [[ -d "$vagrant_dir/.vagrant" ]] && command -v vagrant >/dev/null; then
  (cd "$vagrant_dir" && IMDS_HOP_BOX="${IMDS_HOP_BOX:-local}" VAGRANT_CHECKPOINT_DISABLE=1 \
    timeout 300 vagrant destroy -f) || echo "cleanup: vagrant destroy failed; removing what is left by hand" >&2
fi

if virsh version >/dev/null 2>&1; then
  for domain in "${domains[@]}"; do
    virsh dominfo "$domain" >/dev/null 2>&1 || continue
    virsh destroy "$domain" >/dev/null 2>&1
    virsh undefine "$domain" --remove-all-storage --nvram >/dev/null 2>&1 ||
      virsh undefine "$domain" --remove-all-storage >/dev/null 2>&1
    echo "cleanup: removed domain ${domain}"
  done
  for network in "${networks[@]}"; do
    virsh net-info "$network" >/dev/null 2>&1 || continue
    virsh net-destroy "$network" >/dev/null 2>&1
    virsh net-undefine "$network" >/dev/null 2>&1
    echo "cleanup: removed network ${network}"
  done
  while read -r pool; do
    [[ -n $pool ]] || continue
    while read -r volume _; do
      case "$volume" in
        ihlab-instance* | ihlab-attacker*) ;;
        imds-hop-VAGRANTSLASH-bookworm-local*) ((keep_box_volume)) && continue ;;
        *) continue ;;
      esac
      virsh vol-delete --pool "$pool" "$volume" >/dev/null 2>&1 && echo "cleanup: removed volume ${pool}/${volume}"
    done < <(virsh vol-list --pool "$pool" 2>/dev/null | tail -n +3)
  done < <(virsh pool-list --name 2>/dev/null)
fi

# A QEMU that libvirt lost track of (libvirtd killed mid-run) still carries the domain's name.
for domain in "${domains[@]}"; do
  mapfile -t pids < <(pgrep -f -- "-name guest=${domain}," || true)
  for pid in "${pids[@]}"; do
    kill -KILL "$pid" 2>/dev/null && echo "cleanup: killed leftover QEMU ${pid} (${domain})"
  done
done
rm -rf "$vagrant_dir/.vagrant"
exit 0

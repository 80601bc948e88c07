#!/usr/bin/env bash
# The Vagrant lab end to end, as CI runs it (npm run test:vagrant): installs Vagrant, vagrant-libvirt, libvirt and
# QEMU from Debian's packages if missing, starts virtlogd and libvirtd if they are not running, builds (or reuses)
# the offline box, boots both VMs, runs the demo from the host (`imds-hop lab demo --vagrant`) and destroys
# everything — also on failure, on Ctrl-C and on SIGTERM (trap), and after IMDS_HOP_RING_TIMEOUT seconds (default
# 1800) whatever step it is in.
#
# Output in artifacts/vagrant/ (or $IMDS_HOP_VAGRANT_ARTIFACTS): demo-table.txt/json, the pcaps, the VMs'
# consoles, and timings.json (seconds for each step). Exit status: the demo's (0 = every row as expected).
# Environment: IMDS_HOP_LIBVIRT_DRIVER (kvm|qemu, default: scripts/vagrant/probe-kvm.sh decides),
#   IMDS_HOP_INSTANCE_MEMORY / IMDS_HOP_ATTACKER_MEMORY (MiB), IMDS_HOP_KEEP_VMS=1 (leave the VMs up).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
artifacts="${IMDS_HOP_VAGRANT_ARTIFACTS:-$repo/artifacts/vagrant}"
timeout_s="${IMDS_HOP_RING_TIMEOUT:-1800}"

[[ $EUID -eq 0 ]] || { echo "ring.sh: run as root (libvirt, Debian packages)" >&2; exit 1; }

# The hard timeout: a watchdog that SIGTERMs this script (whose trap then cleans up) and, should the clean-up
# itself hang, kills the whole process group after two more minutes.
if [[ -z ${IMDS_HOP_RING_CHILD:-} ]]; then
  export IMDS_HOP_RING_CHILD=1
  setsid "$0" "$@" &
  ring=$!
  (
    deadline=$((SECONDS + timeout_s))
    while ((SECONDS < deadline)); do
      sleep 5
      kill -0 "$ring" 2>/dev/null || exit 0
    done
    echo "ring: ${timeout_s} s are up; stopping" >&2
    # The whole group: bash runs its trap only once the step in the foreground (vagrant, the demo) has ended.
    kill -TERM -- "-$ring" 2>/dev/null
    sleep 120
    kill -KILL -- "-$ring" 2>/dev/null
    "$here/cleanup.sh"
  ) &
  watchdog=$!
  # shellcheck disable=SC2317 # called by the trap
  forward() { kill -TERM "$ring" 2>/dev/null; }
  trap forward INT TERM
  status=0
  wait "$ring" || status=$?
  # a signal interrupted the first wait: the child is cleaning up; wait for it
  while kill -0 "$ring" 2>/dev/null; do wait "$ring" || status=$?; done
  wait "$watchdog" 2>/dev/null || true # it notices within 5 s that the ring ended
  exit "$status"
fi

mkdir -p "$artifacts/console"
rm -f "$artifacts"/*.pcap "$artifacts"/demo-table.* "$artifacts"/timings.json "$artifacts"/console/*.log
declare -A took=()
step() { # step NAME COMMAND...: runs and times one step
  local name="$1" start=$SECONDS
  shift
  echo "ring: ${name}" >&2
  "$@"
  took[$name]=$((SECONDS - start))
  echo "ring: ${name} took ${took[$name]} s" >&2
}
write_timings() {
  local first=1 name
  {
    printf '{'
    for name in "${!took[@]}"; do
      ((first)) || printf ', '
      first=0
      printf '"%s": %s' "$name" "${took[$name]}"
    done
    printf '}\n'
  } >"$artifacts/timings.json"
}

finish() {
  local status=$?
  trap - EXIT INT TERM
  if [[ ${IMDS_HOP_KEEP_VMS:-} == 1 ]]; then
    echo "ring: leaving the VMs up (IMDS_HOP_KEEP_VMS=1); remove them with scripts/vagrant/cleanup.sh" >&2
  else
    local start=$SECONDS
    "$here/cleanup.sh"
    took[destroy]=$((SECONDS - start))
  fi
  write_timings
  echo "ring: timings (s): $(cat "$artifacts/timings.json")" >&2
  exit "$status"
}
trap finish EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

step install-deps "$here/install-deps.sh"
step start-libvirt "$here/start-libvirt.sh"
"$here/cleanup.sh" # whatever an earlier, killed run left
box_dir=""
build_box() { box_dir="$("$here/build-box.sh")"; }
step build-box build_box
if [[ -z ${IMDS_HOP_LIBVIRT_DRIVER:-} ]]; then
  IMDS_HOP_LIBVIRT_DRIVER="$("$here/probe-kvm.sh" "$box_dir")"
fi
export IMDS_HOP_LIBVIRT_DRIVER IMDS_HOP_BOX=local IMDS_HOP_BOX_DIR="$box_dir" IMDS_HOP_CONSOLE_DIR="$artifacts/console"
export VAGRANT_CHECKPOINT_DISABLE=1 VAGRANT_DEFAULT_PROVIDER=libvirt
echo "ring: libvirt driver ${IMDS_HOP_LIBVIRT_DRIVER}, box ${box_dir}" >&2

cd "$repo/vagrant"
step boot vagrant up --provider=libvirt --no-provision
step provision vagrant provision
step demo node "$repo/bin/imds-hop.mjs" lab demo --vagrant "$repo/vagrant"

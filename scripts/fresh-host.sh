#!/usr/bin/env bash
# The fresh-host check: builds a minimal Debian root (mmdebstrap --variant=minbase, the debian:N image's package
# set; cached), clones this repository into /root/imds-hop in it, and runs the README's first command exactly as
# written there, as root, in a network, mount and PID namespace of its own, until
# `curl http://169.254.169.254/latest/meta-data/instance-id` answers 200 from inside. As root:
#
#   bash scripts/fresh-host.sh [--suite bookworm|trixie] [--name NAME] [--timeout SECONDS]
#
# The namespace reaches Debian's mirror and the npm registry (what the install downloads) through a veth to this
# host and a masquerade of its own; routes inside make 169.254.0.0/16 and 198.18.0.0/15 unreachable, so nothing but
# the appliance inside ever answers the service address. The host's CA certificates and npm registry/proxy settings
# are passed in, nothing else (in particular no nodedir: the fresh host must find its own headers).
# Everything is removed on exit, also on failure or timeout: the PID namespace (every process in it), the mount
# namespace (every mount), the network namespace and veth, the nft table, the unpacked root.
# Prints `fresh-host: ok suite=... seconds=... packages-added=... mb-added=...` on success; exit 1 otherwise.
set -euo pipefail

# All in one function, parsed whole before anything runs: a run is not disturbed when the file changes under it.
main() {
repo=$(cd "$(dirname "$0")/.." && pwd)

suite=bookworm
name=ihfresh$$
timeout_seconds=1800
while [ $# -gt 0 ]; do
  case "$1" in
    --suite) suite=$2; shift 2 ;;
    --name) name=$2; shift 2 ;;
    --timeout) timeout_seconds=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "fresh-host.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "fresh-host.sh: run as root" >&2; exit 1; }
command -v mmdebstrap >/dev/null || { echo "fresh-host.sh: needs mmdebstrap (bash scripts/install.sh --test)" >&2; exit 1; }
[ ${#name} -le 12 ] || { echo "fresh-host.sh: --name at most 12 characters (interface names)" >&2; exit 2; }

case "$suite" in
  bookworm|trixie) ;;
  *) echo "fresh-host.sh: --suite bookworm or trixie" >&2; exit 2 ;;
esac
mirrors=(
  "deb http://deb.debian.org/debian $suite main"
  "deb http://deb.debian.org/debian $suite-updates main"
  "deb http://deb.debian.org/debian-security $suite-security main"
)
cache=${IMDS_HOP_TEST_CACHE:-/var/cache/imds-hop-test}
mkdir -p "$cache"
# The root's inputs decide its name: a change of suite, mirrors or mmdebstrap builds a new one.
key=$(printf '%s\n' "$suite" minbase "${mirrors[@]}" "$(mmdebstrap --version)" | sha256sum | cut -c1-16)
tarball=$cache/rootfs-$suite-minbase-$key.tar
if [ ! -s "$tarball" ]; then
  echo "fresh-host: building a minimal Debian $suite root (mmdebstrap, cached as $tarball)"
  build_started=$SECONDS
  mmdebstrap --quiet --variant=minbase --format=tar "$suite" "$tarball.partial" "${mirrors[@]}"
  mv "$tarball.partial" "$tarball"
  echo "fresh-host: root built in $((SECONDS - build_started)) s"
fi

work=$cache/run-$name
root=$work/root
host_side=${name}h
inside=${name}n
table=imds_hop_$name
forwarding_marker=$cache/forwarding-was-off # the first run that turned forwarding on turns it off again
runner_pid=""

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$runner_pid" ] && kill -0 "$runner_pid" 2>/dev/null; then
    kill -KILL "$runner_pid" 2>/dev/null || true # unshare --kill-child: its PID namespace dies with it
    wait "$runner_pid" 2>/dev/null || true
  fi
  ip netns del "$name" 2>/dev/null || true
  ip link del "$host_side" 2>/dev/null || true
  # Forwarding back as it was once the last concurrent run is done (runs take the lock to decide).
  (
    flock 9
    nft delete table ip "$table" 2>/dev/null || true
    if [ -e "$forwarding_marker" ] && ! nft list tables 2>/dev/null | grep -q ' imds_hop_'; then
      echo 0 > /proc/sys/net/ipv4/ip_forward
      rm -f "$forwarding_marker"
    fi
  ) 9> "$cache/forwarding.lock"
  if [ -f "$root/root/fresh-host-command.log" ] && [ "$status" -ne 0 ]; then
    echo "fresh-host: the command's last lines:"
    tail -n 30 "$root/root/fresh-host-command.log"
  fi
  # The mounts lived only in the runner's mount namespace; refuse to delete through one that is somehow left.
  if grep -q " $work/" /proc/self/mountinfo; then
    echo "fresh-host: mounts left under $work; not deleting it" >&2
  else
    rm -rf --one-file-system "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf --one-file-system "$work"
mkdir -p "$root"
tar -xf "$tarball" -C "$root"
git clone --quiet "$repo" "$root/root/imds-hop"
echo "fresh-host: cloned $(git -C "$root/root/imds-hop" log -1 --format='%h %s') into /root/imds-hop"

# As in the debian:N images (debuerreotype): dpkg does not fsync every file.
echo force-unsafe-io > "$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
# Downloads are kept between runs (the install still fetches through apt and npm; only the bytes come from cache).
apt_archives=$cache/apt-archives-$suite
npm_cache=$cache/npm-cache
mkdir -p "$apt_archives/partial" "$npm_cache" "$root/root/.npm"

# What the host uses to reach the registries: its CA bundle, DNS, npm registry and proxies, apt proxies.
install -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/host-ca-certificates.crt"
cp --remove-destination /etc/resolv.conf "$root/etc/resolv.conf"
apt-config dump | grep -i '::proxy' > "$root/etc/apt/apt.conf.d/90host-proxy" || rm -f "$root/etc/apt/apt.conf.d/90host-proxy"
passed_env=(
  NODE_EXTRA_CA_CERTS=/etc/host-ca-certificates.crt
  npm_config_cafile=/etc/host-ca-certificates.crt
)
if command -v npm >/dev/null; then
  for setting in registry proxy https-proxy noproxy; do
    value=$(npm config get "$setting" 2>/dev/null || true)
    if [ -n "$value" ] && [ "$value" != null ] && [ "$value" != undefined ]; then
      passed_env+=("npm_config_${setting//-/_}=$value")
    fi
  done
fi

# Its own network namespace with a way out to the registries (masqueraded, like a container's).
subnet_octet=$(( ($$ % 63) * 4 ))
host_address=198.19.255.$((subnet_octet + 1))
inside_address=198.19.255.$((subnet_octet + 2))
ip netns add "$name"
ip link add "$host_side" type veth peer name "$inside"
ip link set "$inside" netns "$name"
ip addr add "$host_address/30" dev "$host_side"
ip link set "$host_side" up
ip -n "$name" link set lo up
ip -n "$name" addr add "$inside_address/30" dev "$inside"
ip -n "$name" link set "$inside" up
ip -n "$name" route add default via "$host_address"
# The service and the tests' ranges never leave the namespace: before `serve` routes 169.254.169.254 into its
# tap, curl's attempts end here.
ip -n "$name" route add unreachable 169.254.0.0/16
ip -n "$name" route add unreachable 198.18.0.0/15
nft -f - <<EOF
table ip $table {
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "$host_side" ip daddr { 169.254.0.0/16, 198.18.0.0/15, 127.0.0.0/8 } drop
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr $inside_address oifname != "$host_side" masquerade
  }
}
EOF
(
  flock 9
  if [ "$(cat /proc/sys/net/ipv4/ip_forward)" = 0 ]; then
    touch "$forwarding_marker"
    echo 1 > /proc/sys/net/ipv4/ip_forward
  fi
) 9> "$cache/forwarding.lock"

# Inside the root: the README's first command, verbatim, then curl until 200; figures on the way.
# shellcheck disable=SC2016 # expanded inside the root, not here
inner_script='
set -u
cd /root/imds-hop
command_line=$(awk "/^\`\`\`sh/ { inside = 1; next } inside { print; exit }" README.md | sed "s/[[:space:]]\+#.*$//")
echo "fresh-host: running the README'"'"'s first command: $command_line"
packages_before=$(dpkg-query -W | wc -l)
megabytes_before=$(du -sxm --exclude=/root/.npm --exclude=/var/cache/apt/archives / | cut -f1)
started=$(date +%s)
setsid bash -c "$command_line" > /root/fresh-host-command.log 2>&1 &
command_pid=$!
status=""
while :; do
  if ! kill -0 "$command_pid" 2>/dev/null; then
    echo "fresh-host: the command exited before the service answered; its last lines:"; tail -n 40 /root/fresh-host-command.log
    exit 1
  fi
  if command -v curl >/dev/null 2>&1; then
    status=$(curl -s -o /tmp/instance-id -w "%{http_code}" --max-time 3 http://169.254.169.254/latest/meta-data/instance-id || true)
    [ "$status" = 200 ] && break
  fi
  sleep 2
done
seconds=$(( $(date +%s) - started ))
echo "fresh-host: curl http://169.254.169.254/latest/meta-data/instance-id -> $status $(cat /tmp/instance-id)"
failed=0
installed_command=$(readlink -f "$(command -v imds-hop)")
package_dir=$(dirname "$(dirname "$installed_command")")
if [ -e "$package_dir/src" ] || [ ! -f "$package_dir/dist/cli/main.js" ]; then
  echo "fresh-host: FAIL imds-hop on PATH ($installed_command) is not the packed, compiled package"; failed=1
fi
if pgrep -x nginx >/dev/null; then echo "fresh-host: FAIL nginx left running by the install"; failed=1; fi
echo "fresh-host: node $(node --version) at $(command -v node); imds-hop at $(command -v imds-hop) -> $installed_command"
packages_added=$(( $(dpkg-query -W | wc -l) - packages_before ))
megabytes_added=$(( $(du -sxm --exclude=/root/.npm --exclude=/var/cache/apt/archives / | cut -f1) - megabytes_before ))
echo "fresh-host: of which the checkout $(du -sm /root/imds-hop | cut -f1) MB (node_modules $(du -sm /root/imds-hop/node_modules | cut -f1) MB), /usr/local $(du -sm /usr/local | cut -f1) MB"
kill -TERM -- "-$command_pid" 2>/dev/null
for _ in $(seq 1 50); do kill -0 "$command_pid" 2>/dev/null || break; sleep 0.2; done
if [ "$failed" = 0 ]; then
  echo "fresh-host: ok suite=$SUITE seconds=$seconds packages-added=$packages_added mb-added=$megabytes_added"
fi
exit "$failed"
'
started=$SECONDS
# ip netns exec: the network namespace; unshare: mount and PID namespaces (--kill-child: every process inside
# dies with the runner). /dev is bound for /dev/net/tun; /proc, /sys, /run and /tmp are the namespace's own.
# shellcheck disable=SC2016 # the runner's script expands its own arguments
timeout --kill-after=10 "$timeout_seconds" \
  env APT_ARCHIVES="$apt_archives" NPM_CACHE="$npm_cache" ip netns exec "$name" unshare --mount --propagation private --pid --fork --kill-child \
  bash -c '
    set -e
    root=$1; shift
    mount --rbind /dev "$root/dev"
    mount -t proc proc "$root/proc"
    mount -t sysfs sysfs "$root/sys"
    mount -t tmpfs tmpfs "$root/run"
    mount -t tmpfs tmpfs "$root/tmp"
    mount --bind "$APT_ARCHIVES" "$root/var/cache/apt/archives"
    mount --bind "$NPM_CACHE" "$root/root/.npm"
    exec chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb CI=true \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
  ' fresh-host-runner "$root" SUITE="$suite" "${passed_env[@]}" bash -c "$inner_script" &
runner_pid=$!
set +e
wait "$runner_pid"
status=$?
set -e
runner_pid=""
echo "fresh-host: $suite finished with status $status in $((SECONDS - started)) s"
[ "$status" -eq 0 ]
}

main "$@"

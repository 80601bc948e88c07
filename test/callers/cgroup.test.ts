// Container ids from cgroup paths as each runtime writes them, and the cgroup a process lives in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cgroupPathOf, containerOf, containerOfPath } from '../../src/callers/cgroup.ts';

const ID = 'a'.repeat(12) + '0123456789abcdef'.repeat(3) + 'b'.repeat(4);

test('each runtime: the container id from its cgroup path', () => {
  const cases: Array<[string, string, string]> = [
    [`/system.slice/docker-${ID}.scope`, 'docker', ID],
    [`/docker/${ID}`, 'docker', ID],
    [
      `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/cri-containerd-${ID}.scope`,
      'containerd',
      ID,
    ],
    [`/kubepods/besteffort/pod0b7f2c5e-1b2a-4c3d-9e8f-123456789abc/${ID}`, 'containerd', ID],
    [`/kubepods.slice/kubepods-pod1.slice/crio-${ID}.scope`, 'cri-o', ID],
    [`/machine.slice/libpod-${ID}.scope`, 'podman', ID],
    [`/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope/container`, 'podman', ID],
    [`/libpod_parent/${ID}`, 'podman', ID],
    ['/lxc.payload.web1', 'lxc', 'web1'],
    ['/system.slice/run-r3f1c2d.scope', 'systemd', 'run-r3f1c2d.scope'],
    ['/system.slice/cloud-init.service', 'systemd', 'cloud-init.service'],
  ];
  for (const [path, runtime, id] of cases) assert.deepEqual(containerOfPath(path), { runtime, id }, path);
});

test('no container: the root, a login session, a plain directory', () => {
  for (const path of ['/', '/user.slice/user-0.slice/session-3.scope', '/imds-hop-test', '/init.scope']) {
    assert.equal(containerOfPath(path), undefined, path);
  }
});

test('the v2 path wins; in a hybrid hierarchy an unmanaged process is found through its v1 paths', () => {
  assert.equal(cgroupPathOf('0::/system.slice/ssh.service\n'), '/system.slice/ssh.service');
  const hybrid = `12:memory:/docker/${ID}\n1:name=systemd:/docker/${ID}\n0::/\n`;
  assert.equal(cgroupPathOf(hybrid), `/docker/${ID}`);
  assert.deepEqual(containerOf(hybrid), { runtime: 'docker', id: ID });
  assert.equal(cgroupPathOf('0::/\n'), '/');
  assert.equal(cgroupPathOf(''), undefined);
});

test('a container named in a v1 hierarchy wins over a systemd unit in the v2 one', () => {
  const text = `4:memory:/docker/${ID}\n0::/system.slice/containerd.service\n`;
  assert.deepEqual(containerOf(text), { runtime: 'docker', id: ID });
  assert.deepEqual(containerOf('0::/system.slice/nginx.service\n'), { runtime: 'systemd', id: 'nginx.service' });
});

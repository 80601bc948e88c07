// The resolver's decisions over scripted system answers: a local process, a process gone before it was named,
// a client forwarded through NAT, and a connection nothing more is known about.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallerResolver, formatAddress, type ConnectionSource } from '../../src/callers/resolver.ts';
import type { LocalSocket, SystemProbes } from '../../src/callers/system-probes.ts';

const SOURCE: ConnectionSource = {
  client: { address: new Uint8Array([169, 254, 169, 253]), port: 41000 },
  service: { address: new Uint8Array([169, 254, 169, 254]), port: 80 },
  clientText: '169.254.169.253',
  mac: '02:00:00:00:00:01',
};
const ID = 'c'.repeat(64);

function probes(local: LocalSocket, original?: Uint8Array): SystemProbes {
  return {
    start: async () => ({ method: 'fd-search', reason: 'scripted' }),
    stop: () => undefined,
    counters: {},
    localSocket: async () => local,
    conntrackOriginal: async () =>
      original ? { ok: true, value: { address: original, port: 5 } } : { ok: false, reason: 'not-found' },
    netnsName: async (link) => (link === 'net:[7]' ? 'instance' : undefined),
    netnsOwningAddress: async (address) => (address === '198.18.3.2' ? 'client-ns' : undefined),
    cgroupPathById: async (id) => (id === 99n ? `/system.slice/docker-${ID}.scope` : undefined),
  };
}

const found = { ok: true, value: { inode: 5, cookie: 77n, uid: 1000, cgroupId: 99n, state: 1 } } as const;

test('a local process: command, script, uid, cgroup, container, netns', async () => {
  const resolver = new CallerResolver(
    'local',
    probes({
      socket: found,
      process: {
        pid: 42,
        command: 'python3',
        executable: '/usr/bin/python3.11',
        argv: ['python3', '-u', '/srv/app/fetch.py', '--x'],
        uid: 1000,
        cgroupText: `0::/system.slice/docker-${ID}.scope\n`,
        netnsLink: 'net:[7]',
      },
    }),
  );
  const identity = await resolver.resolve(SOURCE);
  assert.deepEqual(identity, {
    kind: 'process',
    name: 'python3 fetch.py',
    pid: 42,
    command: 'python3',
    executable: '/usr/bin/python3.11',
    commandLine: 'python3 -u /srv/app/fetch.py --x',
    uid: 1000,
    cgroup: `/system.slice/docker-${ID}.scope`,
    container: { runtime: 'docker', id: ID },
    netns: 'instance net:[7]',
    sourceAddress: '169.254.169.253',
    sourceMac: '02:00:00:00:00:01',
  });
  assert.equal(resolver.counters.process, 1);
});

test('a socket whose process exited: uid and cgroup from the socket itself, container still named', async () => {
  const identity = await new CallerResolver('local', probes({ socket: found })).resolve(SOURCE);
  assert.equal(identity.kind, 'unresolved');
  assert.equal(identity.uid, 1000);
  assert.deepEqual(identity.container, { runtime: 'docker', id: ID });
});

test('a process the connect hook saw connect but gone before its /proc files were read: its comm and pid', async () => {
  const identity = await new CallerResolver('local', probes({ exited: { pid: 4242, comm: 'curl' } })).resolve(SOURCE);
  assert.deepEqual(identity, {
    kind: 'unresolved',
    name: 'curl (exited before it was read)',
    pid: 4242,
    command: 'curl',
    uid: undefined,
    sourceAddress: '169.254.169.253',
    sourceMac: '02:00:00:00:00:01',
    note: 'the connect hook saw this process connect; it exited before its /proc files could be read',
  });
});

test('no local socket, a NAT entry: the original source and the namespace that owns it', async () => {
  const identity = await new CallerResolver(
    'local',
    probes({ socket: { ok: false, reason: 'not-found' } }, new Uint8Array([198, 18, 3, 2])),
  ).resolve(SOURCE);
  assert.deepEqual(
    { kind: identity.kind, name: identity.name, originalAddress: identity.originalAddress, netns: identity.netns },
    { kind: 'forwarded', name: '198.18.3.2 (netns client-ns)', originalAddress: '198.18.3.2', netns: 'client-ns' },
  );
});

test('nothing found, the pcap backend, a failing probe: the address and MAC', async () => {
  const none = await new CallerResolver('local', probes({ socket: { ok: false, reason: 'not-found' } })).resolve(
    SOURCE,
  );
  assert.equal(none.kind, 'address');
  const pcap = await new CallerResolver('address', probes({ socket: found })).resolve(SOURCE);
  assert.deepEqual(pcap, {
    kind: 'address',
    name: '169.254.169.253',
    sourceAddress: '169.254.169.253',
    sourceMac: '02:00:00:00:00:01',
  });
  const failing = { ...probes({ socket: found }), localSocket: async () => Promise.reject(new Error('EPERM')) };
  const failed = await new CallerResolver('local', failing).resolve(SOURCE);
  assert.equal(failed.kind, 'address');
  assert.match(failed.note ?? '', /EPERM/);
});

test('IPv6 addresses are written as RFC 5952 says', () => {
  const address = new Uint8Array(16);
  address.set([0xfd, 0x00, 0x0e, 0xc2], 0);
  address[15] = 0x53;
  assert.equal(formatAddress(address), 'fd00:ec2::53');
  assert.equal(formatAddress(new Uint8Array(16)), '::');
});

test('a process the probes know at once is named at once from its second connection on; a throwing probe fails it', async () => {
  const python: LocalSocket['process'] = {
    pid: 42,
    command: 'python3',
    executable: '/usr/bin/python3.11',
    argv: ['python3', 'fetch.py'],
    uid: 1000,
    cgroupText: '0::/user.slice\n',
    netnsLink: undefined,
  };
  const resolver = new CallerResolver('local', { ...probes({}), localSocket: () => ({ process: python }) });
  const first = resolver.resolve(SOURCE);
  assert.ok(first instanceof Promise, 'the first connection works its identity out');
  const identity = await first;
  const second = resolver.resolve(SOURCE);
  assert.equal(second, identity, 'the second gets the same identity, without a promise');
  const fromElsewhere = resolver.resolve({ ...SOURCE, clientText: '169.254.169.252' });
  assert.ok(fromElsewhere instanceof Promise, 'another source address is another identity');
  assert.equal((await fromElsewhere).kind, 'process');
  assert.deepEqual([resolver.counters.resolved, resolver.counters.process], [3, 3]);

  const throwing = new CallerResolver('local', {
    ...probes({}),
    localSocket: () => {
      throw new Error('EBADF');
    },
  });
  const failed = throwing.resolve(SOURCE);
  assert.ok(!(failed instanceof Promise));
  assert.match(failed.note ?? '', /EBADF/);
  assert.equal(throwing.counters.failed, 1);
});

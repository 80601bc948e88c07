// The connect hook against the kernel (root): attached to the cgroup v2 root, it names the process that connected
// a socket — this one, and a child process that is another program — by one map lookup, with no fd-table search;
// a process read a moment ago is named at once; after stop() a new connection is searched for again. Loopback only.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { LinuxProbes } from '../../src/callers/system-probes.ts';

const LOOPBACK = new Uint8Array([127, 0, 0, 1]);

async function withServer(run: (port: number, accepted: () => Promise<Socket>) => Promise<void>): Promise<void> {
  const sockets: Socket[] = [];
  const waiting: Array<(socket: Socket) => void> = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    waiting.shift()?.(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    await run((server.address() as AddressInfo).port, () => new Promise((resolve) => waiting.push(resolve)));
  } finally {
    for (const socket of sockets) socket.destroy();
    server.close();
  }
}

test('the connect hook names this process and a child program by 4-tuple, without sock_diag or a search', async (t) => {
  const probes = new LinuxProbes();
  const method = await probes.start(true);
  t.after(() => probes.stop());
  assert.deepEqual(method, {
    method: 'connect-hook',
    cgroup: method.method === 'connect-hook' ? method.cgroup : '',
    records: 'pid-and-comm',
    tuples: 'attached',
    slots: 'mapped',
  });
  await withServer(async (port, accepted) => {
    const own = connect(port, '127.0.0.1');
    await once(own, 'connect');
    const ownLocal = { address: LOOPBACK, port: own.localPort as number };
    const mine = await probes.localSocket(ownLocal, { address: LOOPBACK, port });
    own.destroy();
    assert.equal(mine.process?.pid, process.pid);
    assert.equal(mine.process?.command, 'node');
    // This process's next connection is named at once: its /proc files were read a moment ago.
    const again = connect(port, '127.0.0.1');
    await once(again, 'connect');
    const atOnce = probes.localSocket(
      { address: LOOPBACK, port: again.localPort as number },
      { address: LOOPBACK, port },
    );
    again.destroy();
    assert.ok(!(atOnce instanceof Promise), 'a process read within the TTL is answered without a promise');
    assert.equal(atOnce.process, mine.process);

    const childAccepted = accepted();
    const child = spawn(
      '/usr/bin/python3', // Debian's, not a shim that might run it as another process
      ['-c', `import socket,sys,time; s=socket.create_connection(("127.0.0.1",${port})); sys.stdin.read()`],
      { stdio: ['pipe', 'ignore', 'inherit'] },
    );
    t.after(() => child.kill());
    const socket = await childAccepted;
    const theirs = await probes.localSocket(
      { address: LOOPBACK, port: socket.remotePort as number },
      { address: LOOPBACK, port },
    );
    child.stdin?.end();
    assert.equal(theirs.process?.pid, child.pid);
    assert.equal(theirs.process?.command, 'python3');
    assert.deepEqual(theirs.process?.argv.slice(0, 2), ['/usr/bin/python3', '-c']);
    assert.equal(probes.counters['hook-owners-by-tuple'], 3);
    // Mostly without a bpf() syscall either: read from the slots. (Another test process's connect whose port shares
    // the python child's slot, during the child's start, sends that lookup to the map — still by 4-tuple.)
    assert.ok((probes.counters['hook-owners-from-slots'] ?? 0) >= 1, JSON.stringify(probes.counters));
    assert.equal(probes.counters['hook-owners'], 0); // no sock_diag exchange was needed
    assert.equal(probes.counters['fd-searches'], 0);
  });
});

test('IPv6: a connection over ::1 is found by its 16-byte addresses in the 4-tuple key', async (t) => {
  const probes = new LinuxProbes();
  assert.equal((await probes.start(true)).method, 'connect-hook');
  t.after(() => probes.stop());
  const server = createServer();
  server.listen(0, '::1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const own = connect(port, '::1');
  try {
    await once(own, 'connect');
    const loopback6 = new Uint8Array(16);
    loopback6[15] = 1;
    const found = await probes.localSocket(
      { address: loopback6, port: own.localPort as number },
      { address: loopback6, port },
    );
    assert.equal(found.process?.pid, process.pid);
    assert.equal(probes.counters['hook-owners-by-tuple'], 1);
  } finally {
    own.destroy();
    server.close();
  }
});

/** Connects from 127.0.0.1:localPort; undefined when that port is taken. */
async function connectFrom(localPort: number, port: number): Promise<Socket | undefined> {
  const socket = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.1', localPort });
  const [outcome] = await Promise.race([once(socket, 'connect'), once(socket, 'error')]);
  if (outcome instanceof Error) return (socket.destroy(), undefined);
  return socket;
}

test('two connections sharing a slot (client ports 1024 apart): the one overwritten is found in the 4-tuple map', async (t) => {
  const probes = new LinuxProbes();
  assert.equal((await probes.start(true)).method, 'connect-hook');
  t.after(() => probes.stop());
  await withServer(async (port) => {
    const sockets: Socket[] = [];
    try {
      let pair: [Socket, Socket] | undefined;
      for (let attempt = 0; attempt < 50 && !pair; attempt++) {
        const first = 20_000 + Math.floor(Math.random() * 20_000);
        const older = await connectFrom(first, port);
        const newer = older && (await connectFrom(first + 1024, port));
        for (const socket of [older, newer]) if (socket) sockets.push(socket);
        if (older && newer) pair = [older, newer];
      }
      assert.ok(pair, 'no two free client ports 1024 apart in 50 tries');
      const [older, newer] = pair;
      const lookup = (socket: Socket) =>
        probes.localSocket({ address: LOOPBACK, port: socket.localPort as number }, { address: LOOPBACK, port });
      assert.equal((await lookup(newer)).process?.pid, process.pid);
      assert.equal(probes.counters['hook-owners-from-slots'], 1);
      assert.equal((await lookup(older)).process?.pid, process.pid);
      assert.equal(probes.counters['hook-owners-from-slots'], 1); // its slot holds the newer connection
      assert.equal(probes.counters['hook-owners-by-tuple'], 2);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });
});

test('after stop() the hook sees nothing: a new connection is found by searching fd tables', async () => {
  const probes = new LinuxProbes();
  assert.equal((await probes.start(true)).method, 'connect-hook');
  probes.stop();
  await withServer(async (port) => {
    const own = connect(port, '127.0.0.1');
    await once(own, 'connect');
    const found = await probes.localSocket(
      { address: LOOPBACK, port: own.localPort as number },
      { address: LOOPBACK, port },
    );
    own.destroy();
    assert.equal(found.process?.pid, process.pid);
    assert.equal(probes.counters['hook-owners'], 0);
    assert.equal(probes.counters['fd-searches'], 1);
  });
});

test('--callers fd-search never attaches the hook, and says so', async () => {
  const probes = new LinuxProbes();
  assert.deepEqual(await probes.start(false), {
    method: 'fd-search',
    reason: 'the connect hook is off (--callers fd-search)',
  });
  probes.stop();
});

// The connect hook against the kernel (root): attached to the cgroup v2 root, it names the process that connected
// a socket — this one, and a child process that is another program — by one map lookup, with no fd-table search;
// after stop() a new connection is searched for again. Loopback only.
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
  });
  await withServer(async (port, accepted) => {
    const own = connect(port, '127.0.0.1');
    await once(own, 'connect');
    const ownLocal = { address: LOOPBACK, port: own.localPort as number };
    const mine = await probes.localSocket(ownLocal, { address: LOOPBACK, port });
    own.destroy();
    assert.equal(mine.process?.pid, process.pid);
    assert.equal(mine.process?.command, 'node');

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
    assert.equal(probes.counters['hook-owners-by-tuple'], 2);
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

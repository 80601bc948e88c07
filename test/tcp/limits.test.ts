// Bounded everything: past each limit new work is refused (RST or drop) and counted, and the table never grows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TcpStack } from '../../src/tcp/index.ts';
import { Client, SERVER_ADDR, bytes, expectNothingSent, expectSegment, testConfig, transmits } from './helpers.ts';

describe('limits', () => {
  it('drops SYNs past maxHalfOpen, counts them, and accepts again once a handshake completes', () => {
    const config = testConfig({ maxHalfOpen: 3 });
    const stack = new TcpStack(config);
    const clients = [0, 1, 2, 3].map((i) => new Client(config, 5000 * (i + 1), 41_000 + i, stack));
    for (const client of clients.slice(0, 3)) expectSegment(client.sendSyn(), { control: 'syn' });
    expectNothingSent(clients[3]!.sendSyn());
    assert.equal(stack.halfOpenCount(), 3);
    assert.equal(stack.counters['syn-dropped-half-open-full'], 1);

    const completing = clients[0]!;
    const accepted = completing.deliver();
    assert.ok(accepted.some((a) => a.kind === 'accepted'));
    assert.equal(stack.halfOpenCount(), 2);
    // The dropped client retries its SYN (as a kernel does) and now gets in.
    expectSegment(clients[3]!.sendSyn(), { control: 'syn' });
    assert.equal(stack.halfOpenCount(), 3);
  });

  it('refuses SYNs past maxConnections with a RST, and counts them', () => {
    const config = testConfig({ maxConnections: 2 });
    const stack = new TcpStack(config);
    const clients = [0, 1, 2].map((i) => new Client(config, 7000 * (i + 1), 42_000 + i, stack));
    clients[0]!.handshake();
    clients[1]!.handshake();
    assert.equal(stack.connectionCount(), 2);
    const refused = clients[2]!.deliver({
      seq: clients[2]!.isn,
      ack: undefined,
      control: 'syn',
      options: { mss: 1460 },
    });
    expectSegment(refused, { control: 'rst', ack: (clients[2]!.isn + 1) >>> 0 });
    assert.equal(stack.counters['syn-refused-max-connections'], 1);
    assert.equal(stack.connectionCount(), 2);
    assert.equal(stack.halfOpenCount(), 0);
  });

  it('resets a handshake whose ACK arrives after the table filled up', () => {
    const config = testConfig({ maxConnections: 1 });
    const stack = new TcpStack(config);
    const first = new Client(config, 1000, 43_000, stack);
    const second = new Client(config, 2000, 43_001, stack);
    expectSegment(first.sendSyn(), { control: 'syn' });
    expectSegment(second.sendSyn(), { control: 'syn' });
    assert.ok(first.deliver().some((a) => a.kind === 'accepted'));
    const late = second.deliver();
    assert.ok(!late.some((a) => a.kind === 'accepted'));
    expectSegment(late, { control: 'rst' });
    assert.equal(stack.counters['handshake-refused-max-connections'], 1);
    assert.equal(stack.connectionCount(), 1);
  });

  it('refuses send() past maxSendBuffer while the peer does not read, keeping what was queued', () => {
    const config = testConfig({ maxSendBuffer: 4096 });
    const client = new Client(config);
    client.handshake({ mss: 1460 }, 0); // the peer advertises a zero window: nothing can leave
    const queued = client.stack.send(client.id, bytes(4096), {}, client.now);
    assert.ok(queued.ok);
    assert.equal(transmits(queued.actions).length, 0);
    const refused = client.stack.send(client.id, bytes(1), {}, client.now);
    assert.deepEqual(refused, { ok: false, reason: 'buffer-full' });
    assert.equal(client.stack.counters['send-refused-buffer-full'], 1);
    assert.equal(client.stack.bufferedSendBytes(client.id), 4096);
  });

  it('many connections from many ports: the table holds exactly the configured bound', () => {
    const config = testConfig({ maxConnections: 50, maxHalfOpen: 50 });
    const stack = new TcpStack(config);
    let refused = 0;
    for (let i = 0; i < 80; i += 1) {
      const client = new Client(config, 100_000 * (i + 1), 20_000 + i, stack);
      const reply = client.sendSyn();
      if (transmits(reply)[0]?.segment.control === 'rst') {
        refused += 1;
        continue;
      }
      client.deliver();
    }
    assert.equal(stack.connectionCount(), 50);
    assert.equal(refused, 30);
  });
  it('TIME-WAIT entries do not count against maxConnections; past maxTimeWait the oldest is dropped', () => {
    const config = testConfig({ maxConnections: 2, maxTimeWait: 3 });
    const stack = new TcpStack(config);
    // Five connections closed by us first, each left in TIME-WAIT: only the three newest are kept.
    for (let i = 0; i < 5; i += 1) {
      const client = new Client(config, 10_000 * (i + 1), 30_000 + i, stack);
      client.handshake();
      client.ackAll(stack.close(client.id, client.now));
      client.sendFin();
      assert.equal(client.state(), 'time-wait');
    }
    assert.equal(stack.timeWaitCount(), 3);
    assert.equal(stack.connectionCount(), 3);
    assert.equal(stack.counters['time-wait-evicted'], 2);
    // The table is "full" of TIME-WAIT, yet two live connections still get in.
    for (let i = 0; i < 2; i += 1) {
      const client = new Client(config, 900_000 * (i + 1), 31_000 + i, stack);
      expectSegment(client.sendSyn(), { control: 'syn' });
      assert.ok(client.deliver().some((a) => a.kind === 'accepted'));
    }
    assert.equal(stack.counters['syn-refused-max-connections'], undefined);
  });
});

describe('MSS per local address', () => {
  it('advertises the MSS configured for the local address, and the default elsewhere', () => {
    const ipv6Like = new Client(testConfig({ mss: 1460, mssByLocalAddress: new Map([[SERVER_ADDR, 1440]]) }));
    const synAck = transmits(ipv6Like.sendSyn({ mss: 1460 }))[0];
    assert.equal(synAck?.segment.options.mss, 1440);
    const plain = new Client(testConfig({ mss: 1460, mssByLocalAddress: new Map([[SERVER_ADDR + 1, 1440]]) }));
    assert.equal(transmits(plain.sendSyn({ mss: 1460 }))[0]?.segment.options.mss, 1460);
  });
});

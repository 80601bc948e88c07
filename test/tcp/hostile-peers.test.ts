// Peers that hold resources without moving: the send (user) timeout, the budget shared by every connection, the
// application's deadline (used for the request-header timeout) and what an ICMP error may quote.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TcpStack } from '../../src/tcp/index.ts';
import {
  CLIENT_ADDR,
  Client,
  SERVER_ADDR,
  SERVER_PORT,
  bytes,
  expectSegment,
  testConfig,
  transmits,
} from './helpers.ts';

describe('send timeout (TCP_USER_TIMEOUT, RFC 5482)', () => {
  it('resets a peer that answers every window probe with a zero window but never reads', () => {
    const client = new Client(testConfig({ sendTimeoutMs: 30_000 }));
    client.handshake({ mss: 1460 }, 0);
    client.send(bytes(5000));
    let reset = false;
    for (let step = 0; step < 400 && !reset; step += 1) {
      const actions = client.advance(100);
      for (const t of transmits(actions)) {
        if (t.segment.control === 'rst') reset = true;
        // The peer answers each probe: alive, window still zero.
        else client.deliver({ window: 0 });
      }
      if (actions.some((a) => a.kind === 'closed' && a.reason === 'send-timeout')) reset = true;
    }
    assert.ok(reset, 'reset within the send timeout');
    assert.ok(client.now >= 30_000 && client.now <= 30_100, `reset at ${client.now} ms`);
    assert.equal(client.stack.counters['connections-reset-send-timeout'], 1);
    assert.equal(client.stack.connectionCount(), 0);
    assert.equal(client.stack.bufferedBytes(), 0, 'its buffer is returned to the shared budget');
  });

  it('never fires while the peer keeps acknowledging, however long the transfer', () => {
    const client = new Client(testConfig({ sendTimeoutMs: 1_000 }));
    client.handshake();
    for (let i = 0; i < 50; i += 1) {
      const sent = client.send(bytes(1460));
      client.advance(500);
      client.ackAll(sent);
    }
    assert.equal(client.state(), 'established');
    assert.equal(client.stack.counters['connections-reset-send-timeout'], undefined);
  });

  it('a FIN sent after a long idle spell gets the whole timeout, not one measured from the last ACK', () => {
    const client = new Client(testConfig({ sendTimeoutMs: 1_000, idleTimeoutMs: 600_000 }));
    client.handshake();
    client.ackAll(client.send(bytes(10)));
    client.now += 100_000;
    const fin = client.stack.close(client.id, client.now);
    expectSegment(fin, { control: 'fin' });
    assert.ok(!transmits(client.advance(500)).some((t) => t.segment.control === 'rst'));
  });
});

describe('buffer budget shared by every connection', () => {
  it('refuses send() once all connections together hold maxBufferedBytes, and frees it as they go', () => {
    const config = testConfig({ maxBufferedBytes: 10_000, maxSendBuffer: 8_000 });
    const stack = new TcpStack(config);
    const a = new Client(config, 1000, 41_000, stack);
    const b = new Client(config, 2000, 41_001, stack);
    a.handshake({ mss: 1460 }, 0);
    b.handshake({ mss: 1460 }, 0);
    assert.ok(stack.send(a.id, bytes(6_000), {}, 0).ok);
    assert.deepEqual(stack.send(b.id, bytes(6_000), {}, 0), { ok: false, reason: 'buffer-full' });
    assert.equal(stack.counters['send-refused-global-budget'], 1);
    assert.equal(stack.bufferedBytes(), 6_000);
    stack.abort(a.id, 0);
    assert.equal(stack.bufferedBytes(), 0);
    assert.ok(stack.send(b.id, bytes(6_000), {}, 0).ok);
  });

  it('counts out-of-order bytes against the same budget', () => {
    const config = testConfig({ maxBufferedBytes: 100 });
    const client = new Client(config);
    client.handshake();
    client.deliver({ seq: client.seq + 10, payload: bytes(80) });
    assert.equal(client.stack.bufferedBytes(), 80);
    client.deliver({ seq: client.seq + 200, payload: bytes(80) });
    assert.equal(client.stack.counters['segments-dropped-reassembly-full'], 1);
    assert.equal(client.stack.bufferedBytes(), 80);
    client.deliver({ seq: client.seq, payload: bytes(10) });
    assert.equal(client.stack.bufferedBytes(), 0);
  });
});

describe('application deadline', () => {
  it('reports the deadline once when it passes, and not after it was cleared', () => {
    const client = new Client();
    client.handshake();
    client.stack.setApplicationDeadline(client.id, 5_000);
    assert.equal(client.stack.nextDeadline(), 5_000);
    assert.ok(!client.advance(4_000).some((a) => a.kind === 'application-deadline'));
    assert.deepEqual(
      client.advance(1_000).filter((a) => a.kind === 'application-deadline'),
      [{ kind: 'application-deadline', id: client.id }],
    );
    assert.ok(!client.advance(10_000).some((a) => a.kind === 'application-deadline'));
    client.stack.setApplicationDeadline(client.id, client.now + 100);
    client.stack.setApplicationDeadline(client.id, undefined);
    assert.ok(!client.advance(1_000).some((a) => a.kind === 'application-deadline'));
  });
});

describe('ICMP errors quoting our segments', () => {
  it('match only sequence numbers sent and not yet acknowledged on that very connection', () => {
    const client = new Client();
    client.handshake();
    const sent = client.send(bytes(100));
    const seq = transmits(sent)[0]!.segment.seq;
    const matches = (s: number, port = client.port) =>
      client.stack.sentSequenceMatches(SERVER_ADDR, SERVER_PORT, CLIENT_ADDR, port, s);
    assert.ok(matches(seq));
    assert.ok(matches(seq + 99));
    assert.ok(!matches(seq + 100), 'never sent');
    assert.ok(!matches(seq - 1), 'acknowledged (the SYN)');
    assert.ok(!matches(seq, client.port + 1), 'another connection');
    client.ackAll(sent);
    assert.ok(!matches(seq), 'acknowledged since');
  });
});

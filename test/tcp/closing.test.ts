// FIN and RST in every state (RFC 9293 3.10.7.4 eighth check, RFC 5961), TIME-WAIT, idle and FIN-WAIT-2 timers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  Client,
  bytes,
  dataOf,
  events,
  expectNothingSent,
  expectSegment,
  segmentsOf,
  testConfig,
  text,
  TOKEN,
  TOKEN_HOP_LIMIT,
} from './helpers.ts';

function established(config = testConfig()): Client {
  const client = new Client(config);
  client.handshake();
  return client;
}

/** Client FIN → CLOSE-WAIT. */
function closeWait(config = testConfig()): Client {
  const client = established(config);
  client.sendFin();
  assert.equal(client.state(), 'close-wait');
  return client;
}

/** We close first → FIN-WAIT-1, returning the FIN segment's actions. */
function finWait1(config = testConfig()): [Client, ReturnType<Client['deliver']>] {
  const client = established(config);
  const fin = client.stack.close(client.id, client.now);
  assert.equal(client.state(), 'fin-wait-1');
  return [client, fin];
}

describe('ESTABLISHED: FIN and RST', () => {
  it('a FIN is acknowledged at once, reported as peer-closed, and moves to CLOSE-WAIT', () => {
    const client = established();
    const actions = client.sendFin({ payload: text('last') });
    assert.deepEqual(dataOf(actions), text('last'));
    assert.deepEqual(
      events(actions).map((a) => a.kind),
      ['data', 'peer-closed'],
    );
    expectSegment(actions, { ack: client.seq + 4 });
    assert.equal(client.state(), 'close-wait');
  });

  it('a FIN after a gap waits for the gap; the data before it is held', () => {
    const client = established();
    const start = client.seq;
    const early = client.deliver({ seq: start + 5, payload: text('world'), control: 'fin' });
    assert.deepEqual(events(early), []);
    assert.equal(client.state(), 'established');
    const fill = client.deliver({ seq: start, payload: text('hello') });
    assert.deepEqual(dataOf(fill), text('helloworld'));
    // The FIN is retransmitted by the peer and now accepted.
    const fin = client.deliver({ seq: start + 5, payload: text('world'), control: 'fin' });
    assert.deepEqual(events(fin), [{ kind: 'peer-closed', id: client.id }]);
  });

  it('an exact RST closes with reset-by-peer and removes the connection', () => {
    const client = established();
    const actions = client.deliver({ control: 'rst', ack: undefined });
    assert.deepEqual(actions, [{ kind: 'closed', id: client.id, reason: 'reset-by-peer' }]);
    assert.equal(client.stack.connectionCount(), 0);
    assert.equal(client.stack.nextDeadline(), undefined);
  });

  it('an in-window but inexact RST gets a challenge ACK (RFC 5961 3.2)', () => {
    const client = established();
    const actions = client.deliver({ seq: client.seq + 1000, control: 'rst' });
    expectSegment(actions, { seq: client.ack, ack: client.seq, control: 'none', hopLimit: 64 });
    assert.deepEqual(events(actions), []);
    assert.equal(client.stack.counters['challenge-acks'], 1);
    assert.equal(client.state(), 'established');
  });

  it('an out-of-window RST is dropped silently', () => {
    const client = established();
    assert.deepEqual(client.deliver({ seq: client.seq + 100_000, control: 'rst' }), []);
    assert.deepEqual(client.deliver({ seq: client.seq - 1, control: 'rst' }), []);
    assert.equal(client.stack.counters['rst-dropped-out-of-window'], 2);
    assert.equal(client.state(), 'established');
  });

  it('a SYN gets a challenge ACK whatever its sequence number (RFC 5961 4)', () => {
    const client = established();
    for (const seq of [client.seq, client.seq + 10, client.seq - 1000, 5]) {
      const actions = client.deliver({ seq, control: 'syn', ack: undefined });
      expectSegment(actions, { ack: client.seq, control: 'none' });
    }
    assert.equal(client.stack.counters['challenge-acks'], 4);
    assert.equal(client.state(), 'established');
  });

  it('abort sends <SEQ=SND.NXT><RST> and reports aborted', () => {
    const client = established();
    client.send(bytes(100));
    const actions = client.stack.abort(client.id, client.now);
    expectSegment(actions, { control: 'rst', seq: client.serverIss + 101, hopLimit: 64 });
    assert.deepEqual(events(actions), [{ kind: 'closed', id: client.id, reason: 'aborted' }]);
    assert.equal(client.stack.connectionCount(), 0);
    assert.deepEqual(client.stack.abort(client.id, client.now), []);
    assert.equal(client.stack.bufferedSendBytes(client.id), undefined);
  });
});

describe('CLOSE-WAIT and LAST-ACK', () => {
  it('close after the data left sends the FIN alone, sequenced after the data', () => {
    const client = closeWait();
    const reply = client.send(text('HTTP/1.1 200 OK\r\n\r\n'));
    expectSegment(reply, { control: 'none', payloadLength: 19 });
    const fin = client.stack.close(client.id, client.now);
    expectSegment(fin, { control: 'fin', payloadLength: 0, seq: client.serverIss + 1 + 19 });
  });

  it('close with data still queued puts the FIN on the last data segment; its ACK ends the connection', () => {
    const client = new Client();
    client.handshake({ mss: 1460 }, 0);
    client.sendFin({ window: 0 });
    client.send(text('bye'));
    expectNothingSent(client.stack.close(client.id, client.now));
    const out = client.deliver({ window: 1000 });
    expectSegment(out, { control: 'fin', payloadLength: 3 });
    assert.equal(client.state(), 'last-ack');
    const done = client.ackAll(out);
    assert.deepEqual(events(done), [{ kind: 'closed', id: client.id, reason: 'normal' }]);
    assert.equal(client.stack.connectionCount(), 0);
    assert.equal(client.stack.nextDeadline(), undefined);
  });

  it('close with nothing queued sends a bare FIN at the default TTL', () => {
    const client = closeWait();
    const fin = client.stack.close(client.id, client.now);
    expectSegment(fin, { control: 'fin', payloadLength: 0, hopLimit: 64, seq: client.serverIss + 1 });
    assert.equal(client.state(), 'last-ack');
    assert.deepEqual(client.stack.close(client.id, client.now), [], 'close is idempotent');
  });

  it('data after the peer FIN is acknowledged and discarded', () => {
    const client = closeWait();
    const actions = client.deliver({ payload: text('late') });
    expectSegment(actions, { ack: client.seq });
    assert.deepEqual(events(actions), []);
  });

  it('a retransmitted peer FIN in LAST-ACK is acknowledged', () => {
    const client = closeWait();
    client.stack.close(client.id, client.now);
    expectSegment(client.deliver({ seq: client.seq - 1, control: 'fin' }), { ack: client.seq });
  });

  it('RST in CLOSE-WAIT and LAST-ACK closes with reset-by-peer', () => {
    const a = closeWait();
    assert.deepEqual(events(a.deliver({ control: 'rst' })), [{ kind: 'closed', id: a.id, reason: 'reset-by-peer' }]);
    const b = closeWait();
    b.stack.close(b.id, b.now);
    assert.deepEqual(events(b.deliver({ control: 'rst' })), [{ kind: 'closed', id: b.id, reason: 'reset-by-peer' }]);
    assert.equal(b.stack.connectionCount(), 0);
  });

  it('our FIN is retransmitted on timeout in LAST-ACK, then the connection times out', () => {
    const client = closeWait(testConfig({ maxRetransmissions: 2 }));
    client.stack.close(client.id, client.now);
    const seen = [];
    for (let i = 0; i < 50; i += 1) seen.push(...client.advance(100));
    assert.deepEqual(
      segmentsOf(seen).map((s) => s.control),
      ['fin', 'fin', 'rst'],
    );
    assert.deepEqual(events(seen), [{ kind: 'closed', id: client.id, reason: 'timeout' }]);
  });

  it('send after close is refused as closing', () => {
    const client = closeWait();
    client.stack.close(client.id, client.now);
    assert.deepEqual(client.stack.send(client.id, text('x'), {}, client.now), { ok: false, reason: 'closing' });
  });
});

describe('FIN-WAIT-1, FIN-WAIT-2, CLOSING, TIME-WAIT', () => {
  it("send with thenClose: the FIN rides on the last data segment, with that data's TTL", () => {
    const client = established();
    const sent = client.stack.send(client.id, text('bye'), TOKEN, client.now, true);
    assert.ok(sent.ok);
    expectSegment(sent.actions, { control: 'fin', payloadLength: 3, hopLimit: TOKEN_HOP_LIMIT });
    assert.equal(client.state(), 'fin-wait-1');
  });

  it('ACK of our FIN → FIN-WAIT-2; peer FIN → TIME-WAIT with closed(normal), ACKed', () => {
    const [client, fin] = finWait1();
    expectSegment(fin, { control: 'fin', hopLimit: 64 });
    expectNothingSent(client.ackAll(fin));
    assert.equal(client.state(), 'fin-wait-2');
    const last = client.sendFin();
    expectSegment(last, { ack: client.seq });
    assert.deepEqual(events(last), [
      { kind: 'peer-closed', id: client.id },
      { kind: 'closed', id: client.id, reason: 'normal' },
    ]);
    assert.equal(client.state(), 'time-wait');
    assert.equal(client.stack.connectionCount(), 1);
  });

  it('FIN+ACK together in FIN-WAIT-1 goes straight to TIME-WAIT', () => {
    const [client, fin] = finWait1();
    client.absorb(fin);
    client.sendFin();
    assert.equal(client.state(), 'time-wait');
  });

  it('simultaneous close: peer FIN without our ACK → CLOSING, then ACK → TIME-WAIT', () => {
    const [client] = finWait1();
    const actions = client.sendFin();
    expectSegment(actions, { ack: client.seq });
    assert.equal(client.state(), 'closing');
    client.ack = (client.serverIss + 2) >>> 0;
    assert.deepEqual(events(client.deliver()), [{ kind: 'closed', id: client.id, reason: 'normal' }]);
    assert.equal(client.state(), 'time-wait');
  });

  it('data keeps flowing to us in FIN-WAIT-1 and FIN-WAIT-2 (half close)', () => {
    const [client, fin] = finWait1();
    assert.deepEqual(dataOf(client.sendData(text('one'))), text('one'));
    client.ackAll(fin);
    assert.deepEqual(dataOf(client.sendData(text('two'))), text('two'));
  });

  it('RST in FIN-WAIT-1, FIN-WAIT-2 and CLOSING closes with reset-by-peer', () => {
    const [a] = finWait1();
    assert.deepEqual(events(a.deliver({ control: 'rst' })), [{ kind: 'closed', id: a.id, reason: 'reset-by-peer' }]);
    const [b, finB] = finWait1();
    b.ackAll(finB);
    assert.deepEqual(events(b.deliver({ control: 'rst' })), [{ kind: 'closed', id: b.id, reason: 'reset-by-peer' }]);
    const [c] = finWait1();
    c.sendFin();
    assert.equal(c.state(), 'closing');
    assert.deepEqual(events(c.deliver({ control: 'rst' })), [{ kind: 'closed', id: c.id, reason: 'reset-by-peer' }]);
  });

  it('FIN-WAIT-2 without a peer FIN times out with a RST', () => {
    const [client, fin] = finWait1(testConfig({ finWait2TimeoutMs: 5000 }));
    client.ackAll(fin);
    expectNothingSent(client.advance(4999));
    const actions = client.advance(1);
    expectSegment(actions, { control: 'rst' });
    assert.deepEqual(events(actions), [{ kind: 'closed', id: client.id, reason: 'timeout' }]);
    assert.equal(client.stack.connectionCount(), 0);
  });

  it('TIME-WAIT lasts timeWaitMs, restarts on a retransmitted FIN, then disappears silently', () => {
    const [client, fin] = finWait1(testConfig({ timeWaitMs: 1000 }));
    client.ackAll(fin);
    client.sendFin();
    assert.equal(client.stack.nextDeadline(), 1000);
    client.now = 600;
    const again = client.deliver({ seq: client.seq - 1, control: 'fin' });
    expectSegment(again, { ack: client.seq });
    assert.equal(client.stack.nextDeadline(), 1600);
    assert.deepEqual(client.advance(999), []);
    assert.equal(client.stack.connectionCount(), 1);
    assert.deepEqual(client.advance(1), []);
    assert.equal(client.stack.connectionCount(), 0);
    assert.equal(client.stack.nextDeadline(), undefined);
  });

  it('TIME-WAIT: a new SYN with a higher sequence number starts a new connection; an old one gets an ACK', () => {
    const [client, fin] = finWait1();
    client.ackAll(fin);
    client.sendFin();
    expectSegment(client.deliver({ seq: client.seq - 100, control: 'syn', ack: undefined }), { control: 'none' });
    const synAck = client.deliver({ seq: client.seq + 100_000, control: 'syn', ack: undefined });
    expectSegment(synAck, { control: 'syn', ack: client.seq + 100_001 });
    assert.equal(client.stack.halfOpenCount(), 1);
    assert.equal(client.stack.connectionCount(), 0);
    assert.equal(client.stack.counters['time-wait-reused'], 1);
  });

  it('TIME-WAIT: an exact RST removes the entry', () => {
    const [client, fin] = finWait1();
    client.ackAll(fin);
    client.sendFin();
    assert.deepEqual(client.deliver({ control: 'rst' }), []);
    assert.equal(client.stack.connectionCount(), 0);
  });

  it('our FIN is retransmitted in FIN-WAIT-1 and CLOSING', () => {
    const [client] = finWait1();
    expectSegment(client.advance(200), { control: 'fin' });
    client.sendFin();
    assert.equal(client.state(), 'closing');
    expectSegment(client.advance(400), { control: 'fin' });
  });
});

describe('idle timeout', () => {
  it('closes an idle connection gracefully: closed(idle) and a FIN', () => {
    const client = established(testConfig({ idleTimeoutMs: 10_000 }));
    client.now = 5000;
    client.sendData(text('ping'));
    client.ackAll(client.send(text('pong')));
    assert.equal(client.stack.nextDeadline(), 15_000);
    expectNothingSent(client.advance(9999));
    const actions = client.advance(1);
    assert.deepEqual(events(actions), [{ kind: 'closed', id: client.id, reason: 'idle' }]);
    expectSegment(actions, { control: 'fin' });
    assert.equal(client.state(), 'fin-wait-1');
    // After the application was told, late data is acknowledged but not delivered.
    const late = client.sendData(text('late'));
    assert.deepEqual(events(late), []);
    assert.deepEqual(client.stack.send(client.id, text('x'), {}, client.now), { ok: false, reason: 'no-connection' });
  });

  it('also applies in CLOSE-WAIT', () => {
    const client = closeWait(testConfig({ idleTimeoutMs: 1000 }));
    const actions = client.advance(1000);
    expectSegment(actions, { control: 'fin' });
    assert.equal(client.state(), 'last-ack');
  });
});

// Loss recovery: RFC 6298 timer and backoff, Karn's rule, RFC 5681 fast retransmit, persist probes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  Client,
  TOKEN,
  TOKEN_HOP_LIMIT,
  bytes,
  events,
  expectNothingSent,
  expectSegment,
  segmentsOf,
  testConfig,
  transmits,
} from './helpers.ts';

/** Polls every `step` ms until `until`, returning [time, action] pairs for transmitted segments. */
function runClock(client: Client, until: number, step = 10): [number, ReturnType<typeof transmits>[number]][] {
  const seen: [number, ReturnType<typeof transmits>[number]][] = [];
  while (client.now < until) {
    for (const t of transmits(client.advance(step))) seen.push([client.now, t]);
  }
  return seen;
}

describe('retransmission timeout', () => {
  it('retransmits a lost segment at RTO with doubling backoff, then resets and reports timeout', () => {
    const client = new Client(testConfig({ maxRetransmissions: 4, initialRtoMs: 1000 }));
    client.handshake();
    client.now = 0;
    const first = client.send(bytes(100));
    expectSegment(first, { payloadLength: 100 });
    // The SYN-ACK sample (RTT 0) set RTO to the 200 ms floor.
    const seen = runClock(client, 10_000);
    const data = seen.filter(([, t]) => t.segment.control === 'none');
    assert.deepEqual(
      data.map(([time]) => time),
      [200, 600, 1400, 3000],
    );
    for (const [, t] of data) assert.equal(t.segment.seq, segmentsOf(first)[0].seq);
    const reset = seen.filter(([, t]) => t.segment.control === 'rst');
    assert.equal(reset.length, 1);
    assert.equal(reset[0][0], 6200);
    assert.equal(client.stack.connectionCount(), 0);
    assert.equal(client.stack.counters['connections-timed-out'], 1);
    assert.equal(client.stack.counters.retransmissions, 4);
  });

  it('emits closed(timeout) when retransmissions run out', () => {
    const client = new Client(testConfig({ maxRetransmissions: 1 }));
    client.handshake();
    client.send(bytes(10));
    const all = [];
    for (let i = 0; i < 100; i += 1) all.push(...client.advance(100));
    assert.deepEqual(events(all), [{ kind: 'closed', id: client.id, reason: 'timeout' }]);
  });

  it('retransmissions of token bytes keep hop limit 1 and the same split', () => {
    const client = new Client();
    client.handshake({ mss: 1000 });
    const first = [
      ...client.send(bytes(1200, 1), { hopLimit: 64 }),
      ...client.send(bytes(300, 2), TOKEN),
      ...client.send(bytes(200, 3), { hopLimit: 64 }),
    ];
    const shape = transmits(first).map((t) => [t.segment.seq, t.segment.payload.length, t.hopLimit]);
    assert.deepEqual(
      shape.map(([, len, hopLimit]) => [len, hopLimit]),
      [
        [1000, 64],
        [200, 64],
        [300, 1],
        [200, 64],
      ],
    );
    // Lose everything: the timeout resends one segment, then the rest as ACKs reopen the window.
    const resent = [];
    let actions = client.advance(200);
    for (let i = 0; i < 10 && segmentsOf(actions).length > 0; i += 1) {
      resent.push(...transmits(actions));
      actions = client.ackAll(actions);
    }
    assert.deepEqual(
      resent.map((t) => [t.segment.seq, t.segment.payload.length, t.hopLimit]),
      shape,
    );
  });

  it('a token response at the default hop limit stays tagged as one through a timeout, a bare FIN does not', () => {
    const client = new Client();
    client.handshake({ mss: 1000 });
    client.now = 0;
    const tokenAtDefault = { hopLimit: 64, tokenResponse: true };
    const plain = client.send(bytes(100, 1));
    const closing = client.stack.send(client.id, bytes(50, 2), tokenAtDefault, client.now, true);
    assert.ok(closing.ok);
    const first = [...plain, ...closing.actions];
    assert.deepEqual(
      transmits(first).map((t) => [t.segment.payload.length, t.segment.control, t.hopLimit, t.tokenResponse]),
      [
        [100, 'none', 64, false],
        [50, 'fin', 64, true],
      ],
    );
    // Everything lost: the timeout resends from SND.UNA; each copy says what its bytes are.
    const resent = transmits(client.advance(200));
    assert.deepEqual(
      resent.map((t) => [t.segment.payload.length, t.tokenResponse]),
      [[100, false]],
    );
    client.absorb(resent);
    const rest = transmits(client.deliver({ window: 65535 }));
    assert.deepEqual(
      rest.map((t) => [t.segment.payload.length, t.segment.control, t.hopLimit, t.tokenResponse]),
      [[50, 'fin', 64, true]],
    );
    client.absorb(rest);
    for (const t of transmits(client.deliver({ window: 65535 })))
      assert.equal(t.tokenResponse, false, 'a pure ACK carries no token');
  });

  it("untagged bytes and control segments leave with the stack's default hop limit, the one place it is stored", () => {
    const client = new Client(testConfig({ defaultHopLimit: 100 }));
    client.handshake();
    expectSegment(client.send(bytes(10)), { payloadLength: 10, hopLimit: 100, tokenResponse: false });
    expectSegment(client.stack.close(client.id, client.now), { control: 'fin', payloadLength: 0, hopLimit: 100 });
    assert.equal(client.stack.defaultHopLimit, 100);
  });

  it('takes no RTT sample from a retransmitted segment (Karn) and a fresh sample clears the backoff', () => {
    const client = new Client(testConfig({ minRtoMs: 10 }));
    client.handshake();
    const conn = client.stack.inspect(client.id);
    client.now = 0;
    const lost = client.send(bytes(10));
    assert.equal(conn?.retransmissionTimeout, 10); // SYN-ACK sample of 0 ms → floor
    const again = client.advance(10);
    expectSegment(again, { payloadLength: 10 });
    assert.equal(conn?.retransmissionTimeout, 20);
    client.now = 500;
    client.ackAll(lost);
    assert.equal(conn?.retransmissionTimeout, 20, 'the 500 ms ACK must not be sampled');
    const next = client.send(bytes(10));
    client.now += 30;
    client.ackAll(next);
    assert.notEqual(conn?.retransmissionTimeout, 20);
    assert.ok((conn?.retransmissionTimeout ?? 0) >= 30);
  });

  it('restarts the timer on a partial ACK and stops it when all is acknowledged', () => {
    const client = new Client();
    client.handshake({ mss: 100 });
    const out = client.send(bytes(300));
    assert.equal(client.stack.nextDeadline(), 200);
    client.now = 150;
    client.absorb([transmits(out)[0]]);
    client.deliver();
    assert.equal(client.stack.nextDeadline(), 350);
    client.absorb(out);
    client.deliver();
    assert.equal(client.stack.nextDeadline(), 150 + 120_000); // only the idle timer remains
  });

  it('sets cwnd to one segment after a timeout (RFC 5681 (4))', () => {
    const client = new Client();
    client.handshake({ mss: 500 });
    client.send(bytes(5000));
    const conn = client.stack.inspect(client.id);
    client.advance(200);
    assert.equal(conn?.congestionWindow, 500);
    assert.equal(conn?.slowStartThreshold, 2500);
  });
});

describe('fast retransmit (RFC 5681 3.2)', () => {
  it('retransmits the first unacknowledged segment on the third duplicate ACK', () => {
    const client = new Client();
    client.handshake({ mss: 1000 });
    const out = segmentsOf(client.send(bytes(6000)));
    assert.equal(out.length, 6);
    const conn = client.stack.inspect(client.id);
    // Segment 0 lost; the peer sends one duplicate ACK per later segment.
    expectNothingSent(client.deliver());
    expectNothingSent(client.deliver());
    const third = client.deliver();
    expectSegment(third, { seq: out[0].seq, payloadLength: 1000, hopLimit: 64 });
    assert.equal(client.stack.counters['fast-retransmissions'], 1);
    assert.equal(conn?.slowStartThreshold, 3000);
    assert.equal(conn?.congestionWindow, 6000);
    expectNothingSent(client.deliver()); // fourth duplicate inflates only
    assert.equal(conn?.congestionWindow, 7000);
    // A partial ACK (RFC 6582) retransmits the next hole.
    client.ack = out[1].seq >>> 0;
    expectSegment(client.deliver(), { seq: out[1].seq, payloadLength: 1000 });
    client.ack = (out[5].seq + 1000) >>> 0;
    client.deliver();
    assert.equal(conn?.congestionWindow, 3000);
    assert.equal(client.stack.bufferedSendBytes(client.id), 0);
  });

  it('does not count ACKs carrying data or a window change as duplicates', () => {
    const client = new Client();
    client.handshake({ mss: 1000 });
    client.send(bytes(5000));
    client.deliver({ window: 60000 });
    client.deliver({ window: 50000 });
    client.sendData(bytes(10));
    client.sendData(bytes(10));
    assert.equal(client.stack.counters['fast-retransmissions'], undefined);
  });

  it('fast retransmit of a token segment carries TTL 1', () => {
    const client = new Client();
    client.handshake({ mss: 1000 });
    const out = segmentsOf(client.send(bytes(500), TOKEN)).concat(
      segmentsOf(client.send(bytes(3000), { hopLimit: 64 })),
    );
    assert.equal(out.length, 4);
    client.deliver();
    client.deliver();
    expectSegment(client.deliver(), { seq: out[0].seq, payloadLength: 500, hopLimit: TOKEN_HOP_LIMIT });
  });
});

describe('zero window and persist', () => {
  it('probes a zero window with backoff at the default TTL, without data, and resumes when it opens', () => {
    const client = new Client();
    client.handshake({ mss: 1000 }, 0);
    expectNothingSent(client.send(bytes(500), TOKEN));
    const probes = runClock(client, 3000);
    assert.deepEqual(
      probes.map(([time]) => time),
      [200, 600, 1400, 3000],
    );
    for (const [, t] of probes) {
      assert.equal(t.hopLimit, 64);
      assert.equal(t.segment.payload.length, 0);
      assert.equal(t.segment.seq, client.serverIss >>> 0); // SND.UNA − 1
    }
    assert.equal(client.stack.counters['window-probes'], 4);
    const opened = client.deliver({ window: 1000 });
    expectSegment(opened, { payloadLength: 500, hopLimit: TOKEN_HOP_LIMIT });
    expectNothingSent(
      client
        .advance(1000)
        .filter((a) => a.kind === 'transmit' && a.segment.payload.length === 0 && a.segment.seq === client.serverIss),
    );
  });

  it('keeps probing while the peer answers, and gives up when it does not', () => {
    const client = new Client(testConfig({ maxRetransmissions: 3, maxRtoMs: 1000 }));
    client.handshake({ mss: 1000 }, 0);
    client.send(bytes(10));
    for (let i = 0; i < 20; i += 1) {
      if (segmentsOf(client.advance(1000)).length > 0) client.deliver({ window: 0 }); // answered probe
    }
    assert.equal(client.stack.connectionCount(), 1);
    const silent = [];
    for (let i = 0; i < 10; i += 1) silent.push(...client.advance(1000));
    assert.deepEqual(events(silent), [{ kind: 'closed', id: client.id, reason: 'timeout' }]);
  });

  it('a window that closes on data in flight switches the timeout to probing', () => {
    const client = new Client();
    client.handshake({ mss: 1000 });
    const out = client.send(bytes(2000));
    assert.equal(segmentsOf(out).length, 2);
    client.absorb([transmits(out)[0]]);
    client.deliver({ window: 0 });
    const probe = client.advance(200);
    expectSegment(probe, { payloadLength: 0, hopLimit: 64 });
    const resumed = client.deliver({ window: 4000 });
    expectSegment(resumed, { seq: segmentsOf(out)[1].seq, payloadLength: 1000 });
  });
});

// ESTABLISHED: data both ways, segmentation by MSS/window/TTL, acknowledgment policy, out-of-order and duplicates.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  Client,
  TOKEN,
  bytes,
  concat,
  dataOf,
  events,
  expectNothingSent,
  expectSegment,
  segmentsOf,
  testConfig,
  text,
  transmits,
} from './helpers.ts';

describe('ESTABLISHED: receiving', () => {
  it('delivers in-order data and delays the ACK until a reply can carry it', () => {
    const client = new Client();
    client.handshake();
    const actions = client.sendData(text('GET /latest/meta-data/ HTTP/1.1\r\n\r\n'));
    assert.deepEqual(dataOf(actions), text('GET /latest/meta-data/ HTTP/1.1\r\n\r\n'));
    expectNothingSent(actions);
    const reply = client.send(text('HTTP/1.1 200 OK\r\n\r\n'));
    expectSegment(reply, { ack: client.seq, payloadLength: 19, hopLimit: 64 });
    expectNothingSent(client.advance(100)); // the delayed ACK rode on the reply
  });

  it('sends the delayed ACK after delayedAckMs when nothing is sent', () => {
    const client = new Client(testConfig({ delayedAckMs: 40 }));
    client.handshake();
    client.sendData(text('abc'));
    assert.equal(client.stack.nextDeadline(), 40);
    expectNothingSent(client.advance(39));
    expectSegment(client.advance(1), { ack: client.seq, payloadLength: 0, hopLimit: 64 });
  });

  it('acknowledges every second segment at once', () => {
    const client = new Client();
    client.handshake();
    expectNothingSent(client.sendData(bytes(1460)));
    expectSegment(client.sendData(bytes(1460)), { ack: client.seq });
    expectNothingSent(client.sendData(bytes(1460)));
  });

  it('holds out-of-order data, sends a duplicate ACK at once, and delivers when the gap fills', () => {
    const client = new Client();
    client.handshake();
    const start = client.seq;
    const data = bytes(300);
    const later = client.deliver({ seq: start + 100, payload: data.subarray(100, 200) });
    expectSegment(later, { ack: start, payloadLength: 0 });
    assert.deepEqual(events(later), []);
    const latest = client.deliver({ seq: start + 200, payload: data.subarray(200, 300) });
    expectSegment(latest, { ack: start });
    assert.equal(client.stack.inspect(client.id)?.reassemblyBytes, 200);
    const fill = client.deliver({ seq: start, payload: data.subarray(0, 100) });
    assert.deepEqual(dataOf(fill), data);
    expectSegment(fill, { ack: start + 300 }); // gap filled: ACK at once
    assert.equal(client.stack.inspect(client.id)?.reassemblyBytes, 0);
    assert.equal(client.stack.counters['segments-out-of-order'], 2);
  });

  it('drops a duplicate segment with an ACK and trims a partial overlap', () => {
    const client = new Client();
    client.handshake();
    const start = client.seq;
    const data = bytes(200);
    client.sendData(data.subarray(0, 100));
    const dup = client.deliver({ seq: start, payload: data.subarray(0, 100) });
    expectSegment(dup, { ack: start + 100 });
    assert.deepEqual(events(dup), []);
    assert.equal(client.stack.counters['segments-dropped-out-of-window'], 1);
    const overlap = client.deliver({ seq: start + 50, payload: data.subarray(50, 200) });
    assert.deepEqual(dataOf(overlap), data.subarray(100, 200));
  });

  it('trims data beyond our window and ACKs only what fits', () => {
    const client = new Client(testConfig({ receiveWindow: 1000 }));
    client.handshake();
    const start = client.seq;
    const actions = client.deliver({ seq: start, payload: bytes(1500), control: 'fin' });
    assert.equal(dataOf(actions).length, 1000);
    assert.ok(!events(actions).some((a) => a.kind === 'peer-closed'), 'FIN past the window must not count');
  });

  it('ACKs and drops segments entirely outside the window, counting them', () => {
    const client = new Client(testConfig({ receiveWindow: 1000 }));
    client.handshake();
    expectSegment(client.deliver({ seq: client.seq + 1000, payload: bytes(10) }), { ack: client.seq });
    expectSegment(client.deliver({ seq: client.seq - 20, payload: bytes(10) }), { ack: client.seq });
    expectSegment(client.deliver({ seq: client.seq + 5000 }), { ack: client.seq });
    assert.equal(client.stack.counters['segments-dropped-out-of-window'], 3);
  });

  it('drops segments without the ACK flag', () => {
    const client = new Client();
    client.handshake();
    const actions = client.deliver({ ack: undefined, payload: text('x') });
    assert.deepEqual(actions, []);
    assert.equal(client.stack.counters['segments-dropped-no-ack'], 1);
  });

  it('answers an ACK for bytes never sent with an ACK and ignores the segment', () => {
    const client = new Client();
    client.handshake();
    const actions = client.deliver({ ack: client.ack + 10, payload: text('x') });
    expectSegment(actions, { ack: client.seq });
    assert.deepEqual(events(actions), []);
  });

  it('answers a keep-alive probe (SEG.SEQ = RCV.NXT − 1) with an ACK', () => {
    const client = new Client();
    client.handshake();
    expectSegment(client.deliver({ seq: client.seq - 1 }), { ack: client.seq, seq: client.ack });
  });
});

describe('ESTABLISHED: sending', () => {
  it('serves several request/response rounds on one connection (keep-alive)', () => {
    const client = new Client();
    const id = client.handshake();
    for (let round = 0; round < 5; round += 1) {
      const request = text(`GET /latest/meta-data/${round} HTTP/1.1\r\n\r\n`);
      assert.deepEqual(dataOf(client.sendData(request)), request);
      const response = bytes(3000 + round, round);
      const out = client.send(response, round % 2 === 0 ? { hopLimit: 64 } : TOKEN);
      assert.deepEqual(concat(segmentsOf(out).map((s) => s.payload)), response);
      for (const s of segmentsOf(out)) assert.equal(s.ack, client.seq);
      expectNothingSent(client.ackAll(out));
      assert.equal(client.stack.bufferedSendBytes(id), 0);
    }
    assert.equal(client.stack.connectionCount(), 1);
  });

  it('segments a 64 KiB response by MSS, the initial congestion window, then the peer window', () => {
    const client = new Client(testConfig({ mss: 1460 }));
    client.handshake({ mss: 1000 }, 65535);
    const response = bytes(65536, 9);
    let flight = client.send(response);
    assert.equal(segmentsOf(flight).length, 10); // RFC 6928 initial window: 10 segments
    const received: Uint8Array[] = [];
    let rounds = 0;
    while (segmentsOf(flight).length > 0) {
      rounds += 1;
      const sent = segmentsOf(flight);
      for (const s of sent) {
        assert.ok(s.payload.length <= 1000, 'no segment above the peer MSS');
        received.push(s.payload);
      }
      const last = sent[sent.length - 1];
      const outstanding = (last.seq + last.payload.length - client.ack) >>> 0;
      assert.ok(outstanding <= 65535, 'never more than the peer window beyond its ACK');
      flight = client.ackAll(flight);
    }
    assert.deepEqual(concat(received), response);
    assert.ok(rounds > 2 && rounds < 10, `slow start took ${rounds} rounds`);
    assert.equal(client.stack.bufferedSendBytes(client.id), 0);
  });

  it('never sends past SND.UNA + SND.WND, and avoids sending a sliver while data is in flight', () => {
    const client = new Client();
    client.handshake({ mss: 1460 }, 3000);
    const out = client.send(bytes(4000));
    assert.deepEqual(
      segmentsOf(out).map((s) => s.payload.length),
      [1460, 1460],
    );
    const rest = client.ackAll(out, 3000);
    assert.deepEqual(
      segmentsOf(rest).map((s) => s.payload.length),
      [1080],
    );
  });

  it('splits segments at TTL boundaries and tags each with its bytes TTL', () => {
    const client = new Client();
    client.handshake({ mss: 1000 });
    const head = bytes(1500, 1);
    const token = bytes(56, 2);
    const tail = bytes(700, 3);
    const out = [
      ...client.send(head, { hopLimit: 64 }),
      ...client.send(token, TOKEN),
      ...client.send(tail, { hopLimit: 64 }),
    ];
    assert.deepEqual(
      transmits(out).map((t) => [t.segment.payload.length, t.hopLimit]),
      [
        [1000, 64],
        [500, 64],
        [56, 1],
        [700, 64],
      ],
    );
  });

  it('re-splits queued bytes by TTL when they go out together', () => {
    const client = new Client();
    client.handshake({ mss: 1000 }, 0); // zero window: everything queues
    client.send(bytes(300, 1), { hopLimit: 64 });
    client.send(bytes(300, 2), TOKEN);
    client.send(bytes(300, 3), TOKEN);
    client.send(bytes(300, 4), { hopLimit: 64 });
    const out = client.deliver({ window: 65535 });
    assert.deepEqual(
      transmits(out).map((t) => [t.segment.payload.length, t.hopLimit]),
      [
        [300, 64],
        [600, 1],
        [300, 64],
      ],
    );
  });

  it('updates the send window only from newer segments (SND.WL1/SND.WL2)', () => {
    const client = new Client();
    client.handshake({ mss: 1460 }, 1000);
    const conn = client.stack.inspect(client.id);
    client.sendData(text('a'));
    client.deliver({ window: 5000 });
    assert.equal(conn?.sndWnd, 5000);
    client.deliver({ seq: client.seq - 1, window: 100 }); // older segment: unacceptable anyway
    assert.equal(conn?.sndWnd, 5000);
  });

  it('refuses send on unknown and not-yet-accepted connections', () => {
    const client = new Client();
    assert.deepEqual(client.stack.send(42, text('x'), {}, 0), { ok: false, reason: 'no-connection' });
    client.sendSyn();
    assert.deepEqual(client.stack.send(1, text('x'), {}, 0), { ok: false, reason: 'no-connection' });
  });

  it('rejects an impossible TTL as a programmer error', () => {
    const client = new Client();
    client.handshake();
    assert.throws(() => client.stack.send(client.id, text('x'), { hopLimit: 0 }, 0), RangeError);
  });
});

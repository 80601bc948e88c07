// LISTEN and SYN-RECEIVED (RFC 9293 3.10.7.2 and 3.10.7.4 for SYN-RECEIVED), plus ISNs (RFC 6528).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TcpStack } from '../../src/tcp/index.ts';
import { initialSequenceNumber, isnOffset } from '../../src/tcp/isn.ts';
import {
  CLIENT_ADDR,
  Client,
  SERVER_ADDR,
  events,
  expectNothingSent,
  expectSegment,
  segmentsOf,
  testConfig,
  text,
} from './helpers.ts';

describe('LISTEN', () => {
  it('answers a SYN with a SYN-ACK carrying our MSS and window, at the default TTL', () => {
    const client = new Client(testConfig({ mss: 1400, receiveWindow: 30000 }));
    const actions = client.sendSyn({ mss: 1460, windowScale: 7, sackPermitted: true });
    const t = expectSegment(actions, {
      control: 'syn',
      ack: client.isn + 1,
      hopLimit: 64,
      payloadLength: 0,
      window: 30000,
    });
    assert.deepEqual(t.segment.options, { mss: 1400 }); // no wscale offered, so the peer does not scale either
    assert.equal(t.localAddr, SERVER_ADDR);
    assert.equal(t.remoteAddr, CLIENT_ADDR);
    assert.equal(t.segment.srcPort, 80);
    assert.equal(t.segment.dstPort, client.port);
    assert.deepEqual(events(actions), []);
    assert.equal(client.stack.halfOpenCount(), 1);
    assert.equal(client.stack.connectionCount(), 0);
  });

  it('completes the handshake on the ACK and reports accepted with the endpoints', () => {
    const client = new Client();
    client.sendSyn();
    const actions = client.deliver();
    assert.deepEqual(events(actions), [
      {
        kind: 'accepted',
        id: 1,
        endpoints: { localAddr: SERVER_ADDR, localPort: 80, remoteAddr: CLIENT_ADDR, remotePort: client.port },
      },
    ]);
    expectNothingSent(actions);
    assert.equal(client.stack.halfOpenCount(), 0);
    assert.equal(client.stack.connectionCount(), 1);
  });

  it('delivers data carried on the handshake-completing ACK', () => {
    const client = new Client();
    client.sendSyn();
    const actions = client.sendData(text('GET / HTTP/1.1\r\n\r\n'));
    assert.deepEqual(
      events(actions).map((a) => a.kind),
      ['accepted', 'data'],
    );
  });

  it('resets a SYN to a port we do not listen on: <SEQ=0><ACK=SEG.SEQ+1><RST,ACK>', () => {
    const client = new Client();
    const actions = client.deliver({ dstPort: 81, seq: 5000, ack: undefined, control: 'syn' });
    expectSegment(actions, { control: 'rst', seq: 0, ack: 5001, hopLimit: 64 });
    assert.equal(client.stack.counters['rst-sent-closed-port'], 1);
    assert.equal(client.stack.halfOpenCount(), 0);
  });

  it('resets an ACK-bearing segment for no connection with <SEQ=SEG.ACK><RST>', () => {
    const client = new Client();
    const actions = client.deliver({ seq: 10, ack: 777, payload: text('x') });
    expectSegment(actions, { control: 'rst', seq: 777, ack: undefined });
    assert.equal(client.stack.counters['rst-sent-no-connection'], 1);
  });

  it('resets data without ACK to a closed port with ACK = SEG.SEQ + SEG.LEN', () => {
    const client = new Client();
    const actions = client.deliver({ dstPort: 22, seq: 10, ack: undefined, control: 'fin', payload: text('abc') });
    expectSegment(actions, { control: 'rst', seq: 0, ack: 14 });
  });

  it('silently drops a RST for no connection, and a bare non-ACK segment to a listening port', () => {
    const client = new Client();
    expectNothingSent(client.deliver({ control: 'rst', ack: undefined }));
    expectNothingSent(client.deliver({ dstPort: 9, control: 'rst', ack: undefined }));
    assert.equal(client.stack.counters['rst-dropped-no-connection'], 2);
    expectNothingSent(client.deliver({ ack: undefined, payload: text('x') }));
    assert.equal(client.stack.counters['segments-dropped-no-connection'], 1);
  });

  it('answers a SYN-ACK sent to LISTEN with a reset', () => {
    const client = new Client();
    expectSegment(client.deliver({ control: 'syn', ack: 1234 }), { control: 'rst', seq: 1234 });
  });
});

describe('SYN-RECEIVED', () => {
  it('retransmits the SYN-ACK for a duplicate SYN', () => {
    const client = new Client();
    const first = client.sendSyn();
    const again = client.deliver({ seq: client.isn, ack: undefined, control: 'syn', options: { mss: 1460 } });
    assert.deepEqual(segmentsOf(again), segmentsOf(first));
    assert.equal(client.stack.halfOpenCount(), 1);
  });

  it('replaces the half-open entry when a SYN arrives with a different ISN', () => {
    const client = new Client();
    client.sendSyn();
    const actions = client.deliver({ seq: 99, ack: undefined, control: 'syn' });
    expectSegment(actions, { control: 'syn', ack: 100 });
    assert.equal(client.stack.halfOpenCount(), 1);
  });

  it('retransmits the SYN-ACK with exponential backoff, then gives up silently', () => {
    const client = new Client(testConfig({ maxSynAckRetransmissions: 3 }));
    client.sendSyn();
    const times: number[] = [];
    for (let t = 0; t <= 20_000; t += 100) {
      client.now = t;
      for (const s of segmentsOf(client.stack.poll(t))) {
        assert.equal(s.control, 'syn');
        times.push(t);
      }
    }
    assert.deepEqual(times, [1000, 3000, 7000]);
    assert.equal(client.stack.halfOpenCount(), 0);
    assert.equal(client.stack.nextDeadline(), undefined);
    assert.equal(client.stack.counters['syn-received-timed-out'], 1);
  });

  it('answers an ACK of the wrong number with <SEQ=SEG.ACK><RST> and stays half-open', () => {
    const client = new Client();
    client.sendSyn();
    const actions = client.deliver({ ack: client.serverIss + 5 });
    expectSegment(actions, { control: 'rst', seq: client.serverIss + 5 });
    assert.equal(client.stack.halfOpenCount(), 1);
    assert.equal(events(client.deliver()).length, 1); // the right ACK still completes it
  });

  it('drops a segment without ACK, and ACKs one outside the window', () => {
    const client = new Client();
    client.sendSyn();
    expectNothingSent(client.deliver({ ack: undefined, payload: text('x') }));
    expectSegment(client.deliver({ seq: client.seq + 100_000 }), { control: 'none', ack: client.isn + 1 });
    assert.equal(client.stack.halfOpenCount(), 1);
  });

  it('an exact RST returns to LISTEN without events; an in-window one gets a challenge ACK', () => {
    const client = new Client();
    client.sendSyn();
    expectSegment(client.deliver({ seq: client.seq + 10, control: 'rst', ack: undefined }), { control: 'none' });
    assert.equal(client.stack.counters['challenge-acks'], 1);
    const actions = client.deliver({ control: 'rst', ack: undefined });
    assert.deepEqual(actions, []);
    assert.equal(client.stack.halfOpenCount(), 0);
  });

  it('takes an RTT sample from an unretransmitted SYN-ACK', () => {
    const client = new Client();
    client.sendSyn();
    client.now = 50;
    client.deliver();
    assert.equal(client.stack.inspect(client.id || 1)?.retransmissionTimeout, 200); // 50 + 4*25 clamped to 200
  });

  it('caps our segments by the peer MSS, or 536 when it sends none', () => {
    const withMss = new Client(testConfig({ mss: 1460 }));
    withMss.handshake({ mss: 1000 });
    assert.equal(withMss.stack.inspect(withMss.id)?.effectiveMss, 1000);
    const without = new Client();
    without.handshake({});
    assert.equal(without.stack.inspect(without.id)?.effectiveMss, 536);
    const larger = new Client(testConfig({ mss: 1200 }));
    larger.handshake({ mss: 9000 });
    assert.equal(larger.stack.inspect(larger.id)?.effectiveMss, 1200);
  });
});

describe('initial sequence numbers (RFC 6528)', () => {
  const endpoints = { localAddr: SERVER_ADDR, localPort: 80, remoteAddr: CLIENT_ADDR, remotePort: 40000 };

  it('differ by tuple and by secret, and are stable for both', () => {
    const secret = new Uint8Array(32).fill(1);
    const other = new Uint8Array(32).fill(2);
    const a = initialSequenceNumber(secret, endpoints, 0);
    assert.equal(initialSequenceNumber(secret, endpoints, 0), a);
    assert.notEqual(initialSequenceNumber(secret, { ...endpoints, remotePort: 40001 }, 0), a);
    assert.notEqual(initialSequenceNumber(secret, { ...endpoints, remoteAddr: CLIENT_ADDR + 1 }, 0), a);
    assert.notEqual(initialSequenceNumber(other, endpoints, 0), a);
  });

  it('advance with the 4 µs clock, modulo 2^32', () => {
    const secret = new Uint8Array(16);
    const base = isnOffset(secret, endpoints);
    assert.equal(initialSequenceNumber(secret, endpoints, 1), (base + 250) >>> 0);
    assert.equal(initialSequenceNumber(secret, endpoints, 2 ** 32 / 250), base);
  });

  it('two stacks with different secrets choose different ISNs for the same SYN', () => {
    const a = new Client(testConfig({ isnSecret: new Uint8Array([1]) }));
    const b = new Client(
      testConfig({ isnSecret: new Uint8Array([2]) }),
      1_000_000,
      40_000,
      new TcpStack(testConfig({ isnSecret: new Uint8Array([2]) })),
    );
    a.sendSyn();
    b.sendSyn();
    assert.notEqual(a.serverIss, b.serverIss);
  });
});

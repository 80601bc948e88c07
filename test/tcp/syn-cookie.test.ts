// SYN cookies: the encoding (property tests) and the stack answering a full half-open table with them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TcpStack } from '../../src/tcp/index.ts';
import { COOKIE_MSS_TABLE, checkSynCookie, cookieMssIndex, encodeSynCookie } from '../../src/tcp/syn-cookie.ts';
import { seqAdd } from '../../src/tcp/seq-number.ts';
import {
  CLIENT_ADDR,
  Client,
  SERVER_ADDR,
  SERVER_PORT,
  expectNothingSent,
  expectSegment,
  testConfig,
  text,
  transmits,
} from './helpers.ts';

const SECRET = new Uint8Array(32).fill(9);
const endpointsArb = fc.record({
  localAddr: fc.nat(0xffffffff),
  localPort: fc.nat(0xffff),
  remoteAddr: fc.nat(0xffffffff),
  remotePort: fc.nat(0xffff),
});
/** Wide enough to cross many minute boundaries and the 8-bit counter wrap. */
const timeArb = fc.integer({ min: 0, max: 2 ** 40 });

describe('SYN cookie encoding (RFC 4987 3.6, Linux layout)', () => {
  it('round-trips the MSS for any tuple, peer ISN and time within the cookie lifetime (property)', () => {
    fc.assert(
      fc.property(
        endpointsArb,
        fc.nat(0xffffffff),
        fc.integer({ min: 0, max: 65535 }),
        timeArb,
        fc.integer({ min: 0, max: 119_999 }),
        (endpoints, peerIsn, peerMss, issuedAt, delay) => {
          const index = cookieMssIndex(peerMss);
          const cookie = encodeSynCookie(SECRET, endpoints, peerIsn, index, issuedAt);
          // Good until the minute counter has moved on twice: at least 60 s, at most 120 s.
          const checkedAt = issuedAt + Math.min(delay, 60_000 - 1);
          const mss = checkSynCookie(SECRET, endpoints, peerIsn, cookie, checkedAt);
          assert.equal(mss, COOKIE_MSS_TABLE[index]);
          assert.ok(
            (mss as number) <= Math.max(peerMss, 536),
            'never above what the peer allows (536 floor as RFC 9293)',
          );
        },
      ),
    );
  });

  it('refuses a cookie from another tuple, another peer ISN, another secret, or changed above the MSS bits (property)', () => {
    fc.assert(
      fc.property(
        endpointsArb,
        fc.nat(0xffffffff),
        timeArb,
        fc.integer({ min: 2, max: 31 }),
        fc.nat(0xffff),
        (endpoints, peerIsn, now, bit, otherPort) => {
          const cookie = encodeSynCookie(SECRET, endpoints, peerIsn, 3, now);
          // As in Linux the two low bits are the MSS index itself: changing them only picks another table MSS.
          // Any higher bit must break it (a random 24-bit value passes with chance 4 in 2^24).
          const flipped = (cookie ^ (1 << bit)) >>> 0;
          assert.equal(checkSynCookie(SECRET, endpoints, peerIsn, flipped, now), undefined);
          // The peer ISN is added in, as in Linux: an ACK for another SYN (a different ISN) fails.
          assert.equal(checkSynCookie(SECRET, endpoints, seqAdd(peerIsn, 1 << bit), cookie, now), undefined);
          assert.equal(checkSynCookie(new Uint8Array(32).fill(1), endpoints, peerIsn, cookie, now), undefined);
          if (otherPort !== endpoints.remotePort) {
            assert.equal(
              checkSynCookie(SECRET, { ...endpoints, remotePort: otherPort }, peerIsn, cookie, now),
              undefined,
            );
          }
        },
      ),
    );
  });

  it('expires after two minute-counter ticks', () => {
    const endpoints = { localAddr: SERVER_ADDR, localPort: 80, remoteAddr: CLIENT_ADDR, remotePort: 40_000 };
    const cookie = encodeSynCookie(SECRET, endpoints, 1234, 2, 60_000); // minute 1
    assert.equal(checkSynCookie(SECRET, endpoints, 1234, cookie, 179_999), 1440); // minute 2
    assert.equal(checkSynCookie(SECRET, endpoints, 1234, cookie, 180_000), undefined); // minute 3
  });

  it("picks the largest table MSS not above the peer's", () => {
    assert.deepEqual(
      [0, 535, 536, 1299, 1300, 1439, 1440, 1459, 1460, 9000].map((m) => COOKIE_MSS_TABLE[cookieMssIndex(m)]),
      [536, 536, 536, 536, 1300, 1300, 1440, 1440, 1460, 1460],
    );
  });
});

describe('a full half-open table under a SYN flood', () => {
  const floodConfig = testConfig({ maxHalfOpen: 4, synCookieSecret: SECRET });

  function flood(stack: TcpStack, count: number, now = 0): void {
    for (let i = 0; i < count; i += 1) {
      stack.receive(
        0xc6120000 + i,
        SERVER_ADDR,
        {
          srcPort: 1024 + (i % 60000),
          dstPort: SERVER_PORT,
          seq: i * 7919,
          ack: undefined,
          control: 'syn',
          push: false,
          window: 65535,
          options: { mss: 1460 },
          payload: new Uint8Array(0),
        },
        now,
      );
    }
  }

  it('answers SYNs past the table with stateless cookies, and a client completing one is served like any other', () => {
    const stack = new TcpStack(floodConfig);
    flood(stack, 10_000);
    assert.equal(stack.halfOpenCount(), 4, 'the flood holds no more state than the table');
    assert.equal(stack.counters['syn-cookies-sent'], 10_000 - 4);
    const client = new Client(floodConfig, 555_555, 40_123, stack);
    client.now = 50;
    const synAck = expectSegment(client.sendSyn({ mss: 1400 }), { control: 'syn', ack: 555_556 });
    assert.equal(synAck.segment.options.mss, 1460, 'our own MSS, as in every SYN-ACK');
    assert.equal(stack.halfOpenCount(), 4);
    client.now = 30_000;
    const accepted = client.deliver().find((a) => a.kind === 'accepted');
    assert.ok(accepted && accepted.kind === 'accepted', 'the cookie ACK completes the handshake');
    client.id = accepted.id;
    assert.equal(stack.counters['syn-cookies-accepted'], 1);
    assert.equal(stack.inspect(client.id)?.effectiveMss, 1300, 'the MSS the cookie carried: 1400 rounds down to 1300');
    // The request rides on the connection the cookie opened.
    const data = client.sendData(text('GET / HTTP/1.1\r\n\r\n'));
    assert.ok(data.some((a) => a.kind === 'data'));
    const reply = client.send(text('HTTP/1.1 200 OK\r\n\r\n'));
    expectSegment(reply, { control: 'none', payloadLength: 19 });
  });

  it('refuses a forged cookie ACK with a RST, and an old one once no cookie was sent for two minutes', () => {
    const stack = new TcpStack(floodConfig);
    flood(stack, 10);
    const forger = new Client(floodConfig, 1000, 40_500, stack);
    forger.seq = 1001;
    forger.ack = 0xdeadbeef;
    expectSegment(forger.deliver(), { control: 'rst', seq: 0xdeadbeef });
    assert.equal(stack.counters['syn-cookies-rejected'], 1);

    const late = new Client(floodConfig, 2000, 40_501, stack);
    late.sendSyn();
    late.now = 121_000;
    expectSegment(late.deliver(), { control: 'rst' });
    assert.equal(stack.counters['syn-cookies-accepted'], undefined);
  });

  it('without a cookie secret a full table still drops SYNs (the old behaviour, counted)', () => {
    const stack = new TcpStack(testConfig({ maxHalfOpen: 2 }));
    flood(stack, 5);
    assert.equal(stack.counters['syn-dropped-half-open-full'], 3);
    expectNothingSent([]);
  });

  it('half-open entries get one SYN-ACK retransmission while the table is half full, so a flood drains in seconds', () => {
    const stack = new TcpStack(testConfig({ maxHalfOpen: 8, synCookieSecret: SECRET }));
    flood(stack, 8);
    let synAcks = 0;
    for (let t = 0; t <= 1_100; t += 100) synAcks += transmits(stack.poll(t)).length;
    assert.equal(synAcks, 8, 'one retransmission each at 1 s');
    for (let t = 1_200; t <= 3_100; t += 100) stack.poll(t);
    // At 3 s each entry's second timeout ends it while the table is still half full: 8 → 4 → the 5th ends too.
    assert.equal(stack.counters['syn-received-timed-out'], 5);
    assert.equal(stack.halfOpenCount(), 3, 'below half, the rest get the normal retries');
  });
});

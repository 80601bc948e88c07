import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  IpProtocol,
  encodeIpv4Packet,
  internetChecksum,
  parseIpv4,
  parseQuotedDatagram,
} from '../../src/wire/index.ts';
import { clientAddr, hex, linuxSynFrame, serviceAddr } from './helpers.ts';

const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** Sets the header checksum of a hand-edited header. */
function fixChecksum(bytes: Uint8Array): Uint8Array {
  const headerLength = (bytes[0] & 0x0f) * 4;
  bytes[10] = 0;
  bytes[11] = 0;
  const c = internetChecksum(bytes.subarray(0, headerLength));
  bytes[10] = c >>> 8;
  bytes[11] = c & 0xff;
  return bytes;
}

test('the captured SYN parses as IPv4', () => {
  const parsed = parseIpv4(linuxSynFrame.subarray(14));
  assert.ok(parsed.ok);
  const { payload, ...header } = parsed.value;
  assert.deepEqual(header, {
    src: clientAddr,
    dst: serviceAddr,
    protocol: IpProtocol.TCP,
    ttl: 64,
    identification: 0xa1b2,
    dontFragment: true,
    dscpEcn: 0,
    headerLength: 20,
  });
  assert.equal(payload.length, 40);
});

test('IPv4 round trip', () => {
  fc.assert(
    fc.property(
      fc.record({
        src: u32,
        dst: u32,
        protocol: fc.integer({ min: 0, max: 255 }),
        ttl: fc.integer({ min: 0, max: 255 }),
        identification: fc.integer({ min: 0, max: 0xffff }),
        dontFragment: fc.boolean(),
        dscpEcn: fc.integer({ min: 0, max: 255 }),
      }),
      fc.uint8Array({ maxLength: 80 }),
      (fields, payload) => {
        assert.deepEqual(parseIpv4(encodeIpv4Packet({ ...fields, payload })), {
          ok: true,
          value: { ...fields, headerLength: 20, payload },
        });
      },
    ),
  );
});

test('Ethernet padding beyond Total Length is sliced off', () => {
  const packet = encodeIpv4Packet({ src: 1, dst: 2, protocol: 1, ttl: 64, identification: 7, payload: hex('0102') });
  const padded = new Uint8Array(46);
  padded.set(packet);
  padded.fill(0xee, packet.length);
  const parsed = parseIpv4(padded);
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value.payload, hex('0102'));
});

test('IPv4 options are covered by the checksum and skipped', () => {
  // IHL 6: one word of options (Router Alert, RFC 2113), then 2 payload bytes.
  const bytes = fixChecksum(hex('4600001a 0001 0000 4001 0000 0a000002 a9fea9fe 94040000 abcd'));
  const parsed = parseIpv4(bytes);
  assert.ok(parsed.ok);
  assert.equal(parsed.value.headerLength, 24);
  assert.deepEqual(parsed.value.payload, hex('abcd'));
  bytes[21] ^= 1; // an option byte, without fixing the checksum
  assert.deepEqual(parseIpv4(bytes), { ok: false, reason: 'bad-checksum' });
});

test('flipping any header byte fails the checksum (or an earlier check)', () => {
  const packet = linuxSynFrame.slice(14);
  for (let i = 0; i < 20; i++) {
    const copy = packet.slice();
    copy[i] ^= 0x10;
    const parsed = parseIpv4(copy);
    assert.equal(parsed.ok, false, `byte ${i}`);
  }
  const copy = packet.slice();
  copy[15] ^= 1; // low byte of the source address
  assert.deepEqual(parseIpv4(copy), { ok: false, reason: 'bad-checksum' });
});

test('fragments are dropped: MF set, or a non-zero offset', () => {
  const base = hex('45000016 0001 0000 4001 0000 0a000002 a9fea9fe abcd');
  for (const [hi, lo] of [
    [0x20, 0x00],
    [0x00, 0x01],
    [0x40, 0x10],
    [0x3f, 0xff],
  ]) {
    const bytes = base.slice();
    bytes[6] = hi;
    bytes[7] = lo;
    assert.deepEqual(parseIpv4(fixChecksum(bytes)), { ok: false, reason: 'fragment' });
  }
});

test('bad version, header length and total length', () => {
  const base = hex('45000016 0001 0000 4001 0000 0a000002 a9fea9fe abcd');
  const edit = (i: number, v: number): Uint8Array => {
    const b = base.slice();
    b[i] = v;
    return fixChecksum(b);
  };
  assert.deepEqual(parseIpv4(edit(0, 0x65)), { ok: false, reason: 'bad-version' });
  assert.deepEqual(parseIpv4(edit(0, 0x44)), { ok: false, reason: 'bad-header-length' });
  assert.deepEqual(parseIpv4(edit(0, 0x4f)), { ok: false, reason: 'truncated' });
  assert.deepEqual(parseIpv4(edit(3, 0x13)), { ok: false, reason: 'bad-total-length' });
  assert.deepEqual(parseIpv4(edit(3, 0x17)), { ok: false, reason: 'truncated' });
});

test('every prefix of a valid packet is rejected without throwing', () => {
  const packet = linuxSynFrame.subarray(14);
  for (let n = 0; n < packet.length; n++) assert.equal(parseIpv4(packet.subarray(0, n)).ok, false, `length ${n}`);
});

test('quoted datagram: header fields and ports from a truncated quote', () => {
  // What a router quotes: our header (TTL now 1, checksum as it was) and the first 8 bytes of TCP.
  const quote = linuxSynFrame.slice(14, 14 + 28);
  quote[8] = 1;
  assert.deepEqual(parseQuotedDatagram(quote), {
    ok: true,
    value: {
      src: clientAddr,
      dst: serviceAddr,
      protocol: 6,
      ttl: 1,
      identification: 41394,
      srcPort: 54321,
      dstPort: 80,
      tcpSeq: 0x3b9aca07,
    },
  });
  assert.deepEqual(parseQuotedDatagram(quote.subarray(0, 24)), {
    ok: true,
    value: {
      src: clientAddr,
      dst: serviceAddr,
      protocol: 6,
      ttl: 1,
      identification: 41394,
      srcPort: 54321,
      dstPort: 80,
    },
  });
  assert.deepEqual(parseQuotedDatagram(quote.subarray(0, 20)), {
    ok: true,
    value: { src: clientAddr, dst: serviceAddr, protocol: 6, ttl: 1, identification: 41394 },
  });
  for (let n = 0; n < 20; n++)
    assert.deepEqual(parseQuotedDatagram(quote.subarray(0, n)), { ok: false, reason: 'truncated' });
  const later = quote.slice();
  later[7] = 1; // a non-first fragment has no transport header
  assert.deepEqual(parseQuotedDatagram(later), {
    ok: true,
    value: { src: clientAddr, dst: serviceAddr, protocol: 6, ttl: 1, identification: 41394 },
  });
});

test('quoted UDP datagram carries ports but no sequence number', () => {
  const quote = hex('45000030 0001 0000 0111 0000 0a000002 a9fea9fe 1f90 0035 001c 0000');
  assert.deepEqual(parseQuotedDatagram(quote), {
    ok: true,
    value: { src: clientAddr, dst: serviceAddr, protocol: 17, ttl: 1, identification: 1, srcPort: 8080, dstPort: 53 },
  });
});

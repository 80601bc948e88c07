import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  EtherType,
  IpProtocol,
  encodeIcmp,
  encodeIcmpFrame,
  parseEthernet,
  parseIcmp,
  parseIpv4,
  type EncodableIcmpMessage,
} from '../../src/wire/index.ts';
import { clientAddr, clientMac, hex, linuxSynFrame, serviceAddr, serviceMac } from './helpers.ts';

const u16 = fc.integer({ min: 0, max: 0xffff });
const message: fc.Arbitrary<EncodableIcmpMessage> = fc.oneof(
  fc
    .tuple(fc.constantFrom('echo-request' as const, 'echo-reply' as const), u16, u16, fc.uint8Array({ maxLength: 64 }))
    .map(([kind, identifier, sequence, data]) => ({ kind, identifier, sequence, data })),
  fc
    .tuple(
      fc.constantFrom('time-exceeded' as const, 'destination-unreachable' as const),
      fc.integer({ min: 0, max: 255 }),
      fc.uint8Array({ maxLength: 64 }),
    )
    .map(([kind, code, original]) => ({ kind, code, original })),
);

test('a ping request as Linux sends it parses', () => {
  assert.deepEqual(parseIcmp(hex('0800 5435 1234 0001 6162636465666768')), {
    ok: true,
    value: { kind: 'echo-request', identifier: 0x1234, sequence: 1, data: new TextEncoder().encode('abcdefgh') },
  });
});

test('ICMP message round trip', () => {
  fc.assert(fc.property(message, (m) => assert.deepEqual(parseIcmp(encodeIcmp(m)), { ok: true, value: m })));
});

test('ICMP frame round trip through Ethernet and IPv4', () => {
  fc.assert(
    fc.property(message, fc.integer({ min: 1, max: 255 }), u16, (m, hopLimit, identification) => {
      const frame = encodeIcmpFrame({
        srcMac: serviceMac,
        dstMac: clientMac,
        srcAddr: serviceAddr,
        dstAddr: clientAddr,
        hopLimit,
        identification,
        message: m,
      });
      const eth = parseEthernet(frame);
      assert.ok(eth.ok);
      assert.equal(eth.value.etherType, EtherType.IPV4);
      const ip = parseIpv4(eth.value.payload);
      assert.ok(ip.ok);
      assert.equal(ip.value.protocol, IpProtocol.ICMP);
      assert.equal(ip.value.ttl, hopLimit);
      assert.equal(ip.value.identification, identification);
      assert.equal(ip.value.src, serviceAddr);
      assert.equal(ip.value.dst, clientAddr);
      assert.deepEqual(parseIcmp(ip.value.payload), { ok: true, value: m });
    }),
  );
});

test('time exceeded carries 4 unused zero bytes then the quote', () => {
  const original = linuxSynFrame.subarray(14, 42);
  const bytes = encodeIcmp({ kind: 'time-exceeded', code: 0, original });
  assert.deepEqual(bytes.subarray(0, 2), hex('0b00'));
  assert.deepEqual(bytes.subarray(4, 8), new Uint8Array(4));
  assert.deepEqual(bytes.subarray(8), original);
});

test('other types are reported by number', () => {
  const bytes = hex('0d00 0000 0000 0000');
  bytes[2] = 0xf2; // checksum of type 13 (timestamp request) with a zero body
  bytes[3] = 0xff;
  assert.deepEqual(parseIcmp(bytes), { ok: true, value: { kind: 'other', type: 13, code: 0 } });
});

test('a flipped byte fails the checksum; short input is truncated', () => {
  const bytes = hex('0800 5435 1234 0001 6162636465666768');
  for (let i = 0; i < bytes.length; i++) {
    const copy = bytes.slice();
    copy[i] ^= 0x01;
    assert.deepEqual(parseIcmp(copy), { ok: false, reason: 'bad-checksum' }, `byte ${i}`);
  }
  for (let n = 0; n < 8; n++) assert.deepEqual(parseIcmp(bytes.subarray(0, n)), { ok: false, reason: 'truncated' });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BROADCAST_MAC,
  ETHERNET_DESTINATION_OFFSET,
  ETHERNET_SOURCE_OFFSET,
  EtherType,
  copyMacAt,
  destinationMac,
  encodeArpFrame,
  encodeEthernet,
  parseArp,
  macAt,
  parseEthernet,
  sourceMac,
  type ArpPacket,
} from '../../src/wire/index.ts';
import { clientAddr, clientMac, hex, serviceAddr, serviceMac } from './helpers.ts';

const mac = fc.uint8Array({ minLength: 6, maxLength: 6 });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

test('Ethernet header fields, payload as a view without copying; addresses compared and copied where they lie', () => {
  const frame = hex('ffffffffffff 020000000002 0806 0102');
  const parsed = parseEthernet(frame);
  assert.ok(parsed.ok);
  assert.deepEqual(destinationMac(frame), BROADCAST_MAC);
  assert.deepEqual(sourceMac(frame), clientMac);
  assert.ok(macAt(frame, ETHERNET_DESTINATION_OFFSET, BROADCAST_MAC));
  assert.ok(macAt(frame, ETHERNET_SOURCE_OFFSET, clientMac));
  assert.ok(!macAt(frame, ETHERNET_SOURCE_OFFSET, BROADCAST_MAC));
  const into = new Uint8Array(6).fill(0xee);
  assert.equal(copyMacAt(frame, ETHERNET_SOURCE_OFFSET, into), into);
  assert.deepEqual(into, clientMac);
  assert.equal(parsed.value.etherType, EtherType.ARP);
  assert.equal(parsed.value.payload.buffer, frame.buffer);
  assert.deepEqual(parsed.value.payload, hex('0102'));
});

test('Ethernet shorter than 14 bytes is truncated', () => {
  for (let n = 0; n < 14; n++) assert.deepEqual(parseEthernet(new Uint8Array(n)), { ok: false, reason: 'truncated' });
});

test('Ethernet round trip, with optional padding to 60 bytes', () => {
  fc.assert(
    fc.property(
      mac,
      mac,
      fc.integer({ min: 0, max: 0xffff }),
      fc.uint8Array({ maxLength: 100 }),
      (dst, src, etherType, payload) => {
        const value = { dst, src, etherType, payload };
        const frame = encodeEthernet(value);
        assert.deepEqual(parseEthernet(frame), { ok: true, value: { etherType, payload } });
        assert.deepEqual([destinationMac(frame), sourceMac(frame)], [dst, src]);
        assert.ok(macAt(frame, ETHERNET_DESTINATION_OFFSET, dst) && macAt(frame, ETHERNET_SOURCE_OFFSET, src));
        const padded = encodeEthernet(value, { pad: true });
        assert.equal(padded.length, Math.max(60, 14 + payload.length));
      },
    ),
  );
});

test('a captured Linux ARP request (who-has 169.254.169.254 tell 10.0.0.2) parses', () => {
  const frame = hex(`
    ffffffffffff 020000000002 0806
    0001 0800 06 04 0001 020000000002 0a000002 000000000000 a9fea9fe
  `);
  const eth = parseEthernet(frame);
  assert.ok(eth.ok);
  assert.deepEqual(parseArp(eth.value.payload), {
    ok: true,
    value: {
      operation: 'request',
      senderMac: clientMac,
      senderIp: clientAddr,
      targetMac: new Uint8Array(6),
      targetIp: serviceAddr,
    },
  });
});

test('ARP frame is padded to the 60-byte minimum and round trips', () => {
  const arbPacket = fc
    .record({
      operation: fc.constantFrom<ArpPacket['operation']>('request', 'reply'),
      senderMac: mac,
      senderIp: u32,
      targetMac: mac,
      targetIp: u32,
    })
    .map((p) => ({ ...p })); // fc.record builds null-prototype objects, which deepStrictEqual tells apart
  fc.assert(
    fc.property(arbPacket, (packet) => {
      const frame = encodeArpFrame({ srcMac: serviceMac, dstMac: clientMac, packet });
      assert.equal(frame.length, 60);
      const eth = parseEthernet(frame);
      assert.ok(eth.ok);
      assert.deepEqual(destinationMac(frame), clientMac);
      assert.deepEqual(sourceMac(frame), serviceMac);
      assert.equal(eth.value.etherType, EtherType.ARP);
      assert.deepEqual(parseArp(eth.value.payload), { ok: true, value: packet });
    }),
  );
});

test('ARP rejects what is not Ethernet/IPv4 request or reply', () => {
  const good = hex('0001 0800 06 04 0001 020000000002 0a000002 000000000000 a9fea9fe');
  const variant = (index: number, byte: number): Uint8Array => {
    const copy = good.slice();
    copy[index] = byte;
    return copy;
  };
  assert.deepEqual(parseArp(variant(1, 6)), { ok: false, reason: 'unsupported-hardware' });
  assert.deepEqual(parseArp(variant(2, 0x86)), { ok: false, reason: 'unsupported-protocol' });
  assert.deepEqual(parseArp(variant(4, 8)), { ok: false, reason: 'bad-address-length' });
  assert.deepEqual(parseArp(variant(5, 16)), { ok: false, reason: 'bad-address-length' });
  assert.deepEqual(parseArp(variant(7, 3)), { ok: false, reason: 'unsupported-operation' });
  for (let n = 0; n < good.length; n++)
    assert.deepEqual(parseArp(good.subarray(0, n)), { ok: false, reason: 'truncated' });
});

// IPv6, ICMPv6 (echo and neighbor discovery) and TCP over IPv6: round trips, checksums against an independent
// pseudo-header sum, truncation as values, and a property that no parser throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  EtherType,
  Ipv6NextHeader,
  emitTcp,
  emitTcpIpv6,
  encodeIcmpv6,
  encodeIcmpv6Frame,
  encodeIpv6Packet,
  encodeTcpIpv6Frame,
  formatIpv6Address,
  internetChecksum,
  ipv6MulticastMac,
  isIpv6ExtensionHeader,
  parseEthernet,
  parseIcmpv6,
  parseIpv6,
  parseIpv6Address,
  parseQuotedIpv6Datagram,
  parseTcp,
  parseTcpIpv6,
  solicitedNodeAddress,
  type EncodableIcmpv6Message,
  type TcpSegment,
} from '../../src/wire/index.ts';
import { clientMac, serviceMac } from './helpers.ts';

const service6 = parseIpv6Address('fd00:ec2::254');
const client6 = parseIpv6Address('fd00:ec2::253');

/** The RFC 8200 §8.1 pseudo-header written out as bytes, so the checksum is checked by a second route. */
function pseudoHeader(src: Uint8Array, dst: Uint8Array, nextHeader: number, length: number): Uint8Array {
  const out = new Uint8Array(40);
  out.set(src, 0);
  out.set(dst, 16);
  new DataView(out.buffer).setUint32(32, length);
  out[39] = nextHeader;
  return out;
}

test('IPv6 addresses parse and format per RFC 5952', () => {
  assert.deepEqual([...service6], [0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54]);
  assert.equal(formatIpv6Address(service6), 'fd00:ec2::254');
  assert.equal(formatIpv6Address(parseIpv6Address('::')), '::');
  assert.equal(formatIpv6Address(parseIpv6Address('::1')), '::1');
  assert.equal(formatIpv6Address(parseIpv6Address('2001:db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
  assert.equal(formatIpv6Address(parseIpv6Address('2001:db8:0:1:1:1:1:1')), '2001:db8:0:1:1:1:1:1');
  for (const bad of ['1::2::3', '1:2:3:4:5:6:7', '12345::', 'g::', '1:2:3:4:5:6:7:8:9', '1:2:3:4::5:6:7:8']) {
    assert.throws(() => parseIpv6Address(bad), /invalid IPv6 address/, bad);
  }
});

test('solicited-node group and its multicast MAC', () => {
  const group = solicitedNodeAddress(service6);
  assert.equal(formatIpv6Address(group), 'ff02::1:ff00:254');
  assert.deepEqual([...ipv6MulticastMac(group)], [0x33, 0x33, 0xff, 0x00, 0x02, 0x54]);
});

test('IPv6 header round trip; padding past Payload Length is cut; truncation is a value', () => {
  const payload = new Uint8Array([1, 2, 3, 4, 5]);
  const packet = encodeIpv6Packet({
    src: client6,
    dst: service6,
    nextHeader: 6,
    hopLimit: 1,
    trafficClass: 0xab,
    flowLabel: 0x12345,
    payload,
  });
  const padded = new Uint8Array(packet.length + 7);
  padded.set(packet);
  const parsed = parseIpv6(padded);
  assert.ok(parsed.ok);
  assert.equal(parsed.value.hopLimit, 1);
  assert.equal(parsed.value.nextHeader, 6);
  assert.equal(parsed.value.trafficClass, 0xab);
  assert.equal(parsed.value.flowLabel, 0x12345);
  assert.deepEqual([...parsed.value.src], [...client6]);
  assert.deepEqual([...parsed.value.dst], [...service6]);
  assert.deepEqual([...parsed.value.payload], [...payload]);
  assert.deepEqual(encodeIpv6Packet({ ...parsed.value, payload: parsed.value.payload }), packet, 'emit(parse(b)) == b');
  assert.deepEqual(parseIpv6(packet.subarray(0, 39)), { ok: false, reason: 'truncated' });
  assert.deepEqual(parseIpv6(packet.subarray(0, packet.length - 1)), { ok: false, reason: 'truncated' });
  const v4 = packet.slice();
  v4[0] = 0x45;
  assert.deepEqual(parseIpv6(v4), { ok: false, reason: 'bad-version' });
  for (const header of [0, 43, 44, 60]) assert.ok(isIpv6ExtensionHeader(header));
  for (const header of [Ipv6NextHeader.TCP, Ipv6NextHeader.ICMPV6, 17]) assert.ok(!isIpv6ExtensionHeader(header));
});

const messages: EncodableIcmpv6Message[] = [
  { kind: 'echo-request', identifier: 0x1234, sequence: 7, data: new Uint8Array([9, 8, 7]) },
  { kind: 'echo-reply', identifier: 1, sequence: 0xffff, data: new Uint8Array(0) },
  { kind: 'neighbor-solicitation', target: service6, sourceLinkAddress: clientMac },
  { kind: 'neighbor-solicitation', target: service6 },
  {
    kind: 'neighbor-advertisement',
    router: false,
    solicited: true,
    override: true,
    target: service6,
    targetLinkAddress: serviceMac,
  },
  { kind: 'neighbor-advertisement', router: true, solicited: false, override: false, target: service6 },
  { kind: 'time-exceeded', code: 0, original: new Uint8Array(48).fill(0x61) },
  { kind: 'destination-unreachable', code: 4, original: new Uint8Array(0) },
];

test('ICMPv6 echo and ND round trip, with the checksum over the IPv6 pseudo-header', () => {
  for (const message of messages) {
    const bytes = encodeIcmpv6(message, client6, service6);
    assert.equal(internetChecksum(pseudoHeader(client6, service6, 58, bytes.length), bytes), 0, message.kind);
    const parsed = parseIcmpv6(bytes, client6, service6);
    assert.ok(parsed.ok, message.kind);
    assert.deepEqual(
      JSON.parse(JSON.stringify(parsed.value, (_k, v) => (v instanceof Uint8Array ? [...v] : v))),
      JSON.parse(JSON.stringify(message, (_k, v) => (v instanceof Uint8Array ? [...v] : v))),
    );
    assert.deepEqual(
      encodeIcmpv6(parsed.value as EncodableIcmpv6Message, client6, service6),
      bytes,
      'emit(parse(b)) == b',
    );
    // The pseudo-header matters: the same bytes between other addresses fail.
    assert.deepEqual(parseIcmpv6(bytes, client6, solicitedNodeAddress(service6)), {
      ok: false,
      reason: 'bad-checksum',
    });
  }
  const na = encodeIcmpv6(messages[4]!, service6, client6);
  assert.equal(na[0], 136);
  assert.equal(na[4], 0x60, 'solicited + override');
  assert.deepEqual([...na.subarray(24)], [2, 1, ...serviceMac], 'target link-layer address option');
});

test('an ICMPv6 error quoting one of our TCP segments names its addresses, ports and sequence number', () => {
  const tokenSegment: TcpSegment = {
    srcPort: 80,
    dstPort: 40123,
    seq: 0xdeadbeef,
    ack: 1,
    control: 'none',
    push: true,
    window: 1000,
    options: {},
    payload: new Uint8Array(300),
  };
  const frame = encodeTcpIpv6Frame({
    srcMac: serviceMac,
    dstMac: clientMac,
    srcAddr: service6,
    dstAddr: client6,
    hopLimit: 1,
    segment: tokenSegment,
  });
  // A router quotes the packet as it arrived, cut to fit the minimum MTU: here just past the TCP sequence number.
  const quote = frame.slice(14, 14 + 40 + 8);
  const error = encodeIcmpv6({ kind: 'time-exceeded', code: 0, original: quote }, client6, service6);
  const parsed = parseIcmpv6(error, client6, service6);
  assert.ok(parsed.ok && parsed.value.kind === 'time-exceeded');
  const quoted = parseQuotedIpv6Datagram(parsed.value.original);
  assert.ok(quoted.ok);
  assert.equal(formatIpv6Address(quoted.value.src), 'fd00:ec2::254');
  assert.equal(formatIpv6Address(quoted.value.dst), 'fd00:ec2::253');
  assert.equal(quoted.value.hopLimit, 1);
  assert.deepEqual(
    [quoted.value.nextHeader, quoted.value.srcPort, quoted.value.dstPort, quoted.value.tcpSeq],
    [Ipv6NextHeader.TCP, 80, 40123, 0xdeadbeef],
  );
  const headerOnly = parseQuotedIpv6Datagram(quote.subarray(0, 44));
  assert.ok(headerOnly.ok && headerOnly.value.tcpSeq === undefined, 'a quote cut before the sequence number has none');
  assert.equal(headerOnly.value.dstPort, 40123, 'but its ports, as over IPv4');
  assert.deepEqual(parseQuotedIpv6Datagram(quote.subarray(0, 39)), { ok: false, reason: 'truncated' });
});

test('ICMPv6: truncation, a bad checksum and a zero-length option are values', () => {
  const ns = encodeIcmpv6(messages[2]!, client6, service6);
  assert.deepEqual(parseIcmpv6(ns.subarray(0, 7), client6, service6), { ok: false, reason: 'truncated' });
  for (let cut = 0; cut < ns.length; cut++) assert.equal(parseIcmpv6(ns.subarray(0, cut), client6, service6).ok, false);
  const broken = ns.slice();
  broken[30] ^= 0x01;
  assert.deepEqual(parseIcmpv6(broken, client6, service6), { ok: false, reason: 'bad-checksum' });
  const zeroOption = encodeIcmpv6({ kind: 'neighbor-solicitation', target: service6 }, client6, service6);
  const withOption = new Uint8Array(zeroOption.length + 8);
  withOption.set(zeroOption);
  withOption[24] = 1; // source link-layer address, length 0
  withOption[2] = 0;
  withOption[3] = 0;
  const sum = internetChecksum(pseudoHeader(client6, service6, 58, withOption.length), withOption);
  withOption[2] = sum >>> 8;
  withOption[3] = sum & 0xff;
  assert.deepEqual(parseIcmpv6(withOption, client6, service6), { ok: false, reason: 'bad-option' });
  const other = encodeIcmpv6(messages[0]!, client6, service6);
  other[0] = 133; // router solicitation
  other[2] = 0;
  other[3] = 0;
  const s = internetChecksum(pseudoHeader(client6, service6, 58, other.length), other);
  other[2] = s >>> 8;
  other[3] = s & 0xff;
  assert.deepEqual(parseIcmpv6(other, client6, service6), { ok: true, value: { kind: 'other', type: 133, code: 0 } });
});

const segment: TcpSegment = {
  srcPort: 80,
  dstPort: 40000,
  seq: 0xfffffff0,
  ack: 12345,
  control: 'none',
  push: true,
  window: 502,
  options: { timestamp: { value: 1, echo: 2 } },
  payload: new TextEncoder().encode('HTTP/1.1 200 OK\r\n\r\nAQAEA'),
};

test('TCP over IPv6: same segment bytes as over IPv4 but for the checksum, verified over the IPv6 pseudo-header', () => {
  const v6 = emitTcpIpv6(segment, service6, client6);
  const v4 = emitTcp(segment, 0xa9fea9fe, 0xa9fea9fd);
  assert.deepEqual([...v6.subarray(0, 16)], [...v4.subarray(0, 16)]);
  assert.deepEqual([...v6.subarray(18)], [...v4.subarray(18)]);
  assert.equal(internetChecksum(pseudoHeader(service6, client6, 6, v6.length), v6), 0);
  const parsed = parseTcpIpv6(v6, service6, client6);
  assert.ok(parsed.ok);
  assert.deepEqual(
    { ...parsed.value, payload: [...parsed.value.payload] },
    { ...segment, payload: [...segment.payload] },
  );
  assert.deepEqual(emitTcpIpv6(parsed.value, service6, client6), v6, 'emit(parse(b)) == b');
  assert.deepEqual(parseTcpIpv6(v6, service6, solicitedNodeAddress(client6)), { ok: false, reason: 'bad-checksum' });
  assert.deepEqual(parseTcpIpv6(v6, service6, client6.subarray(0, 4)), { ok: false, reason: 'bad-address' });
  assert.equal(parseTcp(v6, 0xa9fea9fe, 0xa9fea9fd).ok, false, 'the IPv4 checksum does not accept it');
  for (let cut = 0; cut < 20; cut++)
    assert.deepEqual(parseTcpIpv6(v6.subarray(0, cut), service6, client6), { ok: false, reason: 'truncated' });
});

test('Ethernet + IPv6 frames carry the hop limit chosen per packet', () => {
  const frame = encodeTcpIpv6Frame({
    srcMac: serviceMac,
    dstMac: clientMac,
    srcAddr: service6,
    dstAddr: client6,
    hopLimit: 1,
    segment,
  });
  const eth = parseEthernet(frame);
  assert.ok(eth.ok);
  assert.equal(eth.value.etherType, EtherType.IPV6);
  const ip = parseIpv6(eth.value.payload);
  assert.ok(ip.ok);
  assert.equal(ip.value.hopLimit, 1);
  assert.equal(ip.value.nextHeader, Ipv6NextHeader.TCP);
  assert.ok(parseTcpIpv6(ip.value.payload, ip.value.src, ip.value.dst).ok);
  const echo = encodeIcmpv6Frame({
    srcMac: serviceMac,
    dstMac: clientMac,
    srcAddr: service6,
    dstAddr: client6,
    hopLimit: 64,
    message: messages[1]!,
  });
  const echoIp = parseIpv6(echo.subarray(14));
  assert.ok(echoIp.ok);
  assert.equal(echoIp.value.hopLimit, 64);
  assert.equal(echoIp.value.nextHeader, Ipv6NextHeader.ICMPV6);
  assert.ok(parseIcmpv6(echoIp.value.payload, echoIp.value.src, echoIp.value.dst).ok);
});

test('IPv6 parsers never throw on arbitrary bytes, nor on a real frame overwritten and cut', () => {
  const address = fc.uint8Array({ minLength: 0, maxLength: 17 });
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 160 }), address, address, (bytes, src, dst) => {
      parseIpv6(bytes);
      parseQuotedIpv6Datagram(bytes);
      parseIcmpv6(bytes, src, dst);
      parseTcpIpv6(bytes, src, dst);
    }),
    { numRuns: 2000 },
  );
  const real = encodeIcmpv6Frame({
    srcMac: clientMac,
    dstMac: serviceMac,
    srcAddr: client6,
    dstAddr: service6,
    hopLimit: 255,
    message: messages[2]!,
  });
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(real.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      fc.nat(real.length),
      (edits, cut) => {
        const frame = real.slice(0, cut);
        for (const [i, v] of edits) if (i < frame.length) frame[i] = v;
        const ip = parseIpv6(frame.subarray(14));
        if (ip.ok) {
          parseIcmpv6(ip.value.payload, ip.value.src, ip.value.dst);
          parseTcpIpv6(ip.value.payload, ip.value.src, ip.value.dst);
        }
        parseIcmpv6(frame.subarray(54), client6, service6);
      },
    ),
    { numRuns: 2000 },
  );
});

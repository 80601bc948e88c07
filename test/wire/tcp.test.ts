import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  EtherType,
  IpProtocol,
  emitTcp,
  encodeTcpFrame,
  encodeTcpFrameInto,
  encodeTcpIpv6Frame,
  encodeTcpIpv6FrameInto,
  internetChecksum,
  parseEthernet,
  parseIpv4,
  parseTcp,
  pseudoHeaderSum,
  finishChecksum,
  sumWords,
  type TcpOptions,
  type TcpSegment,
} from '../../src/wire/index.ts';
import { clientAddr, clientMac, hex, linuxSynFrame, linuxSynTcp, serviceAddr, serviceMac } from './helpers.ts';

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

const options: fc.Arbitrary<TcpOptions> = fc
  .record(
    {
      mss: u16,
      windowScale: fc.integer({ min: 0, max: 14 }),
      sackPermitted: fc.constant(true),
      timestamp: fc.record({ value: u32, echo: u32 }).map((t) => ({ ...t })),
    },
    { requiredKeys: [] },
  )
  .map((o) => ({ ...o })); // fc.record objects have a null prototype

/** Every segment the record can express that parseTcp accepts (a bare segment without ACK is a scan). */
const segment: fc.Arbitrary<TcpSegment> = fc
  .record({
    srcPort: u16,
    dstPort: u16,
    seq: u32,
    ack: fc.option(u32, { nil: undefined }),
    control: fc.constantFrom('none' as const, 'syn' as const, 'fin' as const, 'rst' as const),
    push: fc.boolean(),
    window: u16,
    options,
    payload: fc.uint8Array({ maxLength: 64 }),
  })
  .filter((s) => s.control !== 'none' || s.ack !== undefined)
  .map((s) => ({ ...s }));

/** Rewrites the checksum after a hand edit, so the test reaches the check it means. */
function fixChecksum(bytes: Uint8Array, src = clientAddr, dst = serviceAddr): Uint8Array {
  bytes[16] = 0;
  bytes[17] = 0;
  const c = finishChecksum(sumWords(bytes, 0, bytes.length, pseudoHeaderSum(src, dst, IpProtocol.TCP, bytes.length)));
  bytes[16] = c >>> 8;
  bytes[17] = c & 0xff;
  return bytes;
}

const baseAck = hex('d431 0050 00000001 00000002 5010 ffff 0000 0000 6869'); // ACK, 2 bytes payload

test('the captured Linux SYN parses with all four options', () => {
  assert.deepEqual(parseTcp(linuxSynTcp, clientAddr, serviceAddr), {
    ok: true,
    value: {
      srcPort: 54321,
      dstPort: 80,
      seq: 0x3b9aca07,
      ack: undefined,
      control: 'syn',
      push: false,
      window: 64240,
      options: { mss: 1460, sackPermitted: true, timestamp: { value: 0x0012d687, echo: 0 }, windowScale: 7 },
      payload: new Uint8Array(0),
    },
  });
});

test('emit(parse(Linux SYN)) reproduces the bytes, and the whole frame too', () => {
  const parsed = parseTcp(linuxSynTcp, clientAddr, serviceAddr);
  assert.ok(parsed.ok);
  assert.deepEqual(emitTcp(parsed.value, clientAddr, serviceAddr), linuxSynTcp);
  const frame = encodeTcpFrame({
    srcMac: clientMac,
    dstMac: serviceMac,
    srcAddr: clientAddr,
    dstAddr: serviceAddr,
    hopLimit: 64,
    identification: 0xa1b2,
    segment: parsed.value,
  });
  assert.deepEqual(frame, linuxSynFrame);
});

test('Linux option layouts without SACK or timestamps re-emit byte for byte', () => {
  for (const opts of [
    '020405b4 0101080a 00000001 00000002 01030307',
    '020405b4 01010402 01030300',
    '0101080a 00000001 00000002',
  ]) {
    const o = hex(opts);
    const bytes = new Uint8Array(20 + o.length);
    bytes.set(hex('d431 0050 00000001 00000000 0012 faf0 0000 0000'));
    bytes[12] = ((20 + o.length) / 4) << 4;
    bytes.set(o, 20);
    fixChecksum(bytes);
    const parsed = parseTcp(bytes, clientAddr, serviceAddr);
    assert.ok(parsed.ok, opts);
    assert.deepEqual(emitTcp(parsed.value, clientAddr, serviceAddr), bytes, opts);
  }
});

test('parseTcp(emitTcp(segment)) is the segment', () => {
  fc.assert(
    fc.property(segment, u32, u32, (s, src, dst) => {
      const bytes = emitTcp(s, src, dst);
      assert.equal((bytes[12] >>> 4) * 4 + s.payload.length, bytes.length);
      assert.deepEqual(parseTcp(bytes, src, dst), { ok: true, value: s });
    }),
  );
});

test('TCP frame: DF set, protocol 6, TTL and segment intact', () => {
  fc.assert(
    fc.property(segment, fc.integer({ min: 1, max: 255 }), u16, (s, hopLimit, identification) => {
      const frame = encodeTcpFrame({
        srcMac: serviceMac,
        dstMac: clientMac,
        srcAddr: serviceAddr,
        dstAddr: clientAddr,
        hopLimit,
        identification,
        segment: s,
      });
      const eth = parseEthernet(frame);
      assert.ok(eth.ok);
      assert.equal(eth.value.etherType, EtherType.IPV4);
      const ip = parseIpv4(eth.value.payload);
      assert.ok(ip.ok);
      assert.equal(ip.value.dontFragment, true);
      assert.equal(ip.value.protocol, IpProtocol.TCP);
      assert.equal(ip.value.ttl, hopLimit);
      assert.equal(ip.value.identification, identification);
      assert.deepEqual(parseTcp(ip.value.payload, ip.value.src, ip.value.dst), { ok: true, value: s });
    }),
  );
});

test('a frame written into a reused, dirty buffer is byte for byte the frame built fresh (IPv4 and IPv6)', () => {
  const scratch = new Uint8Array(70_000).fill(0xa5); // stale bytes everywhere a longer earlier frame left them
  const view = new DataView(scratch.buffer);
  const v6 = (last: number) => Uint8Array.from({ length: 16 }, (_, i) => (i === 0 ? 0xfd : i === 15 ? last : 0));
  fc.assert(
    fc.property(segment, fc.integer({ min: 1, max: 255 }), u16, (s, hopLimit, identification) => {
      const v4 = { srcMac: serviceMac, dstMac: clientMac, srcAddr: serviceAddr, dstAddr: clientAddr, hopLimit };
      const fresh = encodeTcpFrame({ ...v4, identification, segment: s });
      assert.equal(encodeTcpFrameInto(scratch, view, { ...v4, identification, segment: s }), fresh.length);
      assert.deepEqual(scratch.subarray(0, fresh.length), fresh);
      const ipv6 = { srcMac: serviceMac, dstMac: clientMac, srcAddr: v6(0x54), dstAddr: v6(1), hopLimit, segment: s };
      const fresh6 = encodeTcpIpv6Frame(ipv6);
      assert.equal(encodeTcpIpv6FrameInto(scratch, view, ipv6), fresh6.length);
      assert.deepEqual(scratch.subarray(0, fresh6.length), fresh6);
    }),
  );
});

test('the checksum covers the pseudo-header, header and payload', () => {
  assert.ok(parseTcp(fixChecksum(baseAck.slice()), clientAddr, serviceAddr).ok);
  const good = fixChecksum(baseAck.slice());
  for (let i = 0; i < good.length; i++) {
    const copy = good.slice();
    copy[i] ^= 0x04;
    assert.deepEqual(parseTcp(copy, clientAddr, serviceAddr), { ok: false, reason: 'bad-checksum' }, `byte ${i}`);
  }
  assert.deepEqual(parseTcp(good, clientAddr + 1, serviceAddr), { ok: false, reason: 'bad-checksum' });
  assert.deepEqual(parseTcp(good, clientAddr, serviceAddr + 256), { ok: false, reason: 'bad-checksum' });
});

test('an odd-length payload checksums with zero padding', () => {
  const s: TcpSegment = {
    srcPort: 1,
    dstPort: 2,
    seq: 3,
    ack: 4,
    control: 'none',
    push: true,
    window: 5,
    options: {},
    payload: hex('414243'),
  };
  const bytes = emitTcp(s, clientAddr, serviceAddr);
  const pseudo = hex('0a000002 a9fea9fe 0006 0017');
  const zeroed = bytes.slice();
  zeroed[16] = 0;
  zeroed[17] = 0;
  assert.equal((bytes[16] << 8) | bytes[17], internetChecksum(pseudo, zeroed));
});

test('flag combinations', () => {
  const cases: [number, string | undefined][] = [
    [0x10, 'none'],
    [0x18, 'none'],
    [0x02, 'syn'],
    [0x12, 'syn'],
    [0x11, 'fin'],
    [0x01, 'fin'],
    [0x04, 'rst'],
    [0x14, 'rst'],
    [0x30, 'none'], // URG ignored
    [0x03, undefined],
    [0x06, undefined],
    [0x05, undefined],
    [0x07, undefined],
    [0x13, undefined],
    [0x00, undefined],
    [0x08, undefined],
    [0x20, undefined],
  ];
  for (const [flags, control] of cases) {
    const bytes = baseAck.slice();
    bytes[13] = flags;
    const parsed = parseTcp(fixChecksum(bytes), clientAddr, serviceAddr);
    if (control === undefined) assert.deepEqual(parsed, { ok: false, reason: 'bad-flags' }, `flags ${flags}`);
    else {
      assert.ok(parsed.ok, `flags ${flags}`);
      assert.equal(parsed.value.control, control);
      assert.equal(parsed.value.ack, flags & 0x10 ? 2 : undefined);
      assert.equal(parsed.value.push, (flags & 0x08) !== 0);
    }
  }
});

test('data offset below 5 or past the end', () => {
  for (const offset of [0, 4, 6, 15]) {
    const bytes = baseAck.slice();
    bytes[12] = offset << 4;
    assert.deepEqual(
      parseTcp(fixChecksum(bytes), clientAddr, serviceAddr),
      { ok: false, reason: 'bad-header-length' },
      `offset ${offset}`,
    );
  }
});

function withOptions(opts: string): Uint8Array {
  const o = hex(opts);
  const bytes = new Uint8Array(20 + o.length);
  bytes.set(baseAck.subarray(0, 20));
  bytes[12] = ((20 + o.length) / 4) << 4;
  bytes.set(o, 20);
  return fixChecksum(bytes);
}

test('options: unknown ones skipped, EOL ends the list', () => {
  const parsed = parseTcp(withOptions('0101050a 00000001 00000002 0402 0000'), clientAddr, serviceAddr); // SACK block, SACK-ok, EOL
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value.options, { sackPermitted: true });
  const afterEol = parseTcp(withOptions('00 020405b4 000000'), clientAddr, serviceAddr);
  assert.ok(afterEol.ok);
  assert.deepEqual(afterEol.value.options, {});
  const unknown = parseTcp(withOptions('fe04abcd'), clientAddr, serviceAddr);
  assert.ok(unknown.ok);
  assert.deepEqual(unknown.value.options, {});
});

test('options: malformed lengths are bad-option', () => {
  for (const opts of [
    '02000000',
    '02010000',
    '01010102',
    '0204',
    'fe05abcd',
    '03020000',
    '020305b4',
    '08080000 00000000',
    '04030000',
  ]) {
    const bytes = opts.length % 8 === 0 ? withOptions(opts) : withOptions(opts.padStart(8, '01'));
    assert.deepEqual(parseTcp(bytes, clientAddr, serviceAddr), { ok: false, reason: 'bad-option' }, opts);
  }
});

test('every prefix of a valid segment is rejected without throwing', () => {
  for (let n = 0; n < linuxSynTcp.length; n++) {
    assert.equal(parseTcp(linuxSynTcp.subarray(0, n), clientAddr, serviceAddr).ok, false, `length ${n}`);
  }
});

const OFFLOAD_SRC = 0xc6120002; // 198.18.0.2
const OFFLOAD_DST = 0xa9fea9fe; // 169.254.169.254

/** A SYN as a capture sees it when the sender left the checksum to the NIC: the folded pseudo-header sum. */
function offloadedSyn(): Uint8Array {
  const bytes = emitTcp(
    {
      srcPort: 40000,
      dstPort: 80,
      seq: 1,
      ack: undefined,
      control: 'syn',
      push: false,
      window: 64240,
      options: { mss: 1460 },
      payload: new Uint8Array(),
    },
    OFFLOAD_SRC,
    OFFLOAD_DST,
  );
  let pseudo =
    (OFFLOAD_SRC >>> 16) + (OFFLOAD_SRC & 0xffff) + (OFFLOAD_DST >>> 16) + (OFFLOAD_DST & 0xffff) + 6 + bytes.length;
  while (pseudo > 0xffff) pseudo = (pseudo & 0xffff) + (pseudo >>> 16);
  bytes[16] = pseudo >>> 8;
  bytes[17] = pseudo & 0xff;
  return bytes;
}

test('an offloaded (partial) checksum is refused by default and accepted only when asked', () => {
  assert.deepEqual(parseTcp(offloadedSyn(), OFFLOAD_SRC, OFFLOAD_DST), { ok: false, reason: 'bad-checksum' });
  assert.equal(parseTcp(offloadedSyn(), OFFLOAD_SRC, OFFLOAD_DST, { acceptOffloadedChecksum: true }).ok, true);
});

test('accepting offloaded checksums excuses no other wrong checksum', () => {
  const bytes = offloadedSyn();
  bytes[17] = (bytes[17] as number) ^ 0x01;
  assert.deepEqual(parseTcp(bytes, OFFLOAD_SRC, OFFLOAD_DST, { acceptOffloadedChecksum: true }), {
    ok: false,
    reason: 'bad-checksum',
  });
});

// Bad bytes are values, never exceptions: every parser on arbitrary input, and on mutations of real packets.
import { test } from 'node:test';
import fc from 'fast-check';
import {
  parseArp,
  parseEthernet,
  parseIcmp,
  parseIcmpv6,
  parseIpv4,
  parseIpv6,
  parseQuotedDatagram,
  parseTcp,
  parseTcpIpv6,
} from '../../src/wire/index.ts';
import { linuxSynFrame } from './helpers.ts';

const u32 = fc.integer({ min: 0, max: 0xffffffff });

function parseAll(bytes: Uint8Array, src: number, dst: number): void {
  parseEthernet(bytes);
  parseArp(bytes);
  parseIpv4(bytes);
  parseIcmp(bytes);
  parseQuotedDatagram(bytes);
  parseTcp(bytes, src, dst);
  parseIpv6(bytes);
  const src6 = bytes.subarray(0, 16);
  const dst6 = bytes.subarray(16, 32);
  parseIcmpv6(bytes, src6, dst6);
  parseTcpIpv6(bytes, src6, dst6);
}

test('parsers never throw on arbitrary bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 128 }), u32, u32, (bytes, src, dst) => {
      parseAll(bytes, src, dst);
    }),
    { numRuns: 2000 },
  );
});

test('parsers never throw on a real frame with bytes overwritten and cut', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(linuxSynFrame.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      fc.nat(linuxSynFrame.length),
      (edits, cut) => {
        const frame = linuxSynFrame.slice(0, cut);
        for (const [i, v] of edits) if (i < frame.length) frame[i] = v;
        parseAll(frame, 0x0a000002, 0xa9fea9fe);
        parseAll(frame.subarray(14), 0x0a000002, 0xa9fea9fe);
        parseAll(frame.subarray(34), 0x0a000002, 0xa9fea9fe);
      },
    ),
    { numRuns: 2000 },
  );
});

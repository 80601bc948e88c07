import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { finishChecksum, internetChecksum, pseudoHeaderSum, sumWords } from '../../src/wire/index.ts';
import { hex } from './helpers.ts';

test('RFC 1071 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2', () => {
  assert.equal(internetChecksum(hex('0001f203f4f5f6f7')), ~0xddf2 & 0xffff);
});

test('odd lengths pad with a zero byte', () => {
  assert.equal(internetChecksum(hex('01')), ~0x0100 & 0xffff);
  assert.equal(internetChecksum(new Uint8Array(0)), 0xffff);
});

test('checksum of parts equals checksum of their concatenation, whatever the split', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(64), fc.nat(64), (bytes, a, b) => {
      const [i, j] = [Math.min(a, b, bytes.length), Math.min(Math.max(a, b), bytes.length)];
      return (
        internetChecksum(bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)) === internetChecksum(bytes)
      );
    }),
  );
});

test('a buffer with its checksum inserted verifies to zero', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 2, maxLength: 64 }), (bytes) => {
      const copy = bytes.slice();
      copy[0] = 0;
      copy[1] = 0;
      const c = internetChecksum(copy);
      copy[0] = c >>> 8;
      copy[1] = c & 0xff;
      return finishChecksum(sumWords(copy)) === 0;
    }),
  );
});

test('pseudo-header sum matches the explicit 12-byte pseudo-header', () => {
  const explicit = hex('0a000002 a9fea9fe 0006 0028');
  assert.equal(finishChecksum(pseudoHeaderSum(0x0a000002, 0xa9fea9fe, 6, 40)), internetChecksum(explicit));
});

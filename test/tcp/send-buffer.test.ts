import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SendBuffer } from '../../src/tcp/send-buffer.ts';
import type { BytesTag } from '../../src/tcp/index.ts';
import { bytes } from './helpers.ts';

const PLAIN: BytesTag = { hopLimit: 64, tokenResponse: false };
const TOKEN: BytesTag = { hopLimit: 1, tokenResponse: true };
/** A token response whose hop limit equals the default: only the tag tells it from plain bytes. */
const TOKEN_AT_64: BytesTag = { hopLimit: 64, tokenResponse: true };

describe('send buffer with tagged bytes', () => {
  it('peeks across chunks of the same tag, also when the tag objects differ', () => {
    const buffer = new SendBuffer();
    buffer.push(bytes(3, 1), PLAIN);
    buffer.push(bytes(4, 2), { ...PLAIN });
    const range = buffer.peek(1, 10);
    assert.deepEqual(range?.tag, PLAIN);
    assert.deepEqual([...(range?.bytes ?? [])], [...bytes(3, 1).subarray(1), ...bytes(4, 2)]);
  });

  it('stops a peek at a tag boundary', () => {
    const buffer = new SendBuffer();
    buffer.push(bytes(5, 1), PLAIN);
    buffer.push(bytes(5, 2), TOKEN);
    buffer.push(bytes(5, 3), PLAIN);
    assert.deepEqual(buffer.peek(2, 100)?.bytes.length, 3);
    const token = buffer.peek(5, 100);
    assert.equal(token?.tag, TOKEN);
    assert.deepEqual(token?.bytes, bytes(5, 2));
    assert.equal(buffer.peek(8, 100)?.bytes.length, 2);
    assert.equal(buffer.peek(10, 100)?.tag, PLAIN);
    assert.equal(buffer.peek(15, 100), undefined);
    assert.equal(buffer.tagAt(9), TOKEN);
  });

  it('keeps a token response apart from plain bytes of the same hop limit', () => {
    const buffer = new SendBuffer();
    buffer.push(bytes(5, 1), PLAIN);
    buffer.push(bytes(5, 2), TOKEN_AT_64);
    buffer.push(bytes(5, 3), PLAIN);
    assert.deepEqual(buffer.peek(0, 100), { tag: PLAIN, bytes: bytes(5, 1) });
    assert.deepEqual(buffer.peek(5, 100), { tag: TOKEN_AT_64, bytes: bytes(5, 2) });
    assert.equal(buffer.peek(10, 100)?.tag, PLAIN);
  });

  it('consumes acknowledged bytes from the front, inside and across chunks', () => {
    const buffer = new SendBuffer();
    buffer.push(bytes(5, 1), PLAIN);
    buffer.push(bytes(5, 2), TOKEN);
    buffer.consume(3);
    assert.equal(buffer.length, 7);
    assert.deepEqual(buffer.peek(0, 100)?.bytes, bytes(5, 1).subarray(3));
    buffer.consume(4);
    assert.equal(buffer.length, 3);
    assert.deepEqual(buffer.peek(0, 100), { tag: TOKEN, bytes: bytes(5, 2).subarray(2) });
    buffer.consume(100);
    assert.equal(buffer.length, 0);
    assert.equal(buffer.peek(0, 1), undefined);
  });

  it('copies pushed bytes so the caller may reuse its array', () => {
    const buffer = new SendBuffer();
    const source = bytes(4);
    buffer.push(source, PLAIN);
    source.fill(0);
    assert.deepEqual(buffer.peek(0, 4)?.bytes, bytes(4));
  });

  it('any peek returns exactly the bytes at that offset, all of one tag (property)', () => {
    const tagKey = (tag: BytesTag) => `${tag.hopLimit}/${tag.tokenResponse}`;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            length: fc.integer({ min: 0, max: 20 }),
            hopLimit: fc.constantFrom(1, 2, 64),
            tokenResponse: fc.boolean(),
          }),
          { maxLength: 8 },
        ),
        fc.nat(30),
        fc.nat(100),
        fc.integer({ min: 1, max: 40 }),
        (chunks, consumed, offset, max) => {
          const buffer = new SendBuffer();
          const flat: { byte: number; tag: string }[] = [];
          chunks.forEach((c, i) => {
            const b = bytes(c.length, i * 17);
            buffer.push(b, { hopLimit: c.hopLimit, tokenResponse: c.tokenResponse });
            for (const byte of b) flat.push({ byte, tag: tagKey(c) });
          });
          buffer.consume(consumed);
          const rest = flat.slice(consumed);
          assert.equal(buffer.length, rest.length);
          const range = buffer.peek(offset, max);
          if (offset >= rest.length) return assert.equal(range, undefined);
          assert.ok(range && range.bytes.length >= 1 && range.bytes.length <= max);
          range.bytes.forEach((b, i) => {
            assert.equal(b, rest[offset + i].byte);
            assert.equal(rest[offset + i].tag, tagKey(range.tag));
          });
          const next = rest[offset + range.bytes.length];
          if (range.bytes.length < max && next) assert.notEqual(next.tag, tagKey(range.tag));
        },
      ),
    );
  });
});

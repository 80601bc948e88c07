import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SendBuffer } from '../../src/tcp/send-buffer.ts';
import { bytes } from './helpers.ts';

describe('send buffer with TTL-tagged bytes', () => {
  it('peeks across chunks of the same TTL', () => {
    const buffer = new SendBuffer();
    buffer.push(bytes(3, 1), 64);
    buffer.push(bytes(4, 2), 64);
    const range = buffer.peek(1, 10);
    assert.equal(range?.ttl, 64);
    assert.deepEqual([...(range?.bytes ?? [])], [...bytes(3, 1).subarray(1), ...bytes(4, 2)]);
  });

  it('stops a peek at a TTL boundary', () => {
    const buffer = new SendBuffer();
    buffer.push(bytes(5, 1), 64);
    buffer.push(bytes(5, 2), 1);
    buffer.push(bytes(5, 3), 64);
    assert.deepEqual(buffer.peek(2, 100)?.bytes.length, 3);
    const token = buffer.peek(5, 100);
    assert.equal(token?.ttl, 1);
    assert.deepEqual(token?.bytes, bytes(5, 2));
    assert.equal(buffer.peek(8, 100)?.bytes.length, 2);
    assert.equal(buffer.peek(10, 100)?.ttl, 64);
    assert.equal(buffer.peek(15, 100), undefined);
    assert.equal(buffer.ttlAt(9), 1);
  });

  it('consumes acknowledged bytes from the front, inside and across chunks', () => {
    const buffer = new SendBuffer();
    buffer.push(bytes(5, 1), 64);
    buffer.push(bytes(5, 2), 1);
    buffer.consume(3);
    assert.equal(buffer.length, 7);
    assert.deepEqual(buffer.peek(0, 100)?.bytes, bytes(5, 1).subarray(3));
    buffer.consume(4);
    assert.equal(buffer.length, 3);
    assert.deepEqual(buffer.peek(0, 100), { ttl: 1, bytes: bytes(5, 2).subarray(2) });
    buffer.consume(100);
    assert.equal(buffer.length, 0);
    assert.equal(buffer.peek(0, 1), undefined);
  });

  it('copies pushed bytes so the caller may reuse its array', () => {
    const buffer = new SendBuffer();
    const source = bytes(4);
    buffer.push(source, 64);
    source.fill(0);
    assert.deepEqual(buffer.peek(0, 4)?.bytes, bytes(4));
  });

  it('any peek returns exactly the bytes at that offset, all of one TTL (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ length: fc.integer({ min: 0, max: 20 }), ttl: fc.constantFrom(1, 2, 64) }), { maxLength: 8 }),
        fc.nat(30),
        fc.nat(100),
        fc.integer({ min: 1, max: 40 }),
        (chunks, consumed, offset, max) => {
          const buffer = new SendBuffer();
          const flat: { byte: number; ttl: number }[] = [];
          chunks.forEach((c, i) => {
            const b = bytes(c.length, i * 17);
            buffer.push(b, c.ttl);
            for (const byte of b) flat.push({ byte, ttl: c.ttl });
          });
          buffer.consume(consumed);
          const rest = flat.slice(consumed);
          assert.equal(buffer.length, rest.length);
          const range = buffer.peek(offset, max);
          if (offset >= rest.length) return assert.equal(range, undefined);
          assert.ok(range && range.bytes.length >= 1 && range.bytes.length <= max);
          range.bytes.forEach((b, i) => {
            assert.equal(b, rest[offset + i].byte);
            assert.equal(rest[offset + i].ttl, range.ttl);
          });
          const next = rest[offset + range.bytes.length];
          if (range.bytes.length < max && next) assert.notEqual(next.ttl, range.ttl);
        },
      ),
    );
  });
});

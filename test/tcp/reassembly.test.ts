import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Reassembly } from '../../src/tcp/reassembly.ts';
import { seqAdd } from '../../src/tcp/seq-number.ts';
import { bytes, concat } from './helpers.ts';

/** Everything take() yields from rcvNxt on, as one array. */
function takeAll(r: Reassembly, rcvNxt: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let next = rcvNxt;
  for (let more = r.take(next); more; more = r.take(next)) {
    parts.push(more);
    next = seqAdd(next, more.length);
  }
  return concat(parts);
}

describe('reassembly of out-of-order bytes', () => {
  it('holds a later range until the gap fills', () => {
    const r = new Reassembly(1000, 16);
    const data = bytes(30);
    assert.equal(r.insert(100, 110, data.subarray(10, 20)), 'held');
    assert.equal(r.take(100), undefined);
    assert.equal(r.size, 10);
    assert.deepEqual(r.take(110), data.subarray(10, 20));
    assert.ok(r.isEmpty);
  });

  it('keeps overlapping and adjacent bytes once, without double counting', () => {
    const r = new Reassembly(1000, 16);
    const data = bytes(50);
    r.insert(0, 10, data.subarray(10, 20));
    r.insert(0, 30, data.subarray(30, 40));
    assert.equal(r.insert(0, 15, data.subarray(15, 32)), 'held');
    assert.equal(r.size, 30);
    assert.equal(r.insert(0, 40, data.subarray(40, 45)), 'held'); // adjacent
    assert.equal(r.size, 35);
    assert.equal(r.insert(0, 31, data.subarray(31, 39)), 'duplicate');
    assert.deepEqual(takeAll(r, 12), data.subarray(12, 45));
    assert.equal(r.size, 0);
  });

  it('a segment covering held ones replaces them: the count falls', () => {
    const r = new Reassembly(1000, 16);
    const data = bytes(40);
    for (let i = 2; i < 20; i += 2) r.insert(0, i, data.subarray(i, i + 1));
    assert.equal(r.count, 9);
    assert.equal(r.insert(0, 1, data.subarray(1, 30)), 'held');
    assert.equal(r.count, 1);
    assert.equal(r.size, 29);
    assert.deepEqual(takeAll(r, 1), data.subarray(1, 30));
  });

  it('refuses bytes past its byte bound and keeps what it had', () => {
    const r = new Reassembly(10, 16);
    assert.equal(r.insert(0, 5, bytes(8)), 'held');
    assert.equal(r.insert(0, 20, bytes(3)), 'full');
    assert.equal(r.insert(0, 4, bytes(10).subarray(0, 1)), 'held'); // grows by one to 9
    assert.equal(r.insert(0, 6, bytes(5)), 'duplicate'); // already held: no growth
    assert.equal(r.size, 9);
  });

  it('past its count bound it prunes the segments furthest from RCV.NXT, and drops a newcomer beyond them', () => {
    const r = new Reassembly(100_000, 8);
    for (let i = 0; i < 8; i += 1) assert.equal(r.insert(0, 10 + 2 * i, bytes(1)), 'held');
    assert.equal(r.insert(0, 40, bytes(1)), 'full'); // beyond everything held
    assert.equal(r.insert(0, 2, bytes(1)), 'held'); // nearer: the tail (offset 24) goes
    assert.equal(r.count, 8);
    assert.equal(r.pruned, 1);
  });

  it('an accepting-budget callback can refuse growth (the global buffer budget)', () => {
    const r = new Reassembly(1000, 16);
    assert.equal(
      r.insert(0, 5, bytes(8), (n) => n <= 4),
      'full',
    );
    assert.equal(r.size, 0);
  });

  it('works across the sequence wrap', () => {
    const r = new Reassembly(1000, 16);
    const base = 0xfffffff8;
    const data = bytes(20);
    r.insert(base, seqAdd(base, 10), data.subarray(10, 20));
    r.insert(base, seqAdd(base, 4), data.subarray(4, 10));
    assert.deepEqual(takeAll(r, seqAdd(base, 4)), data.subarray(4, 20));
  });

  it('the reassembly-abuse pattern (one-byte segments at every other offset) holds at most maxSegments', () => {
    const r = new Reassembly(65_535, 128);
    let held = 0;
    for (let i = 1; i <= 32_000; i += 1) if (r.insert(0, 2 * i, bytes(1)) === 'held') held += 1;
    assert.equal(r.count, 128);
    assert.equal(held, 128); // each later one lies beyond the tail: dropped without pruning anything
    // From the far end inwards, each newcomer is nearer than the tail: one prune per segment, never more.
    const r2 = new Reassembly(65_535, 128);
    for (let i = 32_000; i >= 1; i -= 1) r2.insert(0, 2 * i, bytes(1));
    assert.equal(r2.count, 128);
    assert.equal(r2.pruned, 32_000 - 128);
  });

  it('any arrival order, bounded or not: the stream delivered is a prefix of the original, bounds always hold (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(199), fc.integer({ min: 1, max: 30 })), { minLength: 1, maxLength: 60 }),
        fc.nat(0xffffffff),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 120 }),
        (pieces, base, maxSegments, maxBytes) => {
          const data = bytes(230, 3);
          const r = new Reassembly(maxBytes, maxSegments);
          let rcvNxt = base;
          const delivered: Uint8Array[] = [];
          const deliverInOrder = (s: number, end: number) => {
            delivered.push(data.subarray(s, end));
            rcvNxt = seqAdd(base, end);
            const more = takeAll(r, rcvNxt);
            delivered.push(more);
            rcvNxt = seqAdd(rcvNxt, more.length);
          };
          for (const [start, length] of pieces) {
            const off = (rcvNxt - base) >>> 0;
            const end = Math.min(230, start + length);
            if (end <= off) continue;
            const s = Math.max(start, off);
            if (s === off) deliverInOrder(s, end);
            else r.insert(rcvNxt, seqAdd(base, s), data.subarray(s, end));
            assert.ok(r.count <= maxSegments, 'count bound');
            assert.ok(r.size <= maxBytes, 'byte bound');
          }
          const off = (rcvNxt - base) >>> 0;
          if (off < 230) deliverInOrder(off, 230); // the retransmission that fills every hole
          assert.deepEqual(concat(delivered), data);
          assert.equal(r.size, 0);
        },
      ),
    );
  });
});

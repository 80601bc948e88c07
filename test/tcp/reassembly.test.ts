import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Reassembly } from '../../src/tcp/reassembly.ts';
import { seqAdd } from '../../src/tcp/seq-number.ts';
import { bytes, concat } from './helpers.ts';

describe('reassembly of out-of-order bytes', () => {
  it('holds a later range until the gap fills', () => {
    const r = new Reassembly(1000);
    const data = bytes(30);
    assert.ok(r.insert(100, 110, data.subarray(10, 20)));
    assert.equal(r.take(100), undefined);
    assert.equal(r.size, 10);
    assert.deepEqual(r.take(110), data.subarray(10, 20));
    assert.ok(r.isEmpty);
  });

  it('merges overlapping and adjacent ranges without double counting', () => {
    const r = new Reassembly(1000);
    const data = bytes(50);
    r.insert(0, 10, data.subarray(10, 20));
    r.insert(0, 30, data.subarray(30, 40));
    r.insert(0, 15, data.subarray(15, 32));
    assert.equal(r.size, 30);
    r.insert(0, 40, data.subarray(40, 45)); // adjacent
    assert.equal(r.size, 35);
    assert.deepEqual(r.take(12), data.subarray(12, 45));
    assert.equal(r.size, 0);
  });

  it('refuses bytes past its bound and keeps what it had', () => {
    const r = new Reassembly(10);
    assert.ok(r.insert(0, 5, bytes(8)));
    assert.ok(!r.insert(0, 20, bytes(3)));
    assert.ok(r.insert(0, 4, bytes(10).subarray(0, 1))); // grows by one to 9
    assert.ok(r.insert(0, 6, bytes(5))); // already held: no growth
    assert.equal(r.size, 9);
  });

  it('works across the sequence wrap', () => {
    const r = new Reassembly(1000);
    const base = 0xfffffff8;
    const data = bytes(20);
    r.insert(base, seqAdd(base, 10), data.subarray(10, 20));
    r.insert(base, seqAdd(base, 4), data.subarray(4, 10));
    assert.deepEqual(r.take(seqAdd(base, 4)), data.subarray(4, 20));
  });

  it('reassembles any arrival order into the original stream (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(99), fc.integer({ min: 1, max: 30 })), { minLength: 1, maxLength: 30 }),
        fc.nat(0xffffffff),
        (pieces, base) => {
          const data = bytes(130, 3);
          const r = new Reassembly(10_000);
          let rcvNxt = base;
          const delivered: Uint8Array[] = [];
          const all = [...pieces, [0, 130] as [number, number]];
          for (const [start, length] of all) {
            const off = (rcvNxt - base) >>> 0;
            const end = Math.min(130, start + length);
            if (end <= off) continue;
            const s = Math.max(start, off);
            if (s === off) {
              delivered.push(data.subarray(s, end));
              rcvNxt = seqAdd(base, end);
              for (let more = r.take(rcvNxt); more; more = r.take(rcvNxt)) {
                delivered.push(more);
                rcvNxt = seqAdd(rcvNxt, more.length);
              }
            } else {
              r.insert(rcvNxt, seqAdd(base, s), data.subarray(s, end));
            }
          }
          assert.deepEqual(concat(delivered), data);
          assert.equal(r.size, 0);
        },
      ),
    );
  });
});

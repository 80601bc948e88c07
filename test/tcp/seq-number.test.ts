import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { seqAdd, seqGe, seqGt, seqInWindow, seqLe, seqLt, seqMax, seqSub } from '../../src/tcp/seq-number.ts';

describe('sequence numbers modulo 2^32', () => {
  it('adds across the wrap', () => {
    assert.equal(seqAdd(0xffffffff, 1), 0);
    assert.equal(seqAdd(0xfffffff0, 0x20), 0x10);
    assert.equal(seqAdd(5, -10), 0xfffffffb);
    assert.equal(seqAdd(0, -1), 0xffffffff);
  });

  it('subtracts to a signed distance across the wrap', () => {
    assert.equal(seqSub(0x10, 0xfffffff0), 0x20);
    assert.equal(seqSub(0xfffffff0, 0x10), -0x20);
    assert.equal(seqSub(7, 7), 0);
  });

  it('compares across the wrap', () => {
    assert.ok(seqLt(0xffffffff, 0));
    assert.ok(seqGt(0, 0xffffffff));
    assert.ok(seqLe(0xfffffffe, 0xfffffffe));
    assert.ok(seqGe(3, 0xfffffff0));
    assert.ok(!seqLt(3, 0xfffffff0));
    assert.equal(seqMax(0xfffffff0, 3), 3);
    assert.equal(seqMax(3, 0xfffffff0), 3);
  });

  it('tests window membership across the wrap', () => {
    assert.ok(seqInWindow(0xffffffff, 0xfffffff0, 0x20));
    assert.ok(seqInWindow(0x0f, 0xfffffff0, 0x20));
    assert.ok(!seqInWindow(0x10, 0xfffffff0, 0x20));
    assert.ok(!seqInWindow(0xffffffef, 0xfffffff0, 0x20));
    assert.ok(!seqInWindow(5, 5, 0));
  });

  it('add and sub are inverse for distances below 2^31', () => {
    fc.assert(
      fc.property(fc.nat(0xffffffff), fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 1 }), (a, n) => {
        const b = seqAdd(a, n);
        assert.ok(b >= 0 && b <= 0xffffffff);
        assert.equal(seqSub(b, a), n);
        assert.equal(seqGt(b, a), n > 0);
      }),
    );
  });
});

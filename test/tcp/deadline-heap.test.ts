import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DeadlineHeap } from '../../src/tcp/deadline-heap.ts';

describe('deadline heap', () => {
  it('pops in deadline order (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 })), (deadlines) => {
        const heap = new DeadlineHeap();
        deadlines.forEach((d, i) => heap.push(d, i));
        const popped: number[] = [];
        for (let e = heap.pop(); e; e = heap.pop()) popped.push(e.deadline);
        assert.deepEqual(
          popped,
          [...deadlines].sort((a, b) => a - b),
        );
        assert.equal(heap.size, 0);
      }),
    );
  });

  it('peek shows the minimum without removing it', () => {
    const heap = new DeadlineHeap();
    heap.push(5, 1);
    heap.push(3, 2);
    assert.deepEqual(heap.peek(), { deadline: 3, key: 2 });
    assert.equal(heap.size, 2);
  });
});

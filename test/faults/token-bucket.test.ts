import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { KeyedBuckets, TokenBucket } from '../../src/faults/index.ts';

test('a full bucket admits its burst at once, then one event per 1/rate seconds', () => {
  const bucket = new TokenBucket({ ratePerSecond: 10, burst: 3 });
  assert.deepEqual(
    [0, 0, 0, 0].map(() => bucket.take(1000)),
    [true, true, true, false],
  );
  assert.equal(bucket.take(1099), false); // 0.99 of a token
  assert.equal(bucket.take(1100), true);
  assert.equal(bucket.take(1100), false);
  // Idle for a minute: refilled to the burst, never beyond.
  assert.equal(bucket.available(61_000), 3);
});

test('a clock that steps back neither refills nor breaks the bucket', () => {
  const bucket = new TokenBucket({ ratePerSecond: 1, burst: 1 });
  assert.equal(bucket.take(5000), true);
  assert.equal(bucket.take(4000), false);
  assert.equal(bucket.take(5999), false);
  assert.equal(bucket.take(6000), true);
});

const schedule = fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 300 });

test('property: admitted events never exceed burst + rate × elapsed', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 50 }), schedule, (rate, burst, gaps) => {
      const bucket = new TokenBucket({ ratePerSecond: rate, burst });
      let now = 0;
      let admitted = 0;
      for (const gap of gaps) {
        now += gap;
        if (bucket.take(now)) admitted += 1;
      }
      const elapsedSeconds = (now - gaps[0]) / 1000;
      assert.ok(
        admitted <= burst + rate * elapsedSeconds + 1e-9,
        `${admitted} > ${burst} + ${rate} × ${elapsedSeconds}`,
      );
    }),
    { numRuns: 500 },
  );
});

test('property: events spaced at least 1/rate apart are all admitted', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1000 }),
      fc.integer({ min: 1, max: 20 }),
      fc.array(fc.nat(50), { maxLength: 200 }),
      (rate, burst, extra) => {
        const bucket = new TokenBucket({ ratePerSecond: rate, burst });
        const spacing = Math.ceil(1000 / rate);
        let now = 0;
        for (const slack of extra) {
          now += spacing + slack;
          assert.ok(bucket.take(now));
        }
      },
    ),
    { numRuns: 500 },
  );
});

test('property: over a long run the admitted rate converges on the configured rate', () => {
  fc.assert(
    fc.property(fc.integer({ min: 5, max: 500 }), fc.integer({ min: 1, max: 5 }), (rate, stepMs) => {
      // Burst 2: a busy bucket never reaches its cap, so no refill is lost to rounding.
      const bucket = new TokenBucket({ ratePerSecond: rate, burst: 2 });
      let admitted = 0;
      for (let now = 0; now <= 10_000; now += stepMs) if (bucket.take(now)) admitted += 1;
      const expected = Math.min(rate * 10 + 2, Math.floor(10_000 / stepMs) + 1);
      assert.ok(Math.abs(admitted - expected) <= expected * 0.02 + 2, `${admitted} vs ${expected}`);
    }),
    { numRuns: 200 },
  );
});

test('keyed buckets: each source has its own, and the table forgets the least recently used past its bound', () => {
  const buckets = new KeyedBuckets<string>({ ratePerSecond: 1, burst: 1 }, 2);
  assert.equal(buckets.take('a', 0), true);
  assert.equal(buckets.take('a', 0), false);
  assert.equal(buckets.take('b', 0), true);
  assert.equal(buckets.take('c', 0), true); // evicts a
  assert.equal(buckets.size, 2);
  assert.equal(buckets.take('a', 0), true); // a starts afresh with a full bucket
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pooledRandomBytes } from '../../src/appliance/random-pool.ts';

test('slices have the requested length and are not handed out twice across pool refills', () => {
  const next = pooledRandomBytes(64);
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const bytes = next(16);
    assert.equal(bytes.length, 16);
    const hex = Buffer.from(bytes).toString('hex');
    assert.ok(!seen.has(hex), `slice ${i} repeated an earlier one`);
    seen.add(hex);
  }
});

test('a slice kept by a caller is not changed when the pool is replaced', () => {
  const next = pooledRandomBytes(32);
  const kept = next(16);
  const copy = Buffer.from(kept);
  for (let i = 0; i < 10; i++) next(16);
  assert.deepEqual(Buffer.from(kept), copy);
});

test('requests larger than the pool are served directly', () => {
  assert.equal(pooledRandomBytes(32)(100).length, 100);
});

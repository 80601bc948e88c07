import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryLinkPair } from '../../src/link/index.ts';

test('frames sent on one side arrive on the other, in order, as copies', async () => {
  const [a, b] = createMemoryLinkPair();
  const received: Uint8Array[] = [];
  const arrived = new Promise<void>((resolve) =>
    b.onFrames((frames) => {
      received.push(...frames);
      if (received.length === 3) resolve();
    }),
  );
  const reused = new Uint8Array([1, 2, 3]);
  assert.equal(a.send(reused), true);
  reused[0] = 9;
  assert.equal(a.send(reused), true);
  assert.equal(a.send(new Uint8Array([7])), true);
  await arrived;
  assert.deepEqual(
    received.map((f) => [...f]),
    [[1, 2, 3], [9, 2, 3], [7]],
  );
});

test('a closed link neither sends nor delivers', async () => {
  const [a, b] = createMemoryLinkPair();
  await b.close();
  assert.equal(a.send(new Uint8Array([1])), false);
  assert.throws(() => {
    a.onFrames(() => {});
    a.onFrames(() => {});
  }, /already registered/);
});

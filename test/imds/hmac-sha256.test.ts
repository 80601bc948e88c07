import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { HmacSha256 } from '../../src/imds/hmac-sha256.ts';

test('equals createHmac for any key (short, block-sized, longer than a block) and any split of the message', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 150 }),
      fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 4 }),
      (key, parts) => {
        const expected = createHmac('sha256', key);
        for (const part of parts) expected.update(part);
        assert.deepEqual(new HmacSha256(key).digest(...parts), expected.digest());
      },
    ),
    { numRuns: 300 },
  );
});

test('one instance stays correct when message lengths change between calls', () => {
  const key = Buffer.alloc(32, 7);
  const hmac = new HmacSha256(key);
  for (const message of ['a', 'a much longer message than the first', '', 'b']) {
    assert.deepEqual(hmac.digest(Buffer.from(message)), createHmac('sha256', key).update(message).digest(), message);
  }
});

test('RFC 4231 test case 2: key "Jefe"', () => {
  const mac = new HmacSha256(Buffer.from('Jefe')).digest(Buffer.from('what do ya want for nothing?'));
  assert.equal(mac.toString('hex'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
});

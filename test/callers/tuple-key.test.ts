// The 4-tuple key layout the connect hook's sock_ops program writes (connect-hook.cc): checked byte by byte here,
// and against the kernel in connect-hook.test.ts (a loopback connection found by its key).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TUPLE_KEY_BYTES, tupleKey } from '../../src/callers/tuple-key.ts';

test('IPv4: family 2, client port little-endian, service port in wire order at bytes 10-11, addresses at 16 and 32', () => {
  const key = tupleKey(
    { address: new Uint8Array([169, 254, 169, 253]), port: 41000 },
    { address: new Uint8Array([169, 254, 169, 254]), port: 80 },
  );
  assert.equal(key.length, TUPLE_KEY_BYTES);
  assert.deepEqual([...key.subarray(0, 16)], [2, 0, 0, 0, 0x28, 0xa0, 0, 0, 0, 0, 0x00, 0x50, 0, 0, 0, 0]);
  assert.deepEqual([...key.subarray(16, 32)], [169, 254, 169, 253, ...new Array(12).fill(0)]);
  assert.deepEqual([...key.subarray(32, 48)], [169, 254, 169, 254, ...new Array(12).fill(0)]);
});

test('IPv6: family 10 and both 16-byte addresses; a reused buffer is cleared first', () => {
  const client = new Uint8Array(16).fill(0xfd);
  const service = new Uint8Array([0xfd, 0, 0, 0, 0, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0x02, 0x54]);
  const reused = new Uint8Array(TUPLE_KEY_BYTES).fill(0xff);
  const key = tupleKey({ address: client, port: 443 }, { address: service, port: 80 }, reused);
  assert.equal(key, reused);
  assert.equal(new DataView(key.buffer).getUint32(0, true), 10);
  assert.equal(new DataView(key.buffer).getUint32(4, true), 443);
  assert.deepEqual([...key.subarray(8, 16)], [0, 0, 0x00, 0x50, 0, 0, 0, 0]);
  assert.deepEqual([...key.subarray(16, 32)], [...client]);
  assert.deepEqual([...key.subarray(32, 48)], [...service]);
});

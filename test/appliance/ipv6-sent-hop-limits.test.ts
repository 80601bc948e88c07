import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ipv6SentHopLimits } from '../../src/appliance/ipv6-sent-hop-limits.ts';

test('a recorded segment is found by peer, port and sequence number, and nothing else is', () => {
  const sent = new Ipv6SentHopLimits(8);
  sent.record(1, 40000, 0xfffffff0, 2);
  assert.equal(sent.lookup(1, 40000, 0xfffffff0), 2);
  assert.equal(sent.lookup(2, 40000, 0xfffffff0), undefined);
  assert.equal(sent.lookup(1, 40001, 0xfffffff0), undefined);
  assert.equal(sent.lookup(1, 40000, 0xfffffff1), undefined);
});

test('bounded: the oldest record is forgotten first, and a retransmission renews its record', () => {
  const sent = new Ipv6SentHopLimits(3);
  sent.record(1, 1, 100, 1);
  sent.record(1, 1, 200, 1);
  sent.record(1, 1, 300, 1);
  sent.record(1, 1, 100, 1); // retransmitted: now the newest
  sent.record(1, 1, 400, 1);
  assert.equal(sent.size, 3);
  assert.equal(sent.lookup(1, 1, 200), undefined, 'the oldest went');
  for (const seq of [100, 300, 400]) assert.equal(sent.lookup(1, 1, seq), 1);
  assert.throws(() => new Ipv6SentHopLimits(0), RangeError);
});

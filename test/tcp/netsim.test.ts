// A seeded network simulation: the server sends a response stream mixing untagged bytes (default hop limit)
// and token-response bytes (hop limit 2, or the default itself) through a path that drops, duplicates and
// reorders segments in both directions. Whatever the schedule, the client receives the exact stream, and every
// segment carries only bytes of one tag and exactly that tag, hop limit and token flag both — first
// transmissions, timeouts, fast retransmits alike.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { SendTag } from '../../src/tcp/index.ts';
import { Client, concat, testConfig, transmits, type Transmit } from './helpers.ts';

/** Small deterministic PRNG so a failing schedule replays from fast-check's seed. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOP_LIMIT = 2;
const DEFAULT_HOP_LIMIT = 64;

interface Chunk {
  length: number;
  token: boolean;
  /** The hop limit of a token chunk: it may equal the default, and the bytes must still say they are a token. */
  tokenHopLimit: number;
}

const tagOf = (c: Chunk): SendTag => (c.token ? { hopLimit: c.tokenHopLimit, tokenResponse: true } : {});

/** Runs one schedule to completion; returns how many retransmissions it took. */
function simulate(chunks: Chunk[], seed: number, lossRate: number, duplicateRate: number): number {
  const random = mulberry32(seed);
  const client = new Client(testConfig({ maxRetransmissions: 40 }));
  client.handshake();
  const dataStart = client.ack; // the server's first data byte
  const expected = concat(chunks.map((c, i) => new Uint8Array(c.length).fill((i * 37 + 1) & 0xff)));
  const tagAt: string[] = chunks.flatMap((c) => new Array<string>(c.length).fill(c.token ? `${c.tokenHopLimit} token` : `${DEFAULT_HOP_LIMIT}`));

  const toClient: Transmit[] = [];
  const enqueue = (segments: Transmit[]) => {
    for (const t of segments) {
      if (random() < lossRate) continue;
      const copies = random() < duplicateRate ? 2 : 1;
      for (let c = 0; c < copies; c += 1) toClient.splice(Math.floor(random() * (toClient.length + 1)), 0, t);
    }
  };
  for (const [i, chunk] of chunks.entries()) {
    const result = client.stack.send(client.id, expected.subarray(offsetOf(chunks, i), offsetOf(chunks, i) + chunk.length), tagOf(chunk), client.now);
    assert.ok(result.ok);
    enqueue(transmits(result.actions));
  }

  const received = new Uint8Array(expected.length);
  const have = new Uint8Array(expected.length);
  let cumulative = 0; // bytes received in order
  for (let step = 0; cumulative < expected.length; step += 1) {
    assert.ok(step < 20_000, `no progress: ${cumulative}/${expected.length} bytes after ${step} steps`);
    const next = toClient.shift();
    if (!next) {
      const deadline = client.stack.nextDeadline();
      assert.ok(deadline !== undefined, 'nothing in flight and no timer armed: the stream stalled');
      client.now = Math.max(client.now, deadline);
      enqueue(transmits(client.stack.poll(client.now)));
      continue;
    }
    client.now += 1;
    const segment = next.segment;
    const offset = (segment.seq - dataStart) >>> 0;
    if (segment.payload.length > 0) {
      const sentAs: string = `${next.hopLimit}${next.tokenResponse ? ' token' : ''}`;
      for (let k = 0; k < segment.payload.length; k += 1) {
        assert.equal(sentAs, tagAt[offset + k], `byte ${offset + k} left as ${sentAs}`);
        received[offset + k] = segment.payload[k] as number;
        have[offset + k] = 1;
      }
      while (cumulative < expected.length && have[cumulative]) cumulative += 1;
    }
    client.ack = (dataStart + cumulative) >>> 0;
    if (random() < lossRate) continue; // the client's ACK is lost
    enqueue(transmits(client.deliver({ window: 65535 })));
  }
  assert.deepEqual(received, expected);
  return (client.stack.counters['retransmissions'] ?? 0) + (client.stack.counters['fast-retransmissions'] ?? 0);
}

function offsetOf(chunks: Chunk[], index: number): number {
  return chunks.slice(0, index).reduce((total, c) => total + c.length, 0);
}

describe('tagged bytes through a lossy, duplicating, reordering path', () => {
  it('every byte arrives, every segment carries its bytes hop limit and token tag (property)', () => {
    let retransmissions = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ length: fc.integer({ min: 1, max: 6000 }), token: fc.boolean(), tokenHopLimit: fc.constantFrom(HOP_LIMIT, DEFAULT_HOP_LIMIT) }),
          { minLength: 1, maxLength: 6 },
        ),
        fc.integer(),
        fc.double({ min: 0, max: 0.25, noNaN: true }),
        fc.double({ min: 0, max: 0.2, noNaN: true }),
        (chunks, seed, lossRate, duplicateRate) => {
          retransmissions += simulate(chunks, seed, lossRate, duplicateRate);
        },
      ),
      { numRuns: 150 },
    );
    // The schedules must have exercised recovery, or the property says nothing about retransmissions.
    assert.ok(retransmissions > 50, `only ${retransmissions} retransmissions across all runs`);
  });
});

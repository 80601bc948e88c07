// A seeded network simulation for the TCP stack: the server sends a response stream mixing untagged bytes
// (default hop limit) and token-response bytes through a path that drops, duplicates and reorders segments in
// both directions. The clock jumps from delivery to delivery (1 ms each) and, when the path is empty, to the
// stack's next deadline. Every byte's arrival tag is checked as it lands.
import assert from 'node:assert/strict';
import type { CloseReason, SendTag, TcpAction, TcpConfig } from '../../src/tcp/index.ts';
import { Client, concat, testConfig, transmits, type Transmit } from './helpers.ts';

/** Small deterministic PRNG so a failing schedule replays from fast-check's seed. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const DEFAULT_HOP_LIMIT = 64;

export interface Chunk {
  length: number;
  token: boolean;
  /** The hop limit of a token chunk: it may equal the default, and the bytes must still say they are a token. */
  tokenHopLimit: number;
}

/**
 * The path may lose a segment many times over, and each timeout doubles the RTO: Karn's rule keeps it doubled
 * until a segment sent only once is acknowledged, which never happens once go-back-N has resent everything.
 * So the stack's give-up limits (retransmission count, the 30 s send timeout, the idle timeout) are lifted:
 * what the simulation checks is delivery and tagging, not when a connection may legitimately give up.
 */
export const PATIENT: Partial<TcpConfig> = {
  maxRetransmissions: 40,
  sendTimeoutMs: 24 * 3_600_000,
  idleTimeoutMs: 24 * 3_600_000,
};

export interface Outcome {
  /** Timeouts plus fast retransmits it took. */
  retransmissions: number;
  /** Bytes the client had in order when the run ended (all of them unless the connection closed). */
  delivered: number;
  /** Set when the stack closed the connection before every byte arrived. */
  closed: CloseReason | undefined;
}

/** Runs one schedule until every byte arrived or the stack closed the connection. */
export function simulate(
  chunks: Chunk[],
  seed: number,
  lossRate: number,
  duplicateRate: number,
  config: Partial<TcpConfig> = PATIENT,
): Outcome {
  const random = mulberry32(seed);
  const client = new Client(testConfig(config));
  client.handshake();
  const dataStart = client.ack; // the server's first data byte
  const expected = concat(chunks.map((c, i) => new Uint8Array(c.length).fill((i * 37 + 1) & 0xff)));
  const tagAt: string[] = chunks.flatMap((c) =>
    new Array<string>(c.length).fill(c.token ? `${c.tokenHopLimit} token` : `${DEFAULT_HOP_LIMIT}`),
  );

  let closed: CloseReason | undefined;
  const toClient: Transmit[] = [];
  const enqueue = (actions: TcpAction[]) => {
    for (const a of actions) if (a.kind === 'closed') closed = a.reason;
    for (const t of transmits(actions)) {
      if (random() < lossRate) continue;
      const copies = random() < duplicateRate ? 2 : 1;
      for (let c = 0; c < copies; c += 1) toClient.splice(Math.floor(random() * (toClient.length + 1)), 0, t);
    }
  };
  let at = 0;
  for (const chunk of chunks) {
    const tag: SendTag = chunk.token ? { hopLimit: chunk.tokenHopLimit, tokenResponse: true } : {};
    const result = client.stack.send(client.id, expected.subarray(at, at + chunk.length), tag, client.now);
    assert.ok(result.ok);
    enqueue(result.actions);
    at += chunk.length;
  }

  const received = new Uint8Array(expected.length);
  const have = new Uint8Array(expected.length);
  let cumulative = 0; // bytes received in order
  for (let step = 0; cumulative < expected.length && closed === undefined; step += 1) {
    assert.ok(step < 20_000, `no progress: ${cumulative}/${expected.length} bytes after ${step} steps`);
    const next = toClient.shift();
    if (!next) {
      // A live connection with bytes unacknowledged must always have a timer armed.
      const deadline = client.stack.nextDeadline();
      assert.ok(deadline !== undefined, 'nothing in flight and no timer armed: the stream stalled');
      client.now = Math.max(client.now, deadline);
      enqueue(client.stack.poll(client.now));
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
    enqueue(client.deliver({ window: 65535 }));
  }
  if (closed === undefined) assert.deepEqual(received, expected);
  const retransmissions =
    (client.stack.counters['retransmissions'] ?? 0) + (client.stack.counters['fast-retransmissions'] ?? 0);
  return { retransmissions, delivered: cumulative, closed };
}

// Tiny drivers for TcpStack tests: a scripted client with its own sequence numbers and a fake clock.
import assert from 'node:assert/strict';
import {
  TcpStack,
  DEFAULT_TCP_CONFIG,
  type ConnectionId,
  type SendTag,
  type TcpAction,
  type TcpConfig,
} from '../../src/tcp/index.ts';
import type { TcpControl, TcpSegment } from '../../src/wire/tcp-segment.ts';

export const SERVER_ADDR = 0xa9fea9fe; // 169.254.169.254
export const CLIENT_ADDR = 0xa9fe0002; // 169.254.0.2
export const SERVER_PORT = 80;
export const TOKEN_HOP_LIMIT = 1;
/** Bytes of a token response, as the appliance queues them. */
export const TOKEN: SendTag = { hopLimit: TOKEN_HOP_LIMIT, tokenResponse: true };

export function testConfig(overrides: Partial<TcpConfig> = {}): TcpConfig {
  return {
    ...DEFAULT_TCP_CONFIG,
    listenPorts: [SERVER_PORT],
    isnSecret: new Uint8Array(32).fill(7),
    ...overrides,
  };
}

export type Transmit = Extract<TcpAction, { kind: 'transmit' }>;

export function transmits(actions: TcpAction[]): Transmit[] {
  return actions.filter((a): a is Transmit => a.kind === 'transmit');
}

export function segmentsOf(actions: TcpAction[]): TcpSegment[] {
  return transmits(actions).map((a) => a.segment);
}

export function events(actions: TcpAction[]): TcpAction[] {
  return actions.filter((a) => a.kind !== 'transmit');
}

export function dataOf(actions: TcpAction[]): Uint8Array {
  const parts = actions.flatMap((a) => (a.kind === 'data' ? [a.bytes] : []));
  return concat(parts);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function bytes(length: number, seed = 0): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i += 1) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

export interface SegmentExpectation {
  seq?: number;
  ack?: number | undefined;
  control?: TcpControl;
  payloadLength?: number;
  window?: number;
  hopLimit?: number;
  tokenResponse?: boolean;
}

/** Asserts the one transmitted segment in `actions` (or the index given) matches the expectation. */
export function expectSegment(actions: TcpAction[], want: SegmentExpectation, index?: number): Transmit {
  const sent = transmits(actions);
  if (index === undefined) assert.equal(sent.length, 1, `expected one segment, got ${describe(sent)}`);
  const t = sent[index ?? 0];
  assert.ok(t, `no segment at ${index ?? 0}: ${describe(sent)}`);
  const s = t.segment;
  if ('seq' in want) assert.equal(s.seq, want.seq, `seq of ${describe([t])}`);
  if ('ack' in want) assert.equal(s.ack, want.ack, `ack of ${describe([t])}`);
  if (want.control !== undefined) assert.equal(s.control, want.control, `control of ${describe([t])}`);
  if (want.payloadLength !== undefined)
    assert.equal(s.payload.length, want.payloadLength, `length of ${describe([t])}`);
  if (want.window !== undefined) assert.equal(s.window, want.window);
  if (want.hopLimit !== undefined) assert.equal(t.hopLimit, want.hopLimit, `hop limit of ${describe([t])}`);
  if (want.tokenResponse !== undefined) assert.equal(t.tokenResponse, want.tokenResponse, `tag of ${describe([t])}`);
  return t;
}

export function expectNothingSent(actions: TcpAction[]): void {
  assert.deepEqual(describe(transmits(actions)), '[]');
}

export function describe(sent: Transmit[]): string {
  return `[${sent
    .map(
      (t) =>
        `${t.segment.control} seq=${t.segment.seq} ack=${t.segment.ack} len=${t.segment.payload.length} hopLimit=${t.hopLimit}${t.tokenResponse ? ' token' : ''}`,
    )
    .join(', ')}]`;
}

/** A scripted peer: tracks its own SND.NXT and what it has acknowledged, and a fake clock. */
export class Client {
  readonly stack: TcpStack;
  now = 0;
  /** Client's next sequence number. */
  seq: number;
  /** Server's next expected sequence number, from the client's view (what the client acks). */
  ack = 0;
  serverIss = 0;
  id: ConnectionId = 0;

  constructor(
    readonly config: TcpConfig = testConfig(),
    readonly isn = 1_000_000,
    readonly port = 40_000,
    stack?: TcpStack,
    readonly addr = CLIENT_ADDR,
  ) {
    this.stack = stack ?? new TcpStack(config);
    this.seq = isn;
  }

  segment(fields: Partial<TcpSegment> = {}): TcpSegment {
    return {
      srcPort: this.port,
      dstPort: SERVER_PORT,
      seq: this.seq,
      ack: this.ack,
      control: 'none',
      push: false,
      window: 65535,
      options: {},
      payload: new Uint8Array(0),
      ...fields,
    };
  }

  /** Delivers a raw segment to the stack at the current time. */
  deliver(fields: Partial<TcpSegment> = {}): TcpAction[] {
    return this.stack.receive(this.addr, SERVER_ADDR, this.segment(fields), this.now);
  }

  sendSyn(options: TcpSegment['options'] = { mss: 1460 }): TcpAction[] {
    const actions = this.deliver({ seq: this.isn, ack: undefined, control: 'syn', options });
    const synAck = transmits(actions)[0];
    if (synAck && synAck.segment.control === 'syn') {
      this.serverIss = synAck.segment.seq;
      this.ack = (synAck.segment.seq + 1) >>> 0;
      this.seq = (this.isn + 1) >>> 0;
    }
    return actions;
  }

  /** Full three-way handshake; returns the connection id. */
  handshake(options: TcpSegment['options'] = { mss: 1460 }, window = 65535): ConnectionId {
    const synAck = this.sendSyn(options);
    expectSegment(synAck, { control: 'syn', ack: (this.isn + 1) >>> 0, hopLimit: this.config.defaultHopLimit });
    const actions = this.deliver({ window });
    const accepted = actions.find((a) => a.kind === 'accepted');
    assert.ok(accepted && accepted.kind === 'accepted', 'handshake did not complete');
    this.id = accepted.id;
    return this.id;
  }

  /** Client sends data: advances its sequence number. */
  sendData(payload: Uint8Array, fields: Partial<TcpSegment> = {}): TcpAction[] {
    const actions = this.deliver({ payload, push: true, ...fields });
    this.seq = (this.seq + payload.length) >>> 0;
    return actions;
  }

  sendFin(fields: Partial<TcpSegment> = {}): TcpAction[] {
    const actions = this.deliver({ control: 'fin', ...fields });
    this.seq = (this.seq + 1) >>> 0;
    return actions;
  }

  /** Acks everything the server sent so far (per the given actions) and returns the server's reaction. */
  ackAll(actions: TcpAction[], window = 65535): TcpAction[] {
    this.absorb(actions);
    return this.deliver({ window });
  }

  /** Moves the client's ack past the segments in `actions` (assumes they arrive in order). */
  absorb(actions: TcpAction[]): void {
    for (const s of segmentsOf(actions)) {
      if (s.control === 'rst') continue;
      const end = (s.seq + s.payload.length + (s.control === 'fin' || s.control === 'syn' ? 1 : 0)) >>> 0;
      if (((end - this.ack) | 0) > 0 && ((s.seq - this.ack) | 0) <= 0) this.ack = end;
    }
  }

  advance(ms: number): TcpAction[] {
    this.now += ms;
    return this.stack.poll(this.now);
  }

  /** Queues response bytes; untagged they leave with the stack's default hop limit. */
  send(payload: Uint8Array, tag: SendTag = {}): TcpAction[] {
    const result = this.stack.send(this.id, payload, tag, this.now);
    assert.ok(result.ok, `send refused: ${JSON.stringify(result)}`);
    return result.actions;
  }

  state(): string | undefined {
    // A connection in TIME-WAIT is a compact record found by its tuple, no longer a Connection behind its id.
    if (this.stack.inTimeWait(SERVER_ADDR, SERVER_PORT, this.addr, this.port)) return 'time-wait';
    return this.stack.inspect(this.id)?.state;
  }
}

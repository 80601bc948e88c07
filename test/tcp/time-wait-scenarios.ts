// Scenarios for TIME-WAIT: connections we close first, then retransmitted FINs, stray ACKs and data, RSTs and
// SYNs at chosen distances from RCV.NXT, and time passing. run() drives a TcpStack through one scenario with
// its public API only and returns what it observed, so the same scenario can be replayed on any version of
// the stack (test/tcp/fixtures/time-wait-reference.json holds the traces of the Connection-based TIME-WAIT).
import fc from 'fast-check';
import type { TcpStack, TcpAction, TcpConfig } from '../../src/tcp/index.ts';
import type { TcpControl, TcpSegment } from '../../src/wire/tcp-segment.ts';
import { seqAdd } from '../../src/tcp/seq-number.ts';
import { CLIENT_ADDR, Client, SERVER_ADDR, SERVER_PORT, bytes, testConfig } from './helpers.ts';

/** How the connection reaches TIME-WAIT (RFC 9293 figure 5): FIN-WAIT-2, CLOSING, or FIN+ACK in FIN-WAIT-1. */
export type ClosePath = 'fin-wait-2' | 'closing' | 'fin-with-ack';

export type Step =
  /** A new client: request bytes, our response (or a bare close) with FIN, then the client's FIN. */
  | { kind: 'enter'; isn: number; request: number; response: number; path: ClosePath }
  | { kind: 'advance'; ms: number }
  /** A segment on the tuple of one entry still held; seq and ack are distances from its RCV.NXT and SND.NXT. */
  | {
      kind: 'segment';
      target: number;
      control: TcpControl;
      /** 'fin-end': the segment ends exactly at RCV.NXT, as a retransmission of the peer's FIN does. */
      seqOffset: number | 'fin-end';
      ackOffset: number | undefined;
      payload: number;
    };

export interface Scenario {
  timeWaitMs: number;
  maxTimeWait: number;
  steps: Step[];
}

/** What one step did: the actions in a compact form, the counters that moved, and the table's sizes after. */
export interface StepRecord {
  step: string;
  actions: string[];
  counters: Record<string, number>;
  timeWait: number;
  open: number;
  halfOpen: number;
  next: number | null;
}

/** An entry as the client saw it enter TIME-WAIT: the tuple, and the server's SND.NXT and RCV.NXT. */
export interface EnteredTuple {
  port: number;
  serverIss: number;
  sndNxt: number;
  rcvNxt: number;
}

export const MAX_CLIENTS = 6;
const FIRST_PORT = 40_000;

const distance = fc.oneof(
  fc.constantFrom(0, 1, -1, 2, -2, 100, -100, 65_534, 65_535, 65_536, -65_535, 0x7fff_ffff, -0x8000_0000),
  fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }),
);

const enterArbitrary: fc.Arbitrary<Step> = fc.record({
  kind: fc.constant('enter' as const),
  isn: fc.oneof(fc.constantFrom(0, 0xffff_fff0, 0x7fff_fff0), fc.integer({ min: 0, max: 0xffff_ffff })),
  request: fc.nat(300),
  response: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1400 })),
  path: fc.constantFrom<ClosePath>('fin-wait-2', 'closing', 'fin-with-ack'),
});

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 2, arbitrary: enterArbitrary },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.oneof(fc.constantFrom(0, 1, 999, 1000), fc.nat(2500)),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('segment' as const),
      target: fc.nat(MAX_CLIENTS - 1),
      control: fc.constantFrom<TcpControl>('none', 'fin', 'rst', 'syn'),
      seqOffset: fc.oneof(
        { weight: 1, arbitrary: fc.constant('fin-end' as const) },
        { weight: 3, arbitrary: distance },
      ),
      ackOffset: fc.option(fc.oneof(fc.constantFrom(0, 1, -1), distance), { freq: 4, nil: undefined }),
      payload: fc.oneof(fc.constant(0), fc.nat(4)),
    }),
  },
);

export const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  timeWaitMs: fc.constantFrom(1000, 2000),
  maxTimeWait: fc.integer({ min: 1, max: MAX_CLIENTS }),
  steps: fc.tuple(enterArbitrary, fc.array(stepArbitrary, { maxLength: 30 })).map(([first, rest]) => [first, ...rest]),
});

/** The segment a 'segment' step sends to an entry. */
export function segmentFor(step: Extract<Step, { kind: 'segment' }>, entry: EnteredTuple): TcpSegment {
  const payload = bytes(step.payload, step.target);
  const length = payload.length + (step.control === 'fin' || step.control === 'syn' ? 1 : 0);
  const seqOffset = step.seqOffset === 'fin-end' ? -length : step.seqOffset;
  return {
    srcPort: entry.port,
    dstPort: SERVER_PORT,
    seq: seqAdd(entry.rcvNxt, seqOffset),
    ack: step.ackOffset === undefined ? undefined : seqAdd(entry.sndNxt, step.ackOffset),
    control: step.control,
    push: payload.length > 0,
    window: 65535,
    options: step.control === 'syn' ? { mss: 1460 } : {},
    payload,
  };
}

export function scenarioConfig(scenario: Scenario): TcpConfig {
  return testConfig({ timeWaitMs: scenario.timeWaitMs, maxTimeWait: scenario.maxTimeWait });
}

/** One action as a line; a SYN-ACK's sequence number (our ISN) is left out, it is no business of TIME-WAIT. */
export function describeAction(action: TcpAction): string {
  if (action.kind !== 'transmit') return action.kind === 'closed' ? `closed ${action.reason}` : action.kind;
  const s = action.segment;
  const seq = s.control === 'syn' ? '*' : String(s.seq);
  return (
    `${s.control} ${s.srcPort}>${s.dstPort} seq=${seq} ack=${s.ack} win=${s.window} len=${s.payload.length}` +
    `${s.push ? ' push' : ''} opts=${JSON.stringify(s.options)} hopLimit=${action.hopLimit}` +
    `${action.tokenResponse ? ' token' : ''} ${action.localAddr}>${action.remoteAddr}`
  );
}

function counterDelta(before: Readonly<Record<string, number>>, after: Readonly<Record<string, number>>) {
  const delta: Record<string, number> = {};
  for (const name of Object.keys(after).sort()) {
    const moved = (after[name] ?? 0) - (before[name] ?? 0);
    if (moved !== 0) delta[name] = moved;
  }
  return delta;
}

/** Drives `stack` through the scenario; `entered` receives each entry as the client saw it. */
export function run(stack: TcpStack, scenario: Scenario, entered: EnteredTuple[] = []): StepRecord[] {
  const records: StepRecord[] = [];
  let now = 0;
  for (const step of scenario.steps) {
    const before = { ...stack.counters };
    let actions: TcpAction[] = [];
    let name: string = step.kind;
    if (step.kind === 'enter') {
      if (entered.length >= MAX_CLIENTS) continue;
      const client = new Client(scenarioConfig(scenario), step.isn, FIRST_PORT + entered.length, stack);
      client.now = now;
      actions = enter(client, step);
      entered.push({ port: client.port, serverIss: client.serverIss, sndNxt: client.ack, rcvNxt: client.seq });
    } else if (step.kind === 'advance') {
      now += step.ms;
      actions = stack.poll(now);
    } else {
      // Only tuples the stack still holds: the others would meet the no-connection rules, not TIME-WAIT's.
      const held = entered.filter((e) => stack.hasConnection(SERVER_ADDR, SERVER_PORT, CLIENT_ADDR, e.port));
      const entry = held[step.target % Math.max(held.length, 1)];
      if (entry === undefined) continue;
      const segment = segmentFor(step, entry);
      name = `segment to ${entry.port}`;
      actions = stack.receive(CLIENT_ADDR, SERVER_ADDR, segment, now);
      if (actions.some((a) => a.kind === 'transmit' && a.segment.control === 'syn')) {
        // The SYN reused the tuple: reset the new half-open entry so the tuple stays out of the scenario.
        const reset = { ...segment, seq: seqAdd(segment.seq, 1), ack: undefined, control: 'rst' as const };
        actions = [...actions, ...stack.receive(CLIENT_ADDR, SERVER_ADDR, { ...reset, payload: bytes(0) }, now)];
      }
    }
    records.push({
      step: name,
      actions: actions.map(describeAction),
      counters: counterDelta(before, stack.counters),
      timeWait: stack.timeWaitCount(),
      open: stack.connectionCount(),
      halfOpen: stack.halfOpenCount(),
      next: stack.nextDeadline() ?? null,
    });
  }
  return records;
}

/** Handshake, request, our response or bare close with FIN, and the client's FIN along `path`. */
function enter(client: Client, step: Extract<Step, { kind: 'enter' }>): TcpAction[] {
  const stack = client.stack;
  const out: TcpAction[] = [];
  client.handshake();
  if (step.request > 0) out.push(...client.sendData(bytes(step.request, 1)));
  const fin = step.response > 0 ? stack.send(client.id, bytes(step.response, 2), {}, client.now, true) : undefined;
  const ours = fin === undefined ? stack.close(client.id, client.now) : fin.ok ? fin.actions : [];
  out.push(...ours);
  if (step.path === 'fin-wait-2') {
    out.push(...client.ackAll(ours), ...client.sendFin());
  } else if (step.path === 'fin-with-ack') {
    client.absorb(ours);
    out.push(...client.sendFin());
  } else {
    out.push(...client.sendFin());
    client.absorb(ours);
    out.push(...client.deliver());
  }
  return out;
}

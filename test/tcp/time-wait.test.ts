// TIME-WAIT as a compact record (src/tcp/time-wait.ts): the same answers as the Connection-based TIME-WAIT it
// replaced. Three oracles: RFC cases, a model of the rules over random scenarios, and the recorded traces of the
// old implementation (fixtures/time-wait-reference.txt) replayed on this one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { TcpStack, type TcpAction } from '../../src/tcp/index.ts';
import { TimeWaitTable, timeWaitVerdict } from '../../src/tcp/time-wait.ts';
import { seqAdd, seqGt, seqInWindow } from '../../src/tcp/seq-number.ts';
import type { TcpControl, TcpSegment } from '../../src/wire/tcp-segment.ts';
import { CLIENT_ADDR, Client, SERVER_ADDR, SERVER_PORT, testConfig } from './helpers.ts';
import {
  MAX_CLIENTS,
  describeAction,
  run,
  scenarioArbitrary,
  scenarioConfig,
  segmentFor,
  type ClosePath,
  type EnteredTuple,
  type Scenario,
  type Step,
  type StepRecord,
} from './time-wait-scenarios.ts';

const WINDOW = testConfig().receiveWindow;

/** A segment with the scripted client's defaults and no ACK unless given. */
const segment = (fields: Partial<TcpSegment>): TcpSegment => new Client().segment({ ack: undefined, ...fields });

describe('TIME-WAIT decisions (RFC 9293 3.10.7.4, RFC 5961, RFC 1122 4.2.2.13)', () => {
  const rcvNxt = 0xffff_fffe; // the cases straddle the sequence-number wrap
  const cases: Array<[string, Partial<TcpSegment>, string, string, boolean]> = [
    [
      'retransmitted FIN: ACK it, restart 2*MSL',
      { seq: 0xffff_fffd, control: 'fin', ack: 5 },
      'time-wait-fin-retransmitted',
      'restart',
      true,
    ],
    [
      'retransmitted FIN with its data',
      { seq: 0xffff_fffb, control: 'fin', payload: new Uint8Array(2), ack: 5 },
      'time-wait-fin-retransmitted',
      'restart',
      true,
    ],
    [
      'FIN past RCV.NXT: ACK and drop',
      { seq: rcvNxt, control: 'fin', ack: 5 },
      'segments-dropped-time-wait',
      'keep',
      true,
    ],
    ['stray ACK: ACK and drop', { seq: rcvNxt, ack: 5 }, 'segments-dropped-time-wait', 'keep', true],
    [
      'data: ACK and drop',
      { seq: rcvNxt, ack: 5, payload: new Uint8Array(3) },
      'segments-dropped-time-wait',
      'keep',
      true,
    ],
    ['exact RST: the entry goes', { seq: rcvNxt, control: 'rst' }, 'resets-received', 'close', false],
    ['RST inside the window: challenge ACK', { seq: 2, control: 'rst' }, 'challenge-acks', 'keep', true],
    [
      'RST outside the window: dropped silently',
      { seq: rcvNxt - 1, control: 'rst' },
      'rst-dropped-out-of-window',
      'keep',
      false,
    ],
    ['SYN above RCV.NXT: a new connection', { seq: 10, control: 'syn' }, 'time-wait-reused', 'reuse', false],
    ['old SYN: challenge ACK', { seq: rcvNxt - 100, control: 'syn' }, 'challenge-acks', 'keep', true],
    ['SYN at RCV.NXT: challenge ACK', { seq: rcvNxt, control: 'syn' }, 'challenge-acks', 'keep', true],
    ['SYN with ACK above RCV.NXT: challenge ACK', { seq: 10, control: 'syn', ack: 5 }, 'challenge-acks', 'keep', true],
  ];
  for (const [name, fields, counter, entry, ack] of cases) {
    it(name, () => {
      assert.deepEqual(timeWaitVerdict(rcvNxt, WINDOW, segment(fields)), { counter, entry, ack });
    });
  }
});

/** The rules as RFC 9293 3.10.7.4 states them for TIME-WAIT, with RFC 5961 and RFC 1122 4.2.2.13, written out. */
function referenceVerdict(rcvNxt: number, seg: TcpSegment): ReturnType<typeof timeWaitVerdict> {
  const length = seg.payload.length + (seg.control === 'fin' || seg.control === 'syn' ? 1 : 0);
  const isNewSyn = seg.control === 'syn' && seg.ack === undefined && seqGt(seg.seq, rcvNxt);
  if (isNewSyn) return { counter: 'time-wait-reused', entry: 'reuse', ack: false };
  if (seg.control === 'rst') {
    if (seg.seq === rcvNxt) return { counter: 'resets-received', entry: 'close', ack: false };
    if (seqInWindow(seg.seq, rcvNxt, WINDOW)) return { counter: 'challenge-acks', entry: 'keep', ack: true };
    return { counter: 'rst-dropped-out-of-window', entry: 'keep', ack: false };
  }
  if (seg.control === 'syn') return { counter: 'challenge-acks', entry: 'keep', ack: true };
  if (seg.control === 'fin' && seqAdd(seg.seq, length) === rcvNxt) {
    return { counter: 'time-wait-fin-retransmitted', entry: 'restart', ack: true };
  }
  return { counter: 'segments-dropped-time-wait', entry: 'keep', ack: true };
}

function transmit(port: number, fields: Partial<TcpSegment>): TcpAction {
  return {
    kind: 'transmit',
    localAddr: SERVER_ADDR,
    remoteAddr: CLIENT_ADDR,
    hopLimit: testConfig().defaultHopLimit,
    tokenResponse: false,
    segment: { ...segment({ srcPort: SERVER_PORT, dstPort: port, window: WINDOW }), ...fields },
  };
}

type Expected = Omit<StepRecord, 'actions' | 'counters'> & { actions?: string[]; counters?: Record<string, number> };

/** What the stack must report at each step, from the rules above and the entries' tuples as the client saw them. */
function expectedRecords(scenario: Scenario, entered: readonly EnteredTuple[]): Expected[] {
  const out: Expected[] = [];
  const entries: Array<EnteredTuple & { deadline: number; held: boolean }> = [];
  let now = 0;
  const held = () => entries.filter((e) => e.held);
  const sizes = () => {
    const deadlines = held().map((e) => e.deadline);
    return {
      timeWait: deadlines.length,
      open: deadlines.length,
      halfOpen: 0,
      next: deadlines.length > 0 ? Math.min(...deadlines) : null,
    };
  };
  for (const step of scenario.steps) {
    if (step.kind === 'enter') {
      if (entries.length >= MAX_CLIENTS) continue;
      const oldest = held()[0];
      if (oldest !== undefined && held().length >= scenario.maxTimeWait) oldest.held = false;
      entries.push({ ...(entered[entries.length] as EnteredTuple), deadline: now + scenario.timeWaitMs, held: true });
      out.push({ step: 'enter', ...sizes() }); // the way in is the Connection's, tested in closing.test.ts
    } else if (step.kind === 'advance') {
      now += step.ms;
      for (const e of held()) if (e.deadline <= now) e.held = false;
      out.push({ step: 'advance', actions: [], counters: {}, ...sizes() });
    } else {
      const target = held()[step.target % Math.max(held().length, 1)];
      if (target === undefined) continue;
      const seg = segmentFor(step, target);
      const verdict = referenceVerdict(target.rcvNxt, seg);
      let actions: TcpAction[] = [];
      let counters: Record<string, number> = { 'segments-received': 1, [verdict.counter]: 1 };
      if (verdict.ack) actions = [transmit(target.port, { seq: target.sndNxt, ack: target.rcvNxt })];
      if (verdict.entry === 'restart') target.deadline = now + scenario.timeWaitMs;
      if (verdict.entry === 'close') target.held = false;
      if (verdict.entry === 'reuse') {
        target.held = false;
        const synAck = { control: 'syn' as const, ack: seqAdd(seg.seq, 1), options: { mss: 1460 } };
        actions = [transmit(target.port, synAck)];
        // The scenario then resets the new half-open entry.
        counters = { 'resets-received': 1, 'segments-received': 2, 'syns-received': 1, 'time-wait-reused': 1 };
      }
      const sorted = Object.fromEntries(Object.entries(counters).sort(([a], [b]) => a.localeCompare(b)));
      out.push({
        step: `segment to ${target.port}`,
        actions: actions.map(describeAction),
        counters: sorted,
        ...sizes(),
      });
    }
  }
  return out;
}

/** The record without what the model does not predict (the way into TIME-WAIT is the Connection's). */
function comparable(record: StepRecord, expected: Expected): Expected {
  return expected.actions === undefined
    ? { step: record.step, timeWait: record.timeWait, open: record.open, halfOpen: record.halfOpen, next: record.next }
    : record;
}

describe('TIME-WAIT in the stack, over random scenarios', () => {
  it('answers every segment and timer as the TIME-WAIT rules say, with the same counters (property)', () => {
    fc.assert(
      fc.property(scenarioArbitrary, (scenario) => {
        const entered: EnteredTuple[] = [];
        const records = run(new TcpStack(scenarioConfig(scenario)), scenario, entered);
        const expected = expectedRecords(scenario, entered);
        assert.equal(records.length, expected.length);
        records.forEach((record, i) => assert.deepEqual(comparable(record, expected[i] as Expected), expected[i]));
      }),
      { numRuns: 300 },
    );
  });

  it('counts an eviction for each entry past maxTimeWait, oldest first', () => {
    const scenario: Scenario = {
      timeWaitMs: 1000,
      maxTimeWait: 2,
      steps: [0, 1, 2, 3].map((i): Step => ({
        kind: 'enter',
        isn: i * 1000,
        request: 5,
        response: 7,
        path: 'fin-wait-2',
      })),
    };
    const entered: EnteredTuple[] = [];
    const stack = new TcpStack(scenarioConfig(scenario));
    const records = run(stack, scenario, entered);
    assert.deepEqual(
      records.map((r) => [r.timeWait, r.counters['time-wait-evicted'] ?? 0]),
      [
        [1, 0],
        [2, 0],
        [2, 1],
        [2, 1],
      ],
    );
    const held = entered.map((e) => stack.inTimeWait(SERVER_ADDR, SERVER_PORT, CLIENT_ADDR, e.port));
    assert.deepEqual(held, [false, false, true, true]);
  });
});

// ---- the recorded behaviour of the Connection-based TIME-WAIT ----

const REFERENCE = join(import.meta.dirname, 'fixtures', 'time-wait-reference.txt');
const REFERENCE_SEED = 17;
const REFERENCE_SCENARIOS = 250;
const PATHS = ['fin-wait-2', 'closing', 'fin-with-ack'] as const;

/** One step as a short JSON array, so the fixture stays small. */
function encodeStep(step: Step): unknown[] {
  if (step.kind === 'enter') return ['e', step.isn, step.request, step.response, PATHS.indexOf(step.path)];
  if (step.kind === 'advance') return ['a', step.ms];
  return ['s', step.target, step.control, step.seqOffset, step.ackOffset ?? null, step.payload];
}

function decodeStep(fields: unknown[]): Step {
  if (fields[0] === 'e') {
    const [, isn, request, response, path] = fields as [string, number, number, number, number];
    return { kind: 'enter', isn, request, response, path: PATHS[path] as ClosePath };
  }
  if (fields[0] === 'a') return { kind: 'advance', ms: fields[1] as number };
  const [, target, control, seqOffset, ackOffset, payload] = fields as [
    string,
    number,
    TcpControl,
    number | 'fin-end',
    number | null,
    number,
  ];
  return { kind: 'segment', target, control, seqOffset, ackOffset: ackOffset ?? undefined, payload };
}

const stepHash = (record: StepRecord): string =>
  createHash('sha256').update(JSON.stringify(record)).digest('hex').slice(0, 10);

/** IMDS_HOP_TIME_WAIT_REFERENCE_STACK=DIR/src/tcp/index.ts rewrites the fixture from that stack's traces. */
async function writeReference(stackModule: string): Promise<void> {
  const { TcpStack: ReferenceStack } = (await import(stackModule)) as { TcpStack: typeof TcpStack };
  const scenarios = fc.sample(scenarioArbitrary, { seed: REFERENCE_SEED, numRuns: REFERENCE_SCENARIOS });
  const lines = scenarios.map((scenario) => {
    const records = run(new ReferenceStack(scenarioConfig(scenario)), scenario);
    const encoded = {
      timeWaitMs: scenario.timeWaitMs,
      maxTimeWait: scenario.maxTimeWait,
      steps: scenario.steps.map(encodeStep),
    };
    return `${JSON.stringify(encoded)}\t${records.map(stepHash).join(' ')}`;
  });
  const header = [
    '# TIME-WAIT scenarios (test/tcp/time-wait-scenarios.ts) and a hash of every step of their trace, recorded from',
    `# ${process.env.IMDS_HOP_TIME_WAIT_REFERENCE_NAME ?? stackModule}.`,
    '# Regenerate: git archive COMMIT src | tar -x -C DIR, then IMDS_HOP_TIME_WAIT_REFERENCE_STACK=DIR/src/tcp/index.ts',
    '# IMDS_HOP_TIME_WAIT_REFERENCE_NAME=WHAT node --import tsx --test test/tcp/time-wait.test.ts',
  ];
  writeFileSync(REFERENCE, [...header, ...lines, ''].join('\n'));
}

describe('TIME-WAIT against the Connection-based implementation it replaced', () => {
  it('replays the recorded scenarios with the same actions, counters, table sizes and deadlines at every step', async () => {
    const referenceStack = process.env.IMDS_HOP_TIME_WAIT_REFERENCE_STACK;
    if (referenceStack) await writeReference(referenceStack);
    const lines = readFileSync(REFERENCE, 'utf8')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'));
    assert.equal(lines.length, REFERENCE_SCENARIOS);
    const outcomes = new Set<string>();
    for (const line of lines) {
      const [json, hashes] = line.split('\t') as [string, string];
      const encoded = JSON.parse(json) as { timeWaitMs: number; maxTimeWait: number; steps: unknown[][] };
      const scenario: Scenario = { ...encoded, steps: encoded.steps.map(decodeStep) };
      const records = run(new TcpStack(scenarioConfig(scenario)), scenario);
      const want = hashes === '' ? [] : hashes.split(' ');
      assert.equal(records.length, want.length, json);
      records.forEach((record, i) => {
        assert.equal(stepHash(record), want[i], `step ${i} of ${json} differs: now ${JSON.stringify(record)}`);
        for (const name of Object.keys(record.counters)) outcomes.add(name);
      });
    }
    const timeWaitOutcomes = [
      'time-wait-reused',
      'resets-received',
      'challenge-acks',
      'rst-dropped-out-of-window',
      'time-wait-fin-retransmitted',
      'segments-dropped-time-wait',
      'time-wait-evicted',
    ];
    assert.deepEqual(
      timeWaitOutcomes.filter((name) => !outcomes.has(name)),
      [],
      'outcomes the recording never met',
    );
  });
});

// ---- the table's storage ----

describe('TimeWaitTable storage', () => {
  type Op =
    | { op: 'add'; port: number; deadline: number }
    | { op: 'remove'; pick: number }
    | { op: 'restart'; pick: number; deadline: number };
  const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({ op: fc.constant('add' as const), port: fc.nat(0xffff), deadline: fc.nat(1000) }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), pick: fc.nat() }) },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant('restart' as const), pick: fc.nat(), deadline: fc.nat(1000) }),
    },
  );

  it('keeps every entry, its age order and its deadline order through growth, removal and reuse of slots (property)', () => {
    fc.assert(
      fc.property(fc.array(opArbitrary, { maxLength: 400 }), (ops) => {
        const table = new TimeWaitTable();
        const model: Array<{ slot: number; port: number; deadline: number }> = []; // oldest first
        for (const op of ops) {
          if (op.op === 'add') {
            const endpoints = {
              localAddr: SERVER_ADDR,
              localPort: SERVER_PORT,
              remoteAddr: CLIENT_ADDR,
              remotePort: op.port,
            };
            const slot = table.add(endpoints, op.port * 3, op.port * 5, op.deadline);
            assert.ok(!model.some((e) => e.slot === slot), 'a slot in use was handed out again');
            model.push({ slot, port: op.port, deadline: op.deadline });
          } else if (model.length > 0) {
            const index = op.pick % model.length;
            const entry = model[index] as (typeof model)[number];
            if (op.op === 'remove') {
              table.remove(entry.slot);
              model.splice(index, 1);
            } else {
              table.restart(entry.slot, op.deadline);
              entry.deadline = op.deadline;
            }
          }
          assert.equal(table.size, model.length);
          assert.equal(table.oldest(), model[0]?.slot);
          const earliest = model.length > 0 ? Math.min(...model.map((e) => e.deadline)) : undefined;
          assert.equal(table.nextDeadline(), earliest);
        }
        for (const e of model) {
          assert.equal(table.remotePortOf(e.slot), e.port);
          assert.equal(table.localPortOf(e.slot), SERVER_PORT);
          assert.equal(table.remoteAddrOf(e.slot), CLIENT_ADDR);
          assert.equal(table.localAddrOf(e.slot), SERVER_ADDR);
          assert.equal(table.rcvNxtOf(e.slot), (e.port * 5) >>> 0);
        }
        // Expiry hands out entries in deadline order.
        const byDeadline = [...model].sort((a, b) => a.deadline - b.deadline).map((e) => e.deadline);
        const expired: number[] = [];
        for (let slot = table.expired(1000); slot !== undefined; slot = table.expired(1000)) {
          expired.push(model.find((e) => e.slot === slot)?.deadline as number);
          table.remove(slot);
        }
        assert.deepEqual(expired, byDeadline);
      }),
      { numRuns: 200 },
    );
  });
});

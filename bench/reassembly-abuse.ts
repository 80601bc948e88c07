// Reassembly abuse (issue #13, attack 2): one connection receives N one-byte segments at every other offset,
// nearest first and furthest first. Before the bound, 16,000 such segments cost 4-5 s of event loop and 32,000
// about 20 s (quadratic); now the cost per segment must not grow with N. Drives the pure TCP stack directly:
// what is measured is the stack's work, not the link's.
//   npm run bench:reassembly            (no root needed)
import { TcpStack, DEFAULT_TCP_CONFIG, type TcpAction } from '../src/tcp/index.ts';
import type { TcpSegment } from '../src/wire/tcp-segment.ts';

const SERVER = 0xa9fea9fe;
const CLIENT = 0xa9fea9fd;

function segment(fields: Partial<TcpSegment>): TcpSegment {
  return {
    srcPort: 40000,
    dstPort: 80,
    seq: 0,
    ack: undefined,
    control: 'none',
    push: false,
    window: 65535,
    options: {},
    payload: new Uint8Array(0),
    ...fields,
  };
}

/** Milliseconds of stack work for `count` one-byte segments at every other offset, in the given order. */
function measure(
  count: number,
  order: 'nearest-first' | 'furthest-first',
): { ms: number; held: number; pruned: number } {
  const stack = new TcpStack({ ...DEFAULT_TCP_CONFIG, listenPorts: [80], isnSecret: new Uint8Array(32) });
  const isn = 1000;
  const synAck = stack.receive(CLIENT, SERVER, segment({ seq: isn, control: 'syn', options: { mss: 1460 } }), 0);
  const serverIss =
    (synAck.find((a): a is Extract<TcpAction, { kind: 'transmit' }> => a.kind === 'transmit')?.segment.seq ?? 0) >>> 0;
  const ack = (serverIss + 1) >>> 0;
  const accepted = stack.receive(CLIENT, SERVER, segment({ seq: isn + 1, ack }), 0).find((a) => a.kind === 'accepted');
  if (!accepted || accepted.kind !== 'accepted') throw new Error('no handshake');
  const one = new Uint8Array(1);
  const offsets = Array.from({ length: count }, (_, i) => 2 * (i + 1));
  if (order === 'furthest-first') offsets.reverse();
  const started = performance.now();
  for (const offset of offsets) stack.receive(CLIENT, SERVER, segment({ seq: isn + 1 + offset, ack, payload: one }), 1);
  const ms = performance.now() - started;
  const conn = stack.inspect(accepted.id);
  return { ms, held: conn?.reassemblySegments ?? 0, pruned: stack.counters['reassembly-ranges-pruned'] ?? 0 };
}

measure(2_000, 'nearest-first'); // warm-up: JIT
const rows: string[] = [];
const results: Record<string, unknown>[] = [];
for (const order of ['nearest-first', 'furthest-first'] as const) {
  for (const count of [8_000, 16_000, 32_000]) {
    const { ms, held, pruned } = measure(count, order);
    const perSegmentUs = (ms * 1000) / count;
    results.push({ order, count, ms, perSegmentUs, held, pruned });
    rows.push(
      `${order.padEnd(15)} ${String(count).padStart(7)}  ${ms.toFixed(1).padStart(8)} ms  ${perSegmentUs.toFixed(2).padStart(6)} µs/segment  held ${held}, pruned ${pruned}`,
    );
  }
}
process.stdout.write(
  `reassembly abuse: one-byte segments at every other offset on one connection\n${rows.join('\n')}\n`,
);
if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(results)}\n`);

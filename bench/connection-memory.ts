// Heap bytes per idle connection in the appliance's Host (TCP + HTTP session), without a network:
// `node --expose-gc --import tsx bench/connection-memory.ts [N]`. A quick check of per-connection memory
// while optimising; the end-to-end figure is the idle-connections workload of `npm run bench`.
import { writeHeapSnapshot } from 'node:v8';
import { pino } from 'pino';
import type { FrameLink, FramesHandler } from '../src/link/index.ts';
import { encodeTcpFrame, parseEthernet, parseIpv4, parseTcp } from '../src/wire/index.ts';
import { DEFAULT_TCP_CONFIG } from '../src/tcp/index.ts';
import { Host } from '../src/appliance/host.ts';
import { makeEngine } from '../test/imds/helpers.ts';

const count = Number(process.argv[2] ?? 10_000);
const serviceMac = Uint8Array.of(2, 0xa9, 0xfe, 0xa9, 0xfe, 1);
const peerMac = Uint8Array.of(2, 0, 0, 0, 0, 2);
const serviceAddr = 0xa9fea9fe;
const peerAddr = 0xa9fea9fd;

let handler: FramesHandler = () => undefined;
let lastSent: Uint8Array | undefined;
const link: FrameLink = {
  name: 'memory',
  send: (frame) => ((lastSent = frame), true),
  onFrames: (h) => void (handler = h),
  close: async () => undefined,
};
const { engine } = makeEngine();
const host = new Host(
  {
    mac: serviceMac,
    serviceAddress: serviceAddr,
    tcp: {
      ...DEFAULT_TCP_CONFIG,
      mss: 1460,
      listenPorts: [80],
      isnSecret: new Uint8Array(32),
      maxConnections: count + 10,
      maxHalfOpen: count + 10,
    },
    http: {},
    maxNeighbors: 16,
  },
  link,
  engine,
  { monotonicMs: () => performance.now(), wallMs: () => Date.now() },
  pino({ level: 'silent' }),
);
host.start();

function segmentFrame(port: number, seq: number, ack: number | undefined, control: 'syn' | 'none'): Uint8Array {
  return encodeTcpFrame({
    srcMac: peerMac,
    dstMac: serviceMac,
    srcAddr: peerAddr,
    dstAddr: serviceAddr,
    hopLimit: 64,
    identification: 0,
    segment: {
      srcPort: port,
      dstPort: 80,
      seq,
      ack,
      control,
      push: false,
      window: 65535,
      options: control === 'syn' ? { mss: 1460 } : {},
      payload: new Uint8Array(0),
    },
  });
}

function open(port: number): void {
  handler([segmentFrame(port, 1000, undefined, 'syn')]);
  const ip = parseIpv4(
    (parseEthernet(lastSent as Uint8Array) as { ok: true; value: { payload: Uint8Array } }).value.payload,
  );
  if (!ip.ok) throw new Error('no SYN-ACK');
  const synAck = parseTcp(ip.value.payload, ip.value.src, ip.value.dst);
  if (!synAck.ok) throw new Error('bad SYN-ACK');
  handler([segmentFrame(port, 1001, (synAck.value.seq + 1) >>> 0, 'none')]);
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
for (let i = 0; i < 200; i++) open(1024 + i); // warm up shapes and code
gc();
gc();
const before = process.memoryUsage();
for (let i = 200; i < 200 + count; i++) open(1024 + i);
gc();
gc();
const after = process.memoryUsage();
const snapshot = host.counterSnapshot();
console.log(
  `${snapshot['tcp-connections-open']} open; heap ${((after.heapUsed - before.heapUsed) / count).toFixed(0)} B/connection, ` +
    `external ${((after.external + after.arrayBuffers - before.external - before.arrayBuffers) / count).toFixed(0)} B/connection, ` +
    `rss ${((after.rss - before.rss) / count).toFixed(0)} B/connection`,
);
// IMDS_HOP_HEAP_SNAPSHOT=FILE keeps a heap snapshot of the open connections for a closer look.
if (process.env.IMDS_HOP_HEAP_SNAPSHOT) writeHeapSnapshot(process.env.IMDS_HOP_HEAP_SNAPSHOT);
host.stop();

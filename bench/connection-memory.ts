// Heap bytes per idle connection and per TIME-WAIT entry in the appliance's Host (TCP + HTTP session), without
// a network: `node --expose-gc --import tsx bench/connection-memory.ts [N]`. A quick check of per-connection
// memory while optimising; the end-to-end figures are the idle-connections and flow workloads of `npm run bench`.
import { writeHeapSnapshot } from 'node:v8';
import { pino } from 'pino';
import type { FrameLink, FramesHandler } from '../src/link/index.ts';
import { encodeTcpFrame, parseEthernet, parseIpv4, parseTcp } from '../src/wire/index.ts';
import type { TcpSegment } from '../src/wire/tcp-segment.ts';
import { DEFAULT_TCP_CONFIG } from '../src/tcp/index.ts';
import { Host } from '../src/appliance/host.ts';
import { makeEngine } from '../test/imds/helpers.ts';

const count = Number(process.argv[2] ?? 10_000);
const serviceMac = Uint8Array.of(2, 0xa9, 0xfe, 0xa9, 0xfe, 1);
const peerMac = Uint8Array.of(2, 0, 0, 0, 0, 2);
const serviceAddr = 0xa9fea9fe;
const peerAddr = 0xa9fea9fd;

let handler: FramesHandler = () => undefined;
/** Frames the host sent since the last deliver(). */
let sent: Uint8Array[] = [];
const link: FrameLink = {
  name: 'memory',
  send: (frame) => (sent.push(frame), true),
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
      maxConnections: count + 1000,
      maxHalfOpen: count + 1000,
      maxTimeWait: count + 1000,
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

function segmentFrame(
  port: number,
  seq: number,
  ack: number | undefined,
  control: 'syn' | 'fin' | 'none',
  payload = new Uint8Array(0),
): Uint8Array {
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
      push: payload.length > 0,
      window: 65535,
      options: control === 'syn' ? { mss: 1460 } : {},
      payload,
    },
  });
}

/** Hands the host one frame; returns the TCP segments it answered with. */
function deliver(frame: Uint8Array): TcpSegment[] {
  sent = [];
  handler([frame]);
  return sent.map((reply) => {
    const ip = parseIpv4((parseEthernet(reply) as { ok: true; value: { payload: Uint8Array } }).value.payload);
    if (!ip.ok) throw new Error('the host sent a frame that is not IPv4');
    const segment = parseTcp(ip.value.payload, ip.value.src, ip.value.dst);
    if (!segment.ok) throw new Error('the host sent a bad TCP segment');
    return segment.value;
  });
}

const CLIENT_ISN = 1000;

/** A handshake; returns the host's next sequence number. */
function open(port: number): number {
  const synAck = deliver(segmentFrame(port, CLIENT_ISN, undefined, 'syn'))[0];
  if (synAck?.control !== 'syn') throw new Error('no SYN-ACK');
  const serverNext = (synAck.seq + 1) >>> 0;
  deliver(segmentFrame(port, CLIENT_ISN + 1, serverNext, 'none'));
  return serverNext;
}

const REQUEST = new TextEncoder().encode('GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n');

/** A request the host answers and closes (EC2 closes every connection); the client's FIN leaves it in TIME-WAIT. */
function openThenTimeWait(port: number): void {
  let serverNext = open(port);
  let clientNext = CLIENT_ISN + 1;
  let finSeen = false;
  for (const reply of deliver(segmentFrame(port, clientNext, serverNext, 'none', REQUEST))) {
    serverNext = (reply.seq + reply.payload.length + (reply.control === 'fin' ? 1 : 0)) >>> 0;
    finSeen ||= reply.control === 'fin';
  }
  if (!finSeen) throw new Error('the host did not close after its response');
  clientNext += REQUEST.length;
  deliver(segmentFrame(port, clientNext, serverNext, 'none'));
  deliver(segmentFrame(port, clientNext, serverNext, 'fin'));
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const collect: () => void = gc;
const FIRST_PORT = 1024;
const WARM_UP = 200;
if (FIRST_PORT + 2 * WARM_UP + 2 * count > 0x10000)
  throw new Error(`N is at most ${(0x10000 - 1424) >> 1}: one port each`);

/** Heap, external and RSS bytes per unit that `grow` adds, after full collections either side. */
function measure(label: string, grow: () => void, held: () => number): void {
  collect();
  collect();
  const before = process.memoryUsage();
  grow();
  collect();
  collect();
  const after = process.memoryUsage();
  const per = (bytes: number): string => (bytes / count).toFixed(0);
  console.log(
    `${held()} ${label}; heap ${per(after.heapUsed - before.heapUsed)} B each, ` +
      `external ${per(after.external - before.external)} B each, ` + // arrayBuffers are part of external
      `rss ${per(after.rss - before.rss)} B each`,
  );
}

const counters = (): Readonly<Record<string, number>> => host.counterSnapshot();
let port = FIRST_PORT;
for (let i = 0; i < WARM_UP; i++) openThenTimeWait(port++); // warm up shapes and code
for (let i = 0; i < WARM_UP; i++) open(port++);
measure(
  'open',
  () => {
    for (let i = 0; i < count; i++) open(port++);
  },
  () => (counters()['tcp-connections-open'] ?? 0) - (counters()['tcp-connections-time-wait'] ?? 0),
);
measure(
  'in TIME-WAIT',
  () => {
    for (let i = 0; i < count; i++) openThenTimeWait(port++);
  },
  () => counters()['tcp-connections-time-wait'] ?? 0,
);
// IMDS_HOP_HEAP_SNAPSHOT=FILE keeps a heap snapshot of the open connections and TIME-WAIT entries for a closer look.
if (process.env.IMDS_HOP_HEAP_SNAPSHOT) writeHeapSnapshot(process.env.IMDS_HOP_HEAP_SNAPSHOT);
host.stop();

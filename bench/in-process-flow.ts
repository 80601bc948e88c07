// The new-connection IMDSv2 flow (bench/wrk-flow.lua's: PUT a token on one connection, then GET with it on another)
// driven through a Host in this process by a scripted client that answers as Linux's TCP does: the appliance's own
// work per flow without kernel, tap or generator, and without caller naming. Its clock figures move with the host
// like the full bench's; counted in instructions under callgrind (bench/instructions-per-flow.sh, --callgrind: only
// the measured flows are instrumented) two versions of the code differ by a few percent reliably, where the bench's
// rounds scatter by 10-20%. Keys, secrets and nonces are fixed, so two runs do the same work. Not a target measure:
// `npm run bench` is. `npm run bench:in-process -- [--flows=N] [--rounds=N] [--warm=N] [--callgrind]`.
import { execFileSync } from 'node:child_process';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { pino } from 'pino';
import type { FrameLink, FramesHandler } from '../src/link/index.ts';
import {
  encodeTcpFrame,
  parseEthernet,
  parseIpv4,
  parseIpv4Address,
  parseMacAddress,
  parseTcp,
} from '../src/wire/index.ts';
import type { TcpSegment } from '../src/wire/tcp-segment.ts';
import { DEFAULT_TCP_CONFIG } from '../src/tcp/index.ts';
import { ImdsEngine, defaultInstance } from '../src/imds/index.ts';
import { BOOT_MS, CREDENTIAL_KEY, TOKEN_KEY, identitySigner } from '../test/imds/helpers.ts';
import { FaultInjector } from '../src/appliance/fault-injector.ts';
import { Host } from '../src/appliance/host.ts';
import { applyMemoryPolicy } from '../src/appliance/memory-policy.ts';
import { NO_THROTTLE } from '../src/faults/index.ts';
import { medianOf } from './report.ts';

// The heap as `serve` sizes it by default (the checkout's own policy, when it measures another checkout); run with
// node's --semi-space-growth-factor=1, as bin/imds-hop.mjs sets it before any module loads (the npm script does).
applyMemoryPolicy('lean');

const argument = (name: string, fallback: number) =>
  Number(process.argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const FLOWS = argument('flows', 20_000);
const ROUNDS = argument('rounds', 5);
const WARM_FLOWS = argument('warm', 5_000);
/** Under valgrind --tool=callgrind --instr-atstart=no: instrument the measured flows alone. */
const CALLGRIND = process.argv.includes('--callgrind');
const instrument = (on: boolean) =>
  CALLGRIND && execFileSync('callgrind_control', ['-i', on ? 'on' : 'off', String(process.pid)], { stdio: 'ignore' });

const SERVICE_MAC = parseMacAddress('02:a9:fe:a9:fe:01');
const CLIENT_MAC = parseMacAddress('02:00:00:00:00:02');
const SERVICE_ADDR = parseIpv4Address('169.254.169.254');
const CLIENT_ADDR = parseIpv4Address('169.254.0.2');
const text = new TextEncoder();
const PUT = text.encode(
  'PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\nX-aws-ec2-metadata-token-ttl-seconds: 21600\r\nConnection: close\r\n\r\n',
);
const getWith = (token: string) =>
  text.encode(
    `GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: 169.254.169.254\r\nX-aws-ec2-metadata-token: ${token}\r\nConnection: close\r\n\r\n`,
  );

/** The host's side of a link whose other side is this script: frames the host sends wait here until read. */
class ScriptLink implements FrameLink {
  readonly name = 'script';
  handler: FramesHandler | undefined;
  readonly sent: Uint8Array[] = [];
  send(frame: Uint8Array): boolean {
    this.sent.push(frame.slice());
    return true;
  }
  onFrames(handler: FramesHandler): void {
    this.handler = handler;
  }
  async close(): Promise<void> {}
}

/** Nonces from a fixed seed (xorshift32): the same tokens every run, none repeated as a real instance's. */
let seed = 0x2545f491;
function fixedRandomBytes(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    bytes[i] = seed & 0xff;
  }
  return bytes;
}

const link = new ScriptLink();
const log = pino({ level: 'silent' });
const engine = new ImdsEngine(defaultInstance(), {
  tokenKey: TOKEN_KEY,
  credentialKey: CREDENTIAL_KEY,
  randomBytes: fixedRandomBytes,
  identitySigner: identitySigner(),
  bootWallMs: BOOT_MS,
  metrics: { increment: () => {} },
});
const injector = new FaultInjector(
  { seed: 1, throttle: NO_THROTTLE, earlyBoot: undefined, rules: [] },
  engine,
  () => {},
  log,
  performance.now(),
);
const host = new Host(
  {
    mac: SERVICE_MAC,
    serviceAddress: SERVICE_ADDR,
    tcp: {
      ...DEFAULT_TCP_CONFIG,
      mss: 1460,
      listenPorts: [80],
      defaultHopLimit: 64,
      isnSecret: new Uint8Array(32).fill(3),
      admitSyn: injector.admitSyn,
      synCookieSecret: new Uint8Array(32).fill(4),
    },
    http: {},
    maxNeighbors: 4096,
    faults: injector,
  },
  link,
  engine,
  { monotonicMs: () => performance.now(), wallMs: () => Date.now() },
  log,
);
host.start();

/** Time spent inside the host's frame handler: what the script itself costs is left out. */
let hostMs = 0;

/** Sends one client segment and returns the host's answers, parsed. */
function exchange(port: number, segment: Omit<TcpSegment, 'srcPort' | 'dstPort' | 'window'>): TcpSegment[] {
  const frame = encodeTcpFrame({
    srcMac: CLIENT_MAC,
    dstMac: SERVICE_MAC,
    srcAddr: CLIENT_ADDR,
    dstAddr: SERVICE_ADDR,
    hopLimit: 64,
    identification: 0,
    segment: { ...segment, srcPort: port, dstPort: 80, window: 502 },
  });
  const started = performance.now();
  link.handler!([frame]);
  hostMs += performance.now() - started;
  const answers = link.sent.splice(0).map((sent) => {
    const ethernet = parseEthernet(sent);
    const ip = ethernet.ok ? parseIpv4(ethernet.value.payload) : undefined;
    const tcp = ip?.ok ? parseTcp(ip.value.payload, ip.value.src, ip.value.dst) : undefined;
    if (!tcp?.ok) throw new Error('the host sent a frame that is not TCP');
    return tcp.value;
  });
  return answers;
}

/** One connection as Linux's client makes it (options, ACK, request, ACK of the answer, FIN); returns the body. */
function connection(port: number, request: Uint8Array, clock: number): string {
  const iss = (port * 7919) >>> 0;
  const timestamp = (echo: number) => ({ timestamp: { value: clock, echo } });
  const [synAck] = exchange(port, {
    seq: iss,
    ack: undefined,
    control: 'syn',
    push: false,
    options: { mss: 1460, sackPermitted: true, windowScale: 7, ...timestamp(0) },
    payload: new Uint8Array(0),
  });
  if (synAck?.control !== 'syn') throw new Error(`no SYN-ACK for port ${port}`);
  const echo = synAck.options.timestamp?.value ?? 0;
  let ack = (synAck.seq + 1) >>> 0;
  const seq = (iss + 1) >>> 0;
  exchange(port, { seq, ack, control: 'none', push: false, options: timestamp(echo), payload: new Uint8Array(0) });
  const answers = exchange(port, { seq, ack, control: 'none', push: true, options: timestamp(echo), payload: request });
  let body = '';
  let finished = false;
  for (const answer of answers) {
    body += Buffer.from(answer.payload).toString('latin1');
    ack = (answer.seq + answer.payload.length + (answer.control === 'fin' ? 1 : 0)) >>> 0;
    finished ||= answer.control === 'fin';
  }
  if (!finished) throw new Error(`the host did not close port ${port} after its answer`);
  const after = (seq + request.length) >>> 0;
  exchange(port, {
    seq: after,
    ack,
    control: 'none',
    push: false,
    options: timestamp(echo),
    payload: new Uint8Array(0),
  });
  exchange(port, {
    seq: after,
    ack,
    control: 'fin',
    push: false,
    options: timestamp(echo),
    payload: new Uint8Array(0),
  });
  return body.slice(body.indexOf('\r\n\r\n') + 4);
}

let nextPort = 0;
function flows(count: number): void {
  for (let i = 0; i < count; i++) {
    // Ports cycle through Linux's ephemeral range, as wrk's connections do.
    const port = 32768 + (nextPort++ % 28000);
    const token = connection(port, PUT, i);
    const port2 = 32768 + (nextPort++ % 28000);
    const id = connection(port2, getWith(token), i);
    if (!id.startsWith('i-')) throw new Error(`GET with the token answered ${JSON.stringify(id.slice(0, 80))}`);
  }
}

let gcMs = 0;
let gcCount = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcMs += entry.duration;
    gcCount += 1;
  }
}).observe({ entryTypes: ['gc'] });
const tick = () => new Promise((resolve) => setImmediate(resolve));

flows(WARM_FLOWS); // warm: compiled code, tables at their working size
await tick();
const perFlow: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  gcMs = 0;
  gcCount = 0;
  hostMs = 0;
  const cpu = process.cpuUsage();
  instrument(true);
  flows(FLOWS);
  instrument(false);
  await tick(); // the gc entries of this round arrive on the next turn
  const used = process.cpuUsage(cpu);
  const us = (hostMs * 1000) / FLOWS;
  perFlow.push(us);
  console.log(
    `round ${round + 1}: ${us.toFixed(1)} us in the host per flow; process CPU (script and GC threads included) ${((used.user + used.system) / FLOWS).toFixed(1)} us per flow; ${gcCount} GC pauses, ${((gcMs * 1000) / FLOWS).toFixed(1)} us per flow`,
  );
}
console.log(`median ${medianOf(perFlow).toFixed(1)} us in the host per flow over ${ROUNDS} rounds`);
host.stop();

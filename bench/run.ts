// `npm run bench`: imds-hop on its tap against kernel-stack baselines, one generator. Options: --quick,
// --profile, --rounds=N, --only=imds-hop,node:http,nginx, --workloads=flow,keepalive,idle,memory, --no-rps, --sources,
// --imds-hop-node-options=FLAGS, --baseline=DIR (another checkout, built, run as imds-hop:baseline), --out=FILE.
//
//   instance ns: wrk, idle holder (kernel TCP) --tap--> imds-hop serve (userspace stack)      [imds-hop rows]
//   instance ns: wrk, idle holder (kernel TCP) --veth 198.18.0.1 -> 198.18.0.2--> server ns:
//                node:http + the same ImdsEngine | nginx fixed bodies, on 169.254.169.254     [baseline rows]
//
// The route to 169.254.169.254/32 in the instance namespace points into the tap while imds-hop runs and into
// the veth while a baseline runs. Every server is started fresh for every workload so its peak RSS is its own.
// Traffic never leaves the two namespaces; both are removed on exit, failure or Ctrl-C (the cleanup of test/support/netns.ts).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  connectNamespaces,
  createNamespace,
  inNamespace,
  runSync,
  skipUnlessRoot,
  sweepStaleNamespaces,
  uniqueName,
} from '../test/support/netns.ts';
import { cpuJiffies, cpuSeconds, peakRssBytes, rssBytes } from './proc-stats.ts';
import {
  IMDS_HOP_VARIANTS,
  SERVICE_ADDRESS,
  startImdsHop,
  startNginx,
  startNodeHttp,
  type ImdsHopVariant,
  type RunningServer,
  type ServerName,
} from './servers.ts';
import { IdleHolder } from './idle-holder-client.ts';
import { runWrk, type WrkResult } from './wrk.ts';
import { measureMemory, printMemory, type MemoryResult } from './memory-phase.ts';
import {
  evaluateTargets,
  medianRows,
  printTable,
  printTargets,
  variantCost,
  type Row,
  type Workload,
} from './report.ts';
import { cpuTargets } from './cpu-targets.ts';

const REPO_ROOT = resolve(import.meta.dirname, '..');
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const profile = argv.includes('--profile');
const onlyArg = argv.find((a) => a.startsWith('--only='));
const only = onlyArg ? onlyArg.slice('--only='.length).split(',') : undefined;
const workloadsArg = argv.find((a) => a.startsWith('--workloads='));
const WORKLOAD_KEYS = {
  flow: 'new-connection-flow',
  keepalive: 'keep-alive-get',
  idle: 'keep-alive-get+idle',
  memory: 'memory',
} as const;
// memory (idle RSS, flow peak, a minute after a 10,000-connection burst) takes over a minute a server: asked for.
const selectedWorkloads = workloadsArg
  ? workloadsArg.slice('--workloads='.length).split(',')
  : ['flow', 'keepalive', 'idle'];
for (const key of selectedWorkloads) {
  if (!(key in WORKLOAD_KEYS)) {
    console.error(
      `bench: unknown workload "${key}" in --workloads (choose from ${Object.keys(WORKLOAD_KEYS).join(', ')})`,
    );
    process.exit(2);
  }
}
const runs = (key: keyof typeof WORKLOAD_KEYS): boolean => selectedWorkloads.includes(key);

/** --imds-hop-node-options="--max-semi-space-size=4": Node/V8 flags for the imds-hop server only. */
const imdsHopNodeOptions =
  argv.find((a) => a.startsWith('--imds-hop-node-options='))?.slice('--imds-hop-node-options='.length) ?? '';
const roundsArg = argv.find((a) => a.startsWith('--rounds='));
const SETTINGS = {
  ...(quick
    ? { seconds: 2, idleConnections: 1000, warmSeconds: 1, connections: 16, rounds: 1 }
    : { seconds: 10, idleConnections: 10_000, warmSeconds: 2, connections: 32, rounds: 3 }),
  ...(roundsArg ? { rounds: Number(roundsArg.slice('--rounds='.length)) } : {}),
};
if (!Number.isInteger(SETTINGS.rounds) || SETTINGS.rounds < 1) {
  console.error(`bench: --rounds needs a whole number of at least 1, got "${roundsArg}"`);
  process.exit(2);
}

if (skipUnlessRoot) {
  console.error(`bench: ${skipUnlessRoot}`);
  process.exit(2);
}

// imds-hop runs as it is deployed: compiled JavaScript (bin/imds-hop.mjs runs a dist/ newer than src/), not the
// TypeScript sources through a loader, which costs tens of MiB. --sources measures the loader's way (it removes
// dist/, a build output, so the command falls back to the sources).
const fromSources = argv.includes('--sources');
/** --baseline=DIR: another checkout of imds-hop (dependencies installed, native addon and dist built). */
const baselineArg = argv.find((a) => a.startsWith('--baseline='));
const baselineRoot = baselineArg ? resolve(baselineArg.slice('--baseline='.length)) : undefined;
if (baselineRoot && !existsSync(join(baselineRoot, 'dist', 'cli', 'main.js'))) {
  console.error(
    `bench: --baseline=${baselineRoot} has no dist/ (run npm ci, npm run build:native and npm run build there)`,
  );
  process.exit(2);
}
if ((only?.includes('imds-hop:baseline') ?? false) !== (baselineRoot !== undefined)) {
  console.error('bench: imds-hop:baseline in --only and --baseline=DIR go together');
  process.exit(2);
}
if (fromSources) rmSync(join(REPO_ROOT, 'dist'), { recursive: true, force: true });
else runSync('npm', ['run', '--silent', 'build']);

sweepStaleNamespaces();
const tempDir = mkdtempSync(join(tmpdir(), 'imds-hop-bench-'));
process.on('exit', () => rmSync(tempDir, { recursive: true, force: true }));

const instance = createNamespace('bi');
const server = createNamespace('bs');
const clientVeth = uniqueName('va');
const serverVeth = uniqueName('vb');
connectNamespaces(
  { namespace: instance, device: clientVeth, address: '198.18.0.1' },
  { namespace: server, device: serverVeth, address: '198.18.0.2' },
);
runSync('ip', ['-n', server, 'address', 'add', `${SERVICE_ADDRESS}/32`, 'dev', serverVeth]);
// Many short connections from one client address: a wide port range; the server side closes first anyway.
runSync('ip', ['netns', 'exec', instance, 'sysctl', '-qw', 'net.ipv4.ip_local_port_range=1024 65000']);
// wrk closes its socket as soon as a "Connection: close" response is read, often before the server's FIN: the
// generator then holds TIME-WAIT for every port, and once the range is full each connect() scans it (the
// generator's CPU at 100%, nginx's rate falling to a few hundred flows per second in some rounds). Reusing a
// TIME-WAIT port for a new outgoing connection (timestamps make it safe) keeps the generator steady for every server.
runSync('ip', ['netns', 'exec', instance, 'sysctl', '-qw', 'net.ipv4.tcp_tw_reuse=1']);
for (const ns of [instance, server]) {
  try {
    runSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.core.somaxconn=8192']);
  } catch {
    // older kernels keep somaxconn global: the default backlog still works, just with more SYN retries
  }
}

function routeToVeth(): void {
  runSync('ip', ['-n', instance, 'route', 'replace', `${SERVICE_ADDRESS}/32`, 'dev', clientVeth, 'src', '198.18.0.1']);
}
function routeClear(): void {
  try {
    runSync('ip', ['-n', instance, 'route', 'del', `${SERVICE_ADDRESS}/32`]);
  } catch {
    // no route: fine
  }
}

/** With two or more CPUs the server runs on CPU 1 and the generator on CPU 0, for every server alike. */
const PIN = Number(runSync('nproc', []).trim()) >= 2 ? { server: 1, generator: 0 } : undefined;

/**
 * Receive Packet Steering: the kernel's receive work for frames arriving on a device runs on this CPU. Without
 * it, a frame written into the tap (or a veth) is processed by the client's TCP inside the sender's write, on
 * the server's CPU; steered, each side's packet work runs on its own CPU, as on two machines.
 */
const steering = PIN !== undefined && !argv.includes('--no-rps');
function steerReceive(namespace: string, device: string, cpu: number): void {
  const mask = (1 << cpu).toString(16);
  runSync('ip', [
    'netns',
    'exec',
    namespace,
    'sh',
    '-c',
    `for q in /sys/class/net/${device}/queues/rx-*; do echo ${mask} > "$q/rps_cpus"; done`,
  ]);
}
if (steering && PIN) {
  steerReceive(instance, clientVeth, PIN.generator);
  steerReceive(server, serverVeth, PIN.server);
}

async function startServer(name: ServerName, connection: 'close' | 'keep-alive'): Promise<RunningServer> {
  let running: RunningServer;
  if (name in IMDS_HOP_VARIANTS) {
    routeClear();
    running = await startImdsHop(
      instance,
      connection,
      profile ? join(REPO_ROOT, 'artifacts', 'bench', 'profiles') : undefined,
      name as ImdsHopVariant,
      imdsHopNodeOptions,
      baselineRoot,
    );
  } else {
    routeToVeth();
    running =
      name === 'node:http' ? await startNodeHttp(server, instance) : await startNginx(server, instance, tempDir);
  }
  if (PIN) for (const pid of running.cpuPids) runSync('taskset', ['-a', '-p', '-c', String(PIN.server), String(pid)]);
  if (steering && PIN && running.instanceDevice) steerReceive(instance, running.instanceDevice, PIN.generator);
  return running;
}

async function fetchToken(): Promise<string> {
  const result = await inNamespace(instance, 'curl', [
    '-s',
    '-m',
    '5',
    '-X',
    'PUT',
    '-H',
    'X-aws-ec2-metadata-token-ttl-seconds: 21600',
    `http://${SERVICE_ADDRESS}/latest/api/token`,
  ]);
  if (result.code !== 0 || !result.stdout) throw new Error(`token PUT failed: ${result.stderr}`);
  return result.stdout.trim();
}

interface Measured {
  wrk: WrkResult;
  cpuSeconds: number;
  peakRssBytes: number;
  /** Packets sent/received by the instance namespace's interfaces (tap or veth): the same count for every server. */
  instancePackets: { sent: number; received: number };
  /** Share of the run each pinned CPU was busy (user+system+irq), and stolen by the hypervisor, when pinned. */
  generatorCpu?: CpuShares;
  serverCpu?: CpuShares;
}

interface CpuShares {
  busy: number;
  steal: number;
}

/** Packets the instance namespace sent and received on its non-loopback interfaces, as the kernel counts them. */
function instancePacketCounts(): { sent: number; received: number } {
  const links = JSON.parse(runSync('ip', ['-n', instance, '-s', '-j', 'link', 'show'])) as Array<{
    ifname: string;
    stats64?: { rx: { packets: number }; tx: { packets: number } };
  }>;
  let sent = 0;
  let received = 0;
  for (const link of links) {
    if (link.ifname === 'lo' || !link.stats64) continue;
    sent += link.stats64.tx.packets;
    received += link.stats64.rx.packets;
  }
  return { sent, received };
}

type Jiffies = ReturnType<typeof cpuJiffies>;
function cpuShares(before: Jiffies, after: Jiffies): CpuShares {
  const total = after.total - before.total;
  return { busy: (after.busy - before.busy) / total, steal: (after.steal - before.steal) / total };
}

/** Runs one wrk load against a running server and reads its CPU time and peak memory around it. */
async function measure(running: RunningServer, run: () => Promise<WrkResult>): Promise<Measured> {
  const packetsBefore = instancePacketCounts();
  const cpuBefore = running.cpuPids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const generatorBefore = PIN ? cpuJiffies(PIN.generator) : undefined;
  const serverBefore = PIN ? cpuJiffies(PIN.server) : undefined;
  const wrk = await run();
  const generatorAfter = PIN ? cpuJiffies(PIN.generator) : undefined;
  const serverAfter = PIN ? cpuJiffies(PIN.server) : undefined;
  const cpuAfter = running.cpuPids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const packetsAfter = instancePacketCounts();
  return {
    wrk,
    cpuSeconds: cpuAfter - cpuBefore,
    peakRssBytes: peakRssBytes(running.memoryPid),
    instancePackets: {
      sent: packetsAfter.sent - packetsBefore.sent,
      received: packetsAfter.received - packetsBefore.received,
    },
    generatorCpu: generatorBefore && generatorAfter ? cpuShares(generatorBefore, generatorAfter) : undefined,
    serverCpu: serverBefore && serverAfter ? cpuShares(serverBefore, serverAfter) : undefined,
  };
}

function toRow(round: number, workload: Workload, name: ServerName, m: Measured, extra: Partial<Row> = {}): Row {
  const seconds = m.wrk.durationUs / 1e6;
  return {
    round,
    workload,
    server: name,
    requestsPerSecond: m.wrk.requests / seconds,
    flowsPerSecond: workload === 'new-connection-flow' ? m.wrk.gets / seconds : undefined,
    p50Ms: m.wrk.p50Us / 1000,
    p99Ms: m.wrk.p99Us / 1000,
    cpuSeconds: m.cpuSeconds,
    cpuMicrosPerRequest: m.wrk.requests > 0 ? (m.cpuSeconds * 1e6) / m.wrk.requests : Number.NaN,
    serverCoreMicrosPerRequest:
      m.serverCpu && m.wrk.requests > 0 ? (m.serverCpu.busy * seconds * 1e6) / m.wrk.requests : undefined,
    peakRssMiB: m.peakRssBytes / 1024 / 1024,
    // wrk's own "status" error count is the same non-2xx responses as badStatus: counted once.
    errors: m.wrk.badStatus + m.wrk.errors.connect + m.wrk.errors.read + m.wrk.errors.write + m.wrk.errors.timeout,
    // Counted at the instance: what it sends is what EC2's link-local budget meters ("in" to the service).
    packetsPerSecond: (m.instancePackets.sent + m.instancePackets.received) / seconds,
    packetsInPerSecond: m.instancePackets.sent / seconds,
    // Packets the server took per second of its own CPU time: its capacity on one core, whatever the generator
    // or the hypervisor (steal) allowed in this run's wall-clock time.
    packetsInPerServerCpuSecond: m.cpuSeconds > 0 ? m.instancePackets.sent / m.cpuSeconds : undefined,
    generatorCpuBusy: m.generatorCpu?.busy,
    serverCpuBusy: m.serverCpu?.busy,
    cpuSteal: m.generatorCpu && m.serverCpu ? (m.generatorCpu.steal + m.serverCpu.steal) / 2 : undefined,
    ...extra,
  };
}

const rows: Row[] = [];
// The variants only when asked for (--only=imds-hop,imds-hop:callers-off): what naming callers costs, and what the
// lean heap costs (imds-hop:memory-fast).
const servers: ServerName[] = (
  [
    'imds-hop',
    'imds-hop:callers-off',
    'imds-hop:memory-fast',
    'imds-hop:tap-syscalls',
    'imds-hop:baseline',
    'node:http',
    'nginx',
  ] as const
).filter((s) => (only ? only.includes(s) : s === 'imds-hop' || !(s in IMDS_HOP_VARIANTS)));
const url = `http://${SERVICE_ADDRESS}/`;
const wrkBase = { namespace: instance, url, threads: 1, connections: SETTINGS.connections, cpu: PIN?.generator };

/** One round: every selected workload against one server, each on a freshly started server. */
async function measureServer(round: number, name: ServerName): Promise<void> {
  // (a) the cold-start IMDSv2 flow, a new connection per request
  if (runs('flow')) {
    const running = await startServer(name, 'close');
    try {
      // Every server gets the same unmeasured warm-up first: JIT compilation is not what the figures compare.
      await runWrk({ ...wrkBase, script: 'wrk-flow.lua', seconds: SETTINGS.warmSeconds });
      const m = await measure(running, () => runWrk({ ...wrkBase, script: 'wrk-flow.lua', seconds: SETTINGS.seconds }));
      rows.push(toRow(round, 'new-connection-flow', name, m));
      for (const line of (await running.details?.()) ?? []) console.log(`  ${name} ${line}`);
    } finally {
      await running.stop();
    }
  }
  // (b) GET with a token over keep-alive connections
  let keepAliveP99Ms = Number.NaN;
  if (runs('keepalive')) {
    const running = await startServer(name, 'keep-alive');
    try {
      const token = await fetchToken();
      await runWrk({ ...wrkBase, script: 'wrk-keepalive.lua', seconds: SETTINGS.warmSeconds, args: [token] });
      const m = await measure(running, () =>
        runWrk({ ...wrkBase, script: 'wrk-keepalive.lua', seconds: SETTINGS.seconds, args: [token] }),
      );
      const row = toRow(round, 'keep-alive-get', name, m);
      keepAliveP99Ms = row.p99Ms;
      rows.push(row);
    } finally {
      await running.stop();
    }
  }
  // (c) (b) again while N idle connections are held open
  if (runs('idle')) {
    const running = await startServer(name, 'keep-alive');
    let holder: IdleHolder | undefined;
    try {
      const token = await fetchToken();
      await runWrk({ ...wrkBase, script: 'wrk-keepalive.lua', seconds: SETTINGS.warmSeconds, args: [token] });
      await new Promise((r) => setTimeout(r, 500));
      const rssBefore = rssBytes(running.memoryPid);
      holder = await IdleHolder.open(instance, SERVICE_ADDRESS, SETTINGS.idleConnections);
      await new Promise((r) => setTimeout(r, 1000));
      const rssWithIdle = rssBytes(running.memoryPid);
      const m = await measure(running, () =>
        runWrk({ ...wrkBase, script: 'wrk-keepalive.lua', seconds: SETTINGS.seconds, args: [token] }),
      );
      const dropped = await holder.closedByServer();
      rows.push(
        toRow(round, 'keep-alive-get+idle', name, m, {
          idleConnections: holder.opened,
          idleFailed: holder.failed,
          idleDroppedByServer: dropped,
          rssGrowthPerIdleConnectionBytes: holder.opened > 0 ? (rssWithIdle - rssBefore) / holder.opened : Number.NaN,
          p99RatioToNoIdle: Number.isNaN(keepAliveP99Ms) ? undefined : m.wrk.p99Us / 1000 / keepAliveP99Ms,
        }),
      );
    } finally {
      await holder?.close();
      await running.stop();
    }
  }
}
const memoryResults: MemoryResult[] = [];
/** The memory sequence (bench/memory-phase.ts) on a fresh server in EC2's Connection: close mode. */
async function measureServerMemory(round: number, name: ServerName): Promise<void> {
  const running = await startServer(name, 'close');
  try {
    const flow = async () => {
      await runWrk({ ...wrkBase, script: 'wrk-flow.lua', seconds: SETTINGS.warmSeconds });
      await runWrk({ ...wrkBase, script: 'wrk-flow.lua', seconds: SETTINGS.seconds });
    };
    const burst = async (count: number) => {
      const holder = await IdleHolder.open(instance, SERVICE_ADDRESS, count);
      await holder.close();
      return holder.opened;
    };
    memoryResults.push(
      await measureMemory(
        round,
        running,
        { flow, burst },
        { burstConnections: SETTINGS.idleConnections, recoveryMs: quick ? 5_000 : 60_000, settleMs: 2_000 },
      ),
    );
  } finally {
    await running.stop();
  }
}

// Rounds interleave the servers, so slow drift of a shared VM (steal) lands on all of them alike.
for (let round = 1; round <= SETTINGS.rounds; round++) {
  for (const name of servers) await measureServer(round, name);
  if (runs('memory')) for (const name of servers) await measureServerMemory(round, name);
}
routeClear();

const machine = {
  nproc: Number(runSync('nproc', []).trim()),
  cpuModel: /model name\s*:\s*(.*)/.exec(runSync('cat', ['/proc/cpuinfo']))?.[1] ?? 'unknown',
  node: process.version,
  kernel: runSync('uname', ['-r']).trim(),
};
const medians = medianRows(rows);
const targets = evaluateTargets(medians, rows);
const issue17Targets = cpuTargets(rows);
/** Each variant's figures against imds-hop's, how its line names them, and what the ratio reads as. */
const variants = [
  { key: 'attribution', label: 'attribution cost', ratio: 'with / without', variant: 'imds-hop:callers-off' },
  { key: 'lean heap', label: 'lean heap cost', ratio: 'with / without', variant: 'imds-hop:memory-fast' },
  { key: 'io_uring tap', label: 'io_uring tap cost', ratio: 'with / without', variant: 'imds-hop:tap-syscalls' },
  {
    key: 'this checkout',
    label: `this checkout / --baseline=${baselineRoot ?? ''}`,
    ratio: 'this / baseline',
    variant: 'imds-hop:baseline',
  },
] as const;
const variantCosts = Object.fromEntries(variants.map((v) => [v.key, variantCost(rows, v.variant)]));
printTable(medians, targets, machine, {
  quick,
  ...SETTINGS,
  pinned: PIN ? `server cpu ${PIN.server}, generator cpu ${PIN.generator}` : 'no',
  receiveSteering: steering ? 'each side on its own cpu' : 'off',
  imdsHop: `${fromSources ? 'sources via tsx' : 'dist'}${imdsHopNodeOptions ? ` ${imdsHopNodeOptions}` : ''}`,
});
const outDir = join(REPO_ROOT, 'artifacts', 'bench');
mkdirSync(outDir, { recursive: true });
const outArg = argv.find((a) => a.startsWith('--out='));
const outFile = outArg ? resolve(outArg.slice('--out='.length)) : join(outDir, 'results.json');
printTargets('issue 17, CPU', issue17Targets);
printMemory(memoryResults);
for (const { key, label, ratio } of variants) {
  for (const cost of variantCosts[key] ?? []) {
    const rounds = (values: number[]) => values.map((v) => `${v.toFixed(3)}x`).join(', ');
    console.log(
      `${label}, ${cost.workload}: req/s ${ratio} ${cost.medianRequestsPerSecond.toFixed(3)}x (rounds ${rounds(cost.requestsPerSecond)}), ` +
        `CPU per request ${cost.medianCpuPerRequest.toFixed(3)}x (rounds ${rounds(cost.cpuPerRequest)})`,
    );
  }
}
writeFileSync(
  outFile,
  `${JSON.stringify({ date: new Date().toISOString(), quick, settings: { ...SETTINGS, pinning: PIN ?? null, receiveSteering: steering }, machine, medians, rows, targets, issue17Targets, variantCosts, memory: memoryResults }, null, 2)}\n`,
);
console.log(`\nwrote ${outFile}`);
process.exit(0);

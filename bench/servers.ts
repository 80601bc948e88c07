// The three servers the bench drives with one generator: imds-hop on its tap in the instance namespace, and
// the kernel-stack baselines (the same engine on node:http; nginx with fixed bodies) in the server namespace.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Appliance, imdsHop } from '../test/support/appliance.ts';
import { inNamespace } from '../test/support/netns.ts';
import { childPids } from './proc-stats.ts';

export const SERVICE_ADDRESS = '169.254.169.254';
const BENCH_DIR = resolve(import.meta.dirname);
const REPO_ROOT = resolve(BENCH_DIR, '..');
/** File descriptors for 10,000 idle connections and then some: 65536, or the hard limit if that is lower. */
export const NOFILE = String(
  Math.min(65536, Number(execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim()) || 65536),
);

/**
 * imds-hop as it starts by default, and variants that show what one choice costs: attribution off (--callers off),
 * V8's default heap sizing instead of the lean one (--memory fast), a read/write per tap frame instead of io_uring
 * batches (--tap-io syscalls); and another checkout of imds-hop, as it starts by default (bench --baseline=DIR):
 * a change's before and after in the same rounds.
 */
export const IMDS_HOP_VARIANTS = {
  'imds-hop': [],
  'imds-hop:callers-off': ['--callers', 'off'],
  'imds-hop:memory-fast': ['--memory', 'fast'],
  'imds-hop:tap-syscalls': ['--tap-io', 'syscalls'],
  'imds-hop:baseline': [],
} as const satisfies Record<string, readonly string[]>;
export type ImdsHopVariant = keyof typeof IMDS_HOP_VARIANTS;
export type ServerName = ImdsHopVariant | 'node:http' | 'nginx';

export interface RunningServer {
  name: ServerName;
  /** Processes whose CPU time counts (nginx: master and worker). */
  cpuPids: number[];
  /** The process that holds the connections, whose memory is reported. */
  memoryPid: number;
  /** The instance namespace's device the server is reached through, when the server makes it (imds-hop's tap). */
  instanceDevice?: string;
  /** imds-hop: how its callers were named (method and counters) and its V8 heap, read before stopping. */
  details?: () => Promise<string[]>;
  stop(): Promise<void>;
}

/** Child processes this module started, and their own children (nginx's worker), killed on exit whatever happens. */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    // A worker outlives a SIGKILLed nginx master: kill the process's children first, by pid.
    for (const pid of child.pid ? childPids(child.pid) : []) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    child.kill('SIGKILL');
  }
});

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Waits until a GET through the client namespace succeeds: the server is up and the route points at it. */
async function waitServing(clientNamespace: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const result = await inNamespace(clientNamespace, 'curl', [
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-m',
      '1',
      `http://${SERVICE_ADDRESS}/latest/meta-data/instance-id`,
    ]);
    if (result.code === 0 && /^[1-5]\d\d$/.test(result.stdout)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no HTTP answer from ${SERVICE_ADDRESS} within ${timeoutMs} ms`);
}

/**
 * `connection` is imds-hop's --connection: EC2 (and imds-hop by default) closes after every response, so the
 * keep-alive workloads ask for keep-alive explicitly; the new-connection flow runs with EC2's default.
 */
export async function startImdsHop(
  instanceNamespace: string,
  connection: 'close' | 'keep-alive',
  profileDir?: string,
  variant: ImdsHopVariant = 'imds-hop',
  nodeOptions = '',
  /** The checkout imds-hop:baseline runs. */
  baselineRoot?: string,
): Promise<RunningServer> {
  if (variant === 'imds-hop:baseline' && !baselineRoot) throw new Error('imds-hop:baseline needs --baseline=DIR');
  const saved = process.env.NODE_OPTIONS;
  // Node/V8 flags for imds-hop alone (e.g. --max-semi-space-size=4): what a deployment's NODE_OPTIONS would set.
  if (nodeOptions) process.env.NODE_OPTIONS = `${saved ?? ''} ${nodeOptions}`.trim();
  if (profileDir) {
    mkdirSync(profileDir, { recursive: true });
    process.env.NODE_OPTIONS =
      `${process.env.NODE_OPTIONS ?? ''} --import=${join(BENCH_DIR, 'cpu-profile.mjs')}`.trim();
    process.env.IMDS_HOP_CPU_PROFILE_DIR = profileDir;
  }
  let appliance: Appliance;
  try {
    // --log-level after the appliance runner's "debug": one log line per request would measure pino, not the stack.
    appliance = await Appliance.start(
      instanceNamespace,
      ['--log-level', 'info', '--metrics-listen', 'off', '--connection', connection, ...IMDS_HOP_VARIANTS[variant]],
      undefined,
      variant === 'imds-hop:baseline' ? baselineRoot : undefined,
    );
  } finally {
    delete process.env.IMDS_HOP_CPU_PROFILE_DIR;
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  }
  const child = (appliance as unknown as { child: ChildProcess }).child;
  const pid = child.pid as number;
  await waitServing(instanceNamespace);
  return {
    name: variant,
    cpuPids: [pid],
    memoryPid: pid,
    instanceDevice: appliance.interfaceName,
    details: async () => {
      const control = async (command: string) =>
        JSON.parse((await imdsHop([command, '--json', '--interface', appliance.interfaceName])).stdout) as Record<
          string,
          unknown
        >;
      const lines: string[] = [];
      if (variant !== 'imds-hop:callers-off') {
        const snapshot = (await control('callers')) as { method?: unknown; counters?: Record<string, number> };
        const counters = snapshot.counters ?? {};
        const pick = [
          'hook-owners-by-tuple',
          'hook-owners-from-slots',
          'hook-owners',
          'hook-misses',
          'fd-searches',
          'process-reads',
          'attributions-unresolved',
        ];
        lines.push(
          `callers named by ${JSON.stringify(snapshot.method)} ${pick.map((key) => `${key}=${counters[key] ?? '?'}`).join(' ')}`,
        );
      }
      const memory = (await control('status')).memory as {
        heapUsedBytes: number;
        externalBytes: number;
        heapSpaces: Record<string, { sizeBytes: number; usedBytes: number }>;
      };
      const mib = (bytes: number) => (bytes / 1_048_576).toFixed(1);
      const spaces = Object.entries(memory.heapSpaces)
        .filter(([, space]) => space.sizeBytes >= 262_144)
        .map(([name, space]) => `${name} ${mib(space.usedBytes)}/${mib(space.sizeBytes)}`);
      lines.push(
        `memory after the run (MiB used/committed): ${spaces.join(', ')}; buffers ${mib(memory.externalBytes)}`,
      );
      return lines;
    },
    stop: async () => {
      await appliance.stop();
    },
  };
}

export async function startNodeHttp(serverNamespace: string, clientNamespace: string): Promise<RunningServer> {
  const child = track(
    spawn(
      'ip',
      [
        'netns',
        'exec',
        serverNamespace,
        'prlimit',
        `--nofile=${NOFILE}:${NOFILE}`,
        process.execPath,
        '--import',
        'tsx',
        join(BENCH_DIR, 'node-http-server.ts'),
        SERVICE_ADDRESS,
        '80',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], cwd: REPO_ROOT },
    ),
  );
  child.stdout?.setEncoding('utf8');
  await new Promise<void>((resolvePromise, reject) => {
    let seen = '';
    child.stdout?.on('data', (text: string) => {
      seen += text;
      if (seen.includes('listening')) resolvePromise();
    });
    child.once('exit', (code) => reject(new Error(`node:http baseline exited with ${code} before listening`)));
  });
  await waitServing(clientNamespace);
  const pid = child.pid as number; // ip netns exec and prlimit exec in place: this is node itself
  return { name: 'node:http', cpuPids: [pid], memoryPid: pid, stop: () => stopChild(child) };
}

/** A 56-character body shaped like an IMDSv2 token, so every server sends the same number of bytes. */
const FIXED_TOKEN = 'AQAEAFakeTokenFakeTokenFakeTokenFakeTokenFakeTokenFake==';
const FIXED_INSTANCE_ID = 'i-0123456789abcdef0';

export async function startNginx(
  serverNamespace: string,
  clientNamespace: string,
  tempDir: string,
): Promise<RunningServer> {
  const dir = join(tempDir, 'nginx');
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `# Generated by bench/servers.ts: fixed bodies for the paths the bench requests.
worker_processes 1;
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_rlimit_nofile ${NOFILE};
events { worker_connections ${NOFILE}; }
http {
  access_log off;
  server_tokens off;
  default_type text/plain;
  keepalive_timeout 120s;
  keepalive_requests 100000000;
  client_header_timeout 120s;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen ${SERVICE_ADDRESS}:80 backlog=4096;
    location = /latest/api/token { return 200 "${FIXED_TOKEN}"; }
    location = /latest/meta-data/instance-id { return 200 "${FIXED_INSTANCE_ID}"; }
    location / { return 404; }
  }
}
`,
  );
  const child = track(
    spawn(
      'ip',
      ['netns', 'exec', serverNamespace, 'prlimit', `--nofile=${NOFILE}:${NOFILE}`, 'nginx', '-p', dir, '-c', conf],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    ),
  );
  const exitedEarly = once(child, 'exit').then(([code]) => {
    throw new Error(`nginx exited with ${code}`);
  });
  await Promise.race([waitServing(clientNamespace), exitedEarly]);
  exitedEarly.catch(() => undefined);
  const master = child.pid as number;
  const worker = childPids(master)[0] ?? master;
  return {
    name: 'nginx',
    cpuPids: [master, ...(worker !== master ? [worker] : [])],
    memoryPid: worker,
    stop: () => stopChild(child, 'SIGQUIT'),
  };
}

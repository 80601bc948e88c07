// Network-namespace fixtures for integration tests: every namespace, veth and appliance a test creates is
// registered here and removed when the test file ends — by the `after` hook, by a process exit handler if the
// runner dies, and by a sweep of leftovers from earlier runs whose process is gone.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCommand, type CommandResult } from '../../src/lab/run-command.ts';


export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const SERVICE_ADDRESS = '169.254.169.254';

/** Integration tests need CAP_NET_ADMIN; as another user they are skipped with this reason. */
export const skipUnlessRoot = process.getuid?.() === 0 ? false : 'needs root (network namespaces and a tap)';

const NAME_PREFIX = `ih${process.pid}`;
let nameCounter = 0;
/** Short unique names (interface names are limited to 15 bytes) that carry our pid, for the stale sweep. */
export function uniqueName(role: string): string {
  nameCounter += 1;
  return `${NAME_PREFIX}${role}${nameCounter}`.slice(0, 15);
}

export function runSync(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export type { CommandResult } from '../../src/lab/run-command.ts';

export function run(command: string, args: string[], timeoutMs = 60_000): Promise<CommandResult> {
  return runCommand(command, args, { timeoutMs });
}

export function inNamespace(namespace: string, command: string, args: string[], timeoutMs?: number) {
  return run('ip', ['netns', 'exec', namespace, command, ...args], timeoutMs);
}

const cleanups: Array<() => void> = [];
let exitHookInstalled = false;

function registerCleanup(cleanup: () => void): void {
  cleanups.push(cleanup);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', cleanupAll);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        cleanupAll();
        process.exit(130);
      });
    }
  }
}

/** Undoes everything registered, newest first; each step is independent so one failure does not stop the rest. */
export function cleanupAll(): void {
  while (cleanups.length > 0) {
    const cleanup = cleanups.pop() as () => void;
    try {
      cleanup();
    } catch {
      // already gone
    }
  }
}

/** Removes namespaces left by earlier test processes that died before their cleanup could run. */
export function sweepStaleNamespaces(): void {
  for (const namespace of listNamespaces()) {
    const match = /^ih(\d+)/.exec(namespace);
    if (!match || Number(match[1]) === process.pid) continue;
    if (processAlive(Number(match[1]))) continue;
    try {
      runSync('ip', ['netns', 'delete', namespace]);
    } catch {
      // raced with its owner
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function listNamespaces(): string[] {
  return runSync('ip', ['netns', 'list'])
    .split('\n')
    .map((line) => line.split(' ')[0])
    .filter((name): name is string => Boolean(name));
}

/** A namespace of ours with loopback up; deleting it removes every interface inside it. */
export function createNamespace(role: string): string {
  const namespace = uniqueName(role);
  runSync('ip', ['netns', 'add', namespace]);
  registerCleanup(() => runSync('ip', ['netns', 'delete', namespace]));
  runSync('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
  return namespace;
}

export interface VethEnd {
  namespace: string;
  device: string;
  address: string;
}

/** A veth pair between two namespaces, each end addressed /24 and up. */
export function connectNamespaces(a: VethEnd, b: VethEnd): void {
  runSync('ip', ['link', 'add', a.device, 'netns', a.namespace, 'type', 'veth', 'peer', 'name', b.device, 'netns', b.namespace]);
  for (const end of [a, b]) {
    // No IPv6 chatter on test links: the captures should hold only what the test sends.
    runSync('ip', ['netns', 'exec', end.namespace, 'sysctl', '-qw', `net.ipv6.conf.${end.device}.disable_ipv6=1`]);
    runSync('ip', ['-n', end.namespace, 'address', 'add', `${end.address}/24`, 'dev', end.device]);
    runSync('ip', ['-n', end.namespace, 'link', 'set', end.device, 'up']);
  }
}

export function temporaryDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'imds-hop-test-'));
  registerCleanup(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/** Where integration tests leave captures for people (and CI) to inspect: artifacts/integration/. */
export const ARTIFACTS_DIR = join(REPO_ROOT, 'artifacts', 'integration');

export function keepArtifact(file: string, name: string): void {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  copyFileSync(file, join(ARTIFACTS_DIR, name));
}

export interface LogRecord {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** An `imds-hop serve` process running in a namespace, with its JSON log lines collected. */
export class Appliance {
  readonly records: LogRecord[] = [];
  readonly stderrLines: string[] = [];
  private readonly waiters: Array<{ predicate: (r: LogRecord) => boolean; resolve: (r: LogRecord) => void }> = [];
  private exited: Promise<number | null>;
  private stdoutRest = '';

  private constructor(
    readonly namespace: string,
    readonly interfaceName: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (text: string) => this.consume(text));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => this.stderrLines.push(...text.split('\n').filter(Boolean)));
    this.exited = once(child, 'exit').then(([code]) => code as number | null);
  }

  /** Starts `imds-hop serve` in the namespace; on a tap of its own unless an existing interface is given. */
  static async start(namespace: string, extraArgs: string[] = [], existingInterface?: string): Promise<Appliance> {
    const interfaceName = existingInterface ?? uniqueName('tap');
    const child = spawn(
      'ip',
      ['netns', 'exec', namespace, process.execPath, join(REPO_ROOT, 'bin/imds-hop.mjs'), 'serve', '--interface', interfaceName, '--log-level', 'debug', ...extraArgs],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const appliance = new Appliance(namespace, interfaceName, child);
    registerCleanup(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      // A killed appliance cannot remove its control socket; the next one would, but leave nothing behind.
      rmSync(`/run/imds-hop/${interfaceName}.sock`, { force: true });
    });
    const serving = appliance.waitFor((r) => r.msg === 'serving', 20_000);
    const outcome = await Promise.race([serving, appliance.exited.then((code) => ({ exitedWith: code }))]);
    if ('exitedWith' in outcome) {
      throw new Error(`imds-hop exited with ${outcome.exitedWith} before serving: ${appliance.stderrLines.join('\n')}`);
    }
    return appliance;
  }

  private consume(text: string): void {
    const lines = (this.stdoutRest + text).split('\n');
    this.stdoutRest = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      let record: LogRecord;
      try {
        record = JSON.parse(line) as LogRecord;
      } catch {
        this.stderrLines.push(`(non-JSON stdout) ${line}`);
        continue;
      }
      this.records.push(record);
      for (let i = this.waiters.length - 1; i >= 0; i -= 1) {
        const waiter = this.waiters[i];
        if (waiter && waiter.predicate(record)) {
          this.waiters.splice(i, 1);
          waiter.resolve(record);
        }
      }
    }
  }

  /** Resolves with the first log record (already seen or future) that matches. */
  waitFor(predicate: (r: LogRecord) => boolean, timeoutMs = 10_000, since = 0): Promise<LogRecord> {
    const seen = this.records.slice(since).find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new Error(`no matching log record within ${timeoutMs} ms; stderr: ${this.stderrLines.join('\n')}`));
      }, timeoutMs);
      const waiter = {
        predicate,
        resolve: (record: LogRecord) => {
          clearTimeout(timer);
          resolvePromise(record);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Asks the running appliance for its counters (SIGUSR2 → a "counters" log record). */
  async counters(): Promise<Record<string, number>> {
    const since = this.records.length;
    this.child.kill('SIGUSR2');
    const record = await this.waitFor((r) => r.msg === 'counters', 10_000, since);
    return record.counters as Record<string, number>;
  }

  /** SIGTERM and wait for a clean exit; returns the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** Runs the imds-hop command itself (e.g. `options`, `events`), as an operator would from the host. */
export function imdsHop(args: string[], timeoutMs = 30_000): Promise<CommandResult> {
  return run(process.execPath, [join(REPO_ROOT, 'bin/imds-hop.mjs'), ...args], timeoutMs);
}

/** Sum of counters whose name starts with the prefix. */
export function sumCounters(counters: Record<string, number>, prefix: string): number {
  return Object.entries(counters)
    .filter(([name]) => name.startsWith(prefix))
    .reduce((total, [, value]) => total + value, 0);
}

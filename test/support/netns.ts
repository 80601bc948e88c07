// The network-namespace toolkit shared by the integration tests and the benchmark: namespaces, veth pairs and
// temporary directories that are removed when the process ends — by cleanupAll (an `after` hook), by an exit
// handler if the runner dies, and by a sweep of leftovers from earlier runs whose process is gone. Names carry
// the pid, so parallel runs from other worktrees never collide.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCommand, type CommandResult } from '../../src/lab/run-command.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

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

export function registerCleanup(cleanup: () => void): void {
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
  runSync('ip', [
    'link',
    'add',
    a.device,
    'netns',
    a.namespace,
    'type',
    'veth',
    'peer',
    'name',
    b.device,
    'netns',
    b.namespace,
  ]);
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

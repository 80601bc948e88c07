// An `imds-hop serve` process in a namespace with its JSON log lines collected, and the `imds-hop` command run
// as an operator would: for the integration tests and the benchmark alike. Both are cleaned up with the namespaces.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, registerCleanup, run, uniqueName, type CommandResult } from './netns.ts';

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

  /**
   * Starts `imds-hop serve` in the namespace; on a tap of its own unless an existing interface is given; from this
   * checkout unless `root` names another (the bench's --baseline).
   */
  static async start(
    namespace: string,
    extraArgs: string[] = [],
    existingInterface?: string,
    root = REPO_ROOT,
  ): Promise<Appliance> {
    const interfaceName = existingInterface ?? uniqueName('tap');
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        namespace,
        process.execPath,
        join(root, 'bin/imds-hop.mjs'),
        'serve',
        '--interface',
        interfaceName,
        '--log-level',
        'debug',
        ...extraArgs,
      ],
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

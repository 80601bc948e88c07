// Drives bench/idle-holder.ts in the client namespace: N idle connections opened, held, counted, released.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { NOFILE, track } from './servers.ts';

const BENCH_DIR = resolve(import.meta.dirname);

export class IdleHolder {
  private constructor(
    private readonly child: ChildProcess,
    readonly opened: number,
    readonly failed: number,
    private readonly lines: string[],
  ) {}

  static async open(namespace: string, host: string, count: number): Promise<IdleHolder> {
    const child = track(
      spawn(
        'ip',
        [
          'netns',
          'exec',
          namespace,
          'prlimit',
          `--nofile=${NOFILE}:${NOFILE}`,
          process.execPath,
          '--import',
          'tsx',
          join(BENCH_DIR, 'idle-holder.ts'),
          host,
          '80',
          String(count),
        ],
        {
          stdio: ['pipe', 'pipe', 'inherit'],
          cwd: resolve(BENCH_DIR, '..'),
        },
      ),
    );
    child.stdout?.setEncoding('utf8');
    const lines: string[] = [];
    let rest = '';
    child.stdout?.on('data', (text: string) => {
      const parts = (rest + text).split('\n');
      rest = parts.pop() ?? '';
      lines.push(...parts);
    });
    const deadline = Date.now() + 120_000;
    for (;;) {
      const ready = lines.find((l) => l.startsWith('ready '));
      if (ready) {
        const [, opened, failed] = ready.split(' ');
        return new IdleHolder(child, Number(opened), Number(failed), lines);
      }
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error('idle holder did not open its connections');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** How many held connections the server has closed so far (should be 0: idle timeouts exceed the run). */
  async closedByServer(): Promise<number> {
    const before = this.lines.length;
    this.child.stdin?.write('status\n');
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const line = this.lines.slice(before).find((l) => l.startsWith('closed '));
      if (line) return Number(line.split(' ')[1]);
      await new Promise((r) => setTimeout(r, 50));
    }
    return Number.NaN;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

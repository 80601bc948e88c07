// Runs wrk inside the client namespace with one of the bench's Lua scripts and reads its WRKJSON line.
import { join, resolve } from 'node:path';
import { inNamespace } from '../test/support/netns.ts';

const BENCH_DIR = resolve(import.meta.dirname);

export interface WrkResult {
  requests: number;
  durationUs: number;
  /** Successful GET instance-id responses (one per completed flow in the flow workload). */
  gets: number;
  puts: number;
  badStatus: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

export interface WrkRun {
  namespace: string;
  url: string;
  script: string;
  seconds: number;
  threads: number;
  connections: number;
  args?: string[];
  /** CPU to run wrk on (taskset), so the generator and the server do not fight for one core. */
  cpu?: number;
}

export async function runWrk(run: WrkRun): Promise<WrkResult> {
  const wrkArgs = [
    '-t',
    String(run.threads),
    '-c',
    String(run.connections),
    '-d',
    `${run.seconds}s`,
    '--timeout',
    '5s',
    '-s',
    join(BENCH_DIR, run.script),
    run.url,
    ...(run.args?.length ? ['--', ...run.args] : []),
  ];
  const result =
    run.cpu === undefined
      ? await inNamespace(run.namespace, 'wrk', wrkArgs, (run.seconds + 60) * 1000)
      : await inNamespace(
          run.namespace,
          'taskset',
          ['-c', String(run.cpu), 'wrk', ...wrkArgs],
          (run.seconds + 60) * 1000,
        );
  const line = result.stdout.split('\n').find((l) => l.startsWith('WRKJSON '));
  if (!line) throw new Error(`wrk gave no result (exit ${result.code}): ${result.stdout}\n${result.stderr}`);
  return JSON.parse(line.slice('WRKJSON '.length)) as WrkResult;
}

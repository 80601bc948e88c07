// Captures the lab takes while a scenario runs: `imds-hop capture` inside a lab namespace, stopped by SIGTERM.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { CLI } from './topology.ts';

export interface RunningCapture {
  readonly file: string;
  stop(): Promise<void>;
}

/** Starts `imds-hop capture` on a device in a namespace and resolves once libpcap has the interface open. */
export async function startLabCapture(namespace: string, device: string, file: string): Promise<RunningCapture> {
  const child = spawn(
    'ip',
    ['netns', 'exec', namespace, process.execPath, CLI, 'capture', '--interface', device, '--out', file],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8');
  const exited = once(child, 'exit');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`capture on ${namespace}/${device} did not start: ${stderr}`)),
      20_000,
    );
    child.stderr.on('data', (text: string) => {
      stderr += text;
      if (stderr.includes('capturing on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`capture on ${namespace}/${device} exited (${code}): ${stderr}`));
    });
  });
  return {
    file,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

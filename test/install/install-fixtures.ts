// Shared by the install tests: the project's test cache, commands with a deadline, the headers of this Node.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../integration/harness.ts';

/** Downloads and builds kept between runs, keyed by what they were made from (scripts/fresh-host.sh too). */
export const TEST_CACHE = process.env.IMDS_HOP_TEST_CACHE ?? '/var/cache/imds-hop-test';

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (killed, with its process group, at the deadline); output collected. */
export function runToEnd(
  command: string,
  args: string[],
  options: { timeoutMs: number; env?: NodeJS.ProcessEnv; cwd?: string },
): Promise<Finished> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? REPO_ROOT,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${options.timeoutMs} ms)`;
      try {
        process.kill(-(child.pid as number), 'SIGTERM');
      } catch {
        // already gone
      }
    }, options.timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The prefix holding this Node's headers (include/node), as the install finds it. */
export function nodedirOfThisNode(): string {
  return execFileSync(process.execPath, [join(REPO_ROOT, 'scripts/build-native.mjs'), '--print-nodedir'], {
    encoding: 'utf8',
  }).trim();
}

/** Node.js VERSION from the npm registry's `node` package, installed once into the test cache. */
export async function nodeFromRegistry(version: string): Promise<string> {
  const prefix = join(TEST_CACHE, `node-${version}`);
  const binary = join(prefix, 'bin/node');
  if (!existsSync(binary)) {
    mkdirSync(TEST_CACHE, { recursive: true });
    const npmCli = join(process.execPath, '../../lib/node_modules/npm/bin/npm-cli.js');
    const npm = existsSync(npmCli) ? [process.execPath, npmCli] : ['npm'];
    const result = await runToEnd(
      npm[0] as string,
      [
        ...npm.slice(1),
        'install',
        '--global',
        '--prefix',
        `${prefix}.partial`,
        '--no-audit',
        '--no-fund',
        `node@${version}`,
      ],
      { timeoutMs: 300_000 },
    );
    if (result.code !== 0) throw new Error(`installing node@${version} failed: ${result.stderr}`);
    execFileSync('mv', ['-T', `${prefix}.partial`, prefix]);
  }
  return binary;
}

// The lab's fixed names and addresses (mirroring scripts/lab/lab-env.sh) and its lifecycle: up and down run the
// same shell steps the Vagrant provisioning runs.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OperatorError } from '../errors/operator-error.ts';
import { runCommand, type CommandResult } from './run-command.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const LAB_SCRIPTS = join(REPO_ROOT, 'scripts/lab');
export const CLI = join(REPO_ROOT, 'bin/imds-hop.mjs');
/** Where the demo leaves its table and pcaps; IMDS_HOP_LAB_ARTIFACTS redirects it (tests that must not clobber it). */
export const ARTIFACTS_DIR = process.env.IMDS_HOP_LAB_ARTIFACTS ?? join(REPO_ROOT, 'artifacts/lab');
export const RUN_DIR = '/run/ihlab';
export const APPLIANCE_LOG = join(RUN_DIR, 'appliance.log');

export const LAB = {
  instance: 'ihlab-instance',
  attacker: 'ihlab-attacker',
  container: 'ihlab-container',
  tap: 'ihlab0',
  instanceAddress: '198.18.0.1',
  attackerAddress: '198.18.0.2',
  containerAddress: '198.18.1.2',
  /** Interfaces to capture: the tap (the appliance's wire), the attacker's and the container's link ends. */
  attackerDevice: 'att0',
  containerDevice: 'ctr0',
  proxyPort: 8080,
  wafPort: 8081,
  ssrfPort: 8082,
  serviceAddress: '169.254.169.254',
  role: 'imds-hop-instance-role',
} as const;

export function isLabUp(): boolean {
  return existsSync(`/run/netns/${LAB.instance}`);
}

/** Runs a command with the lab's environment (the scripts start Node services with this Node). */
export function run(command: string, args: string[], timeoutMs = 60_000): Promise<CommandResult> {
  return runCommand(command, args, { timeoutMs, env: { ...process.env, IHLAB_NODE: process.execPath } });
}

/** Runs a lab script with its output passed through to ours (operators see each step). */
function runScript(name: string, args: string[]): Promise<number> {
  return new Promise((resolvePromise) => {
    const child = spawn('bash', [join(LAB_SCRIPTS, name), ...args], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, IHLAB_NODE: process.execPath },
    });
    child.once('exit', (code) => resolvePromise(code ?? 1));
  });
}

export class LabError extends OperatorError {}

export async function labUp(hopLimit = 1, httpTokens: 'optional' | 'required' = 'optional'): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new LabError('NOT_PERMITTED', 'the lab needs root (network namespaces and a tap)');
  if (isLabUp())
    throw new LabError('LAB_UP', `the lab is already up (namespace ${LAB.instance}); run "imds-hop lab down" first`);
  const code = await runScript('netns-up.sh', [String(hopLimit), httpTokens]);
  if (code !== 0)
    throw new LabError('LAB_UP_FAILED', `scripts/lab/netns-up.sh failed (exit ${code}); the lab was torn down`);
}

export async function labDown(): Promise<void> {
  await runScript('netns-down.sh', []);
}

/** The synchronous teardown for exit paths (Ctrl-C, a crash) where nothing asynchronous runs any more. */
export function labDownSync(): void {
  spawnSync('bash', [join(LAB_SCRIPTS, 'netns-down.sh')], { stdio: 'inherit' });
}

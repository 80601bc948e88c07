// Ctrl-C in the middle of `imds-hop lab demo` removes everything the lab built: processes, namespaces, links,
// the control socket and /run/ihlab.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CLI, LAB, LAB_SCRIPTS, RUN_DIR } from '../../src/lab/topology.ts';

const skipUnlessRoot = process.getuid?.() === 0 ? false : 'needs root (network namespaces and a tap)';

function labDown(): void {
  spawnSync('bash', [join(LAB_SCRIPTS, 'netns-down.sh')], { stdio: 'ignore' });
}

after(labDown);

test('SIGINT during the demo tears the lab down', { skip: skipUnlessRoot, timeout: 90_000 }, async () => {
  labDown();
  // Its own artifacts folder: the interrupted demo must not replace the complete run's table and pcaps.
  const artifacts = mkdtempSync(join(tmpdir(), 'imds-hop-lab-'));
  after(() => rmSync(artifacts, { recursive: true, force: true }));
  const child = spawn(process.execPath, [CLI, 'lab', 'demo'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, IMDS_HOP_LAB_ARTIFACTS: artifacts },
  });
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  const exited = once(child, 'exit');
  // Interrupt once the first scenario is under way: the appliance, captures and curl are all running then.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo never started a scenario: ${output}`)), 60_000);
    const watch = (text: string): void => {
      output += text;
      if (output.includes('1 router/NAT: attacker v1 GET')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', watch);
    child.stderr.on('data', watch);
  });
  assert.ok(existsSync(`/run/netns/${LAB.instance}`), 'the lab was up');
  child.kill('SIGINT');
  const [code] = await exited;
  assert.equal(code, 130, output);
  for (const namespace of [LAB.instance, LAB.attacker, LAB.container]) {
    assert.ok(!existsSync(`/run/netns/${namespace}`), `${namespace} left behind`);
  }
  assert.ok(!existsSync(RUN_DIR), `${RUN_DIR} left behind`);
  assert.ok(!existsSync(`/run/imds-hop/${LAB.tap}.sock`), 'control socket left behind');
  assert.match(output, /interrupted, tearing the lab down/);
});

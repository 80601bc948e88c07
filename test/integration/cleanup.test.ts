// Cleanup is part of the contract: a test that fails, or a test run that is interrupted, leaves no namespace,
// veth, tap or appliance process behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT, listNamespaces, run, skipUnlessRoot } from './harness.ts';

const FIXTURE = join(REPO_ROOT, 'test/integration/fixtures/fails-midway.ts');

interface FixtureReport {
  namespaces: string[];
  tap: string;
}

async function runFixture(mode: 'fail' | 'hang'): Promise<{ code: number | null; report: FixtureReport }> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    cwd: REPO_ROOT,
    env: { ...process.env, IH_FIXTURE_MODE: mode },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let report: FixtureReport | undefined;
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  const onText = (text: string) => {
    output += text;
    const match = /FIXTURE (\{.*\})/.exec(output);
    if (match && !report) {
      report = JSON.parse(match[1] as string) as FixtureReport;
      // Run in-process (no --test runner child), so the signal reaches the harness's handler as it would a user's run.
      // While the fixture hangs with everything up, interrupt it the way a user or a CI timeout would.
      if (mode === 'hang') setTimeout(() => child.kill('SIGTERM'), 200);
    }
  };
  child.stdout.on('data', onText);
  child.stderr.on('data', onText);
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code] = await once(child, 'exit');
  clearTimeout(killer);
  assert.ok(report, `the fixture never reported its topology:\n${output}`);
  return { code: code as number | null, report };
}

async function assertNothingLeft(report: FixtureReport): Promise<void> {
  const namespaces = listNamespaces();
  for (const namespace of report.namespaces)
    assert.ok(!namespaces.includes(namespace), `namespace ${namespace} left behind`);
  const processes = await run('pgrep', ['-f', `interface ${report.tap}`]);
  assert.equal(processes.stdout.trim(), '', `appliance for ${report.tap} still running`);
}

describe('nothing is left behind', { skip: skipUnlessRoot }, () => {
  test('after a failing test', async () => {
    const { code, report } = await runFixture('fail');
    assert.notEqual(code, 0, 'the fixture was meant to fail');
    await assertNothingLeft(report);
  });

  test('after the test run is interrupted with SIGTERM', async () => {
    const { report } = await runFixture('hang');
    await assertNothingLeft(report);
  });
});

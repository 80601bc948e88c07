// What can be validated of the Vagrant lab without VMs: shellcheck on every provisioning and lab script, and
// `vagrant validate` on the Vagrantfile (provider blocks ignored: the libvirt plugin and the boxes are not here).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { REPO_ROOT } from '../../src/lab/topology.ts';

const execFileAsync = promisify(execFile);

async function available(command: string): Promise<boolean> {
  try {
    await execFileAsync('sh', ['-c', `command -v ${command}`]);
    return true;
  } catch {
    return false;
  }
}

test('shellcheck passes on scripts/lab, scripts/vagrant and vagrant', async (t) => {
  if (!(await available('shellcheck'))) return t.skip('shellcheck not installed');
  const scripts = [
    ...readdirSync(join(REPO_ROOT, 'scripts/lab'))
      .filter((f) => f.endsWith('.sh'))
      .map((f) => join('scripts/lab', f)),
    ...readdirSync(join(REPO_ROOT, 'vagrant'))
      .filter((f) => f.endsWith('.sh'))
      .map((f) => join('vagrant', f)),
    ...readdirSync(join(REPO_ROOT, 'scripts/vagrant'))
      .filter((f) => f.endsWith('.sh'))
      .map((f) => join('scripts/vagrant', f)),
  ];
  assert.ok(scripts.length >= 14, `found only ${scripts.join(' ')}`);
  const result = await execFileAsync('shellcheck', scripts, { cwd: REPO_ROOT, encoding: 'utf8' }).catch(
    (e: { stdout: string }) => e,
  );
  assert.equal('code' in result ? result.code : 0, 0, result.stdout);
});

test('vagrant validate accepts the Vagrantfile', { timeout: 120_000 }, async (t) => {
  if (!(await available('vagrant'))) return t.skip('vagrant not installed');
  const cwd = join(REPO_ROOT, 'vagrant');
  try {
    const { stdout } = await execFileAsync('vagrant', ['validate', '--ignore-provider'], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, VAGRANT_DEFAULT_PROVIDER: 'virtualbox', VAGRANT_CHECKPOINT_DISABLE: '1' },
      timeout: 110_000,
    });
    assert.match(stdout, /Vagrantfile validated successfully/);
  } finally {
    rmSync(join(cwd, '.vagrant'), { recursive: true, force: true });
  }
});

test('the Vagrantfile names both providers, the public Debian 12 box and the offline one', async () => {
  const { readFileSync } = await import('node:fs');
  const vagrantfile = readFileSync(join(REPO_ROOT, 'vagrant/Vagrantfile'), 'utf8');
  assert.match(vagrantfile, /BOX_NAME = "debian\/bookworm64"/);
  assert.match(vagrantfile, /IMDS_HOP_BOX", ""\) == "local"/);
  assert.match(vagrantfile, /provider "virtualbox"/);
  assert.match(vagrantfile, /provider "libvirt"/);
  assert.match(vagrantfile, /scripts\/lab|provision-instance\.sh/);
});

// install.sh's two package sets: the default one is lean (no benchmark, lint, VM or capture-analysis tools) and
// carries what a minimal Debian lacks for the appliance (netbase for /etc/services, CA certificates); --test adds
// the test tools. Read from the script itself, the way bash sees the arrays.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../integration/harness.ts';

function packageArray(name: string): string[] {
  const lines = `/^${name}=(.*)$/p; /^${name}=([^)]*$/,/^)/p`; // a one-line array, or one over several lines
  const script = `source <(sed -n '${lines}' "$1"); printf '%s\\n' "\${${name}[@]}"`;
  return execFileSync('bash', ['-c', script, 'bash', join(REPO_ROOT, 'scripts/install.sh')], { encoding: 'utf8' })
    .trim()
    .split('\n');
}

test('the default install is lean: no test-only tools', () => {
  const runtime = packageArray('runtime_packages');
  for (const needed of [
    'netbase',
    'ca-certificates',
    'iproute2',
    'nftables',
    'libpcap-dev',
    'make',
    'g++',
    'python3',
    'nginx',
  ]) {
    assert.ok(runtime.includes(needed), needed);
  }
  for (const testOnly of [
    'wrk',
    'vagrant',
    'shellcheck',
    'tshark',
    'python3-botocore',
    'awscli',
    'cloud-init',
    'mmdebstrap',
    'nodejs',
    'npm',
  ]) {
    assert.ok(!runtime.includes(testOnly), testOnly);
  }
});

test('--test adds the test tools, and nothing twice', () => {
  const runtime = packageArray('runtime_packages');
  const testOnly = packageArray('test_packages');
  for (const needed of ['wrk', 'vagrant', 'shellcheck', 'tshark', 'python3-botocore', 'mmdebstrap', 'git']) {
    assert.ok(testOnly.includes(needed), needed);
  }
  assert.deepEqual(
    testOnly.filter((name) => runtime.includes(name)),
    [],
  );
  assert.equal(new Set(testOnly).size, testOnly.length);
});

test('nginx is installed but never left running (the fresh-host test checks it on a real install)', () => {
  assert.deepEqual(packageArray('never_started_services'), ['nginx']);
});

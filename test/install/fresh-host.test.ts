// The README's first command on a fresh, minimal Debian 12 (scripts/fresh-host.sh): it installs, serves, and curl
// inside the root's own network namespace gets 200 from 169.254.169.254. Nothing is left behind.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT, listNamespaces, skipUnlessRoot, uniqueName } from '../integration/harness.ts';
import { TEST_CACHE, runToEnd } from './install-fixtures.ts';

const hasMmdebstrap = existsSync('/usr/bin/mmdebstrap');
const skip =
  skipUnlessRoot || (hasMmdebstrap ? false : 'needs mmdebstrap (bash scripts/install.sh --test installs it)');
const suite = process.env.IMDS_HOP_FRESH_SUITE ?? 'bookworm';
const TIMEOUT_SECONDS = 1800;

test(
  `a fresh Debian ${suite}: the README's first command serves 169.254.169.254`,
  { skip, timeout: (TIMEOUT_SECONDS + 120) * 1000 },
  async () => {
    const name = uniqueName('fh');
    const result = await runToEnd(
      'bash',
      [
        join(REPO_ROOT, 'scripts/fresh-host.sh'),
        '--suite',
        suite,
        '--name',
        name,
        '--timeout',
        String(TIMEOUT_SECONDS),
      ],
      {
        timeoutMs: (TIMEOUT_SECONDS + 60) * 1000,
      },
    );
    process.stdout.write(
      result.stdout
        .split('\n')
        .filter((line) => line.startsWith('fresh-host:'))
        .map((line) => `# ${line}\n`)
        .join(''),
    );
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(
      result.stdout,
      /fresh-host: curl http:\/\/169\.254\.169\.254\/latest\/meta-data\/instance-id -> 200 i-[0-9a-f]+/,
    );
    assert.match(
      result.stdout,
      new RegExp(`fresh-host: ok suite=${suite} seconds=\\d+ packages-added=\\d+ mb-added=-?\\d+`),
    );
    // Its namespace, veth, nft table and unpacked root are gone.
    assert.ok(!listNamespaces().includes(name));
    assert.ok(!execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' }).includes(`${name}h`));
    assert.ok(!execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }).includes(`imds_hop_${name}`));
    assert.ok(!readdirSync(TEST_CACHE).includes(`run-${name}`));
  },
);

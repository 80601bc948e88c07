// Installed like a real tool: `npm pack` gives a package that `npm install --global` turns into a working
// `imds-hop` (native addon built at install against this Node's headers, nothing downloaded but packages) that runs
// the compiled dist/, no TypeScript and no loader, and serves curl in a namespace of the test's own.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  cleanupAll,
  createNamespace,
  inNamespace,
  skipUnlessRoot,
  sweepStaleNamespaces,
  uniqueName,
} from '../integration/harness.ts';
import { nodedirOfThisNode, runToEnd } from './install-fixtures.ts';

describe('npm pack + npm install --global', { skip: skipUnlessRoot }, () => {
  const scratch = mkdtempSync(join(tmpdir(), 'imds-hop-pack-'));
  const prefix = join(scratch, 'prefix');
  let installedBin = '';

  before(async () => {
    sweepStaleNamespaces();
    const packed = await runToEnd('npm', ['pack', '--silent', '--pack-destination', scratch], { timeoutMs: 300_000 });
    assert.equal(packed.code, 0, packed.stderr);
    const tarball = readdirSync(scratch).find((name) => /^imds-hop-.*\.tgz$/.test(name));
    assert.ok(tarball, packed.stdout);
    // As a fresh host would: no user npmrc (this machine's sets nodedir), the headers of the running Node only.
    const env = { ...process.env, npm_config_userconfig: '/dev/null', npm_config_nodedir: nodedirOfThisNode() };
    const installed = await runToEnd(
      'npm',
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        '--no-audit',
        '--no-fund',
        '--allow-scripts=imds-hop,cap,raw-socket',
        join(scratch, tarball),
      ],
      { timeoutMs: 600_000, env },
    );
    assert.equal(installed.code, 0, installed.stderr);
    installedBin = join(prefix, 'bin/imds-hop');
  });

  after(() => {
    cleanupAll();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('the package holds dist/ and its built addons, not src/, the tests or TypeScript tooling', () => {
    const packageDir = join(prefix, 'lib/node_modules/imds-hop');
    assert.equal(realpathSync(installedBin), join(packageDir, 'bin/imds-hop.mjs'));
    for (const present of [
      'dist/cli/main.js',
      'native-bindings/build/Release/imds_hop_native.node',
      'node_modules/cap/build/Release/cap.node',
      'node_modules/raw-socket/build/Release/raw.node',
      'scripts/lab/lab-env.sh',
      'examples/imds-hop.ini',
      'systemd/imds-hop.service',
    ]) {
      assert.ok(existsSync(join(packageDir, present)), present);
    }
    for (const absent of ['src', 'test', 'bench', 'node_modules/tsx', 'node_modules/typescript']) {
      assert.ok(!existsSync(join(packageDir, absent)), absent);
    }
    const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
      engines: { node: string };
    };
    assert.equal(manifest.engines.node, '>=20.11');
  });

  test(
    'the installed imds-hop serves: curl gets 200 from 169.254.169.254 in a namespace',
    { timeout: 120_000 },
    async () => {
      const namespace = createNamespace('pk');
      const tap = uniqueName('tp');
      const child = spawn(
        'ip',
        [
          'netns',
          'exec',
          namespace,
          installedBin,
          'serve',
          '--interface',
          tap,
          '--metrics-listen',
          'off',
          '--control-socket',
          join(scratch, `${tap}.sock`),
          '--log-format',
          'json',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
      child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
      const exited = once(child, 'exit');
      try {
        const deadline = Date.now() + 60_000;
        while (!stdout.includes('"msg":"serving"')) {
          assert.ok(child.exitCode === null, `imds-hop exited before serving: ${stderr}`);
          assert.ok(Date.now() < deadline, `not serving within 60 s: ${stderr}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const curl = await inNamespace(namespace, 'curl', [
          '-s',
          '--max-time',
          '10',
          '-w',
          '\n%{http_code}',
          'http://169.254.169.254/latest/meta-data/instance-id',
        ]);
        assert.equal(curl.code, 0, curl.stderr);
        assert.match(curl.stdout, /^i-[0-9a-f]{17}\n200$/);
      } finally {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      assert.equal(child.exitCode, 0, stderr);
    },
  );
});

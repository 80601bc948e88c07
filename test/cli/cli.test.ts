// The command's operator-facing errors: one line naming what is wrong, a stable code, exit status 1, and
// nothing created (a bad config is refused before any interface is touched).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';

const BIN = resolve(import.meta.dirname, '../../bin/imds-hop.mjs');
const work = mkdtempSync(join(tmpdir(), 'imds-hop-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));

function imdsHop(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
}

test('serve refuses a bad config with file, line and key, before touching any interface', () => {
  const config = join(work, 'bad.ini');
  writeFileSync(config, '[instance]\nregion = us-east-1\n\n[metadata-options]\nhttp-put-response-hop-limit = 65\n');
  const result = imdsHop(
    'serve',
    '--config',
    config,
    '--interface',
    'ih-name-too-long-for-a-tap',
    '--metrics-listen',
    'off',
  );
  assert.equal(result.status, 1, result.stderr);
  assert.match(
    result.stderr,
    new RegExp(`^imds-hop: ${config.replaceAll('.', '\\.')}:5: http-put-response-hop-limit: .*\\[`),
  );
  assert.doesNotMatch(result.stdout, /"serving"/);
  assert.doesNotMatch(result.stderr, /TAP_OPEN_FAILED/, 'the config was accepted and a tap was attempted');
});

test('serve refuses a missing config file by name', () => {
  const result = imdsHop('serve', '--config', join(work, 'absent.ini'), '--metrics-listen', 'off');
  assert.equal(result.status, 1);
  assert.match(result.stderr, /absent\.ini/);
});

test('option values are checked before anything starts', () => {
  // Safety net: an interface name no tap can have, so a check that regresses fails here instead of serving.
  const cannotOpen = ['--interface', 'ih-name-too-long-for-a-tap'];
  for (const [args, message] of [
    [['--hop-limit', '0'], /1 to 64/],
    [['--http-tokens', 'sometimes'], /optional, required/],
    [['--mac', '01:00:5e:00:00:01'], /multicast/],
    [['--mac', 'not-a-mac'], /MAC address must be xx:xx:xx:xx:xx:xx/],
    [['--service-address', '169.254.169.256'], /above 255/],
    [['--metrics-listen', 'nowhere'], /HOST:PORT/],
  ] as const) {
    const result = imdsHop('serve', ...cannotOpen, ...args);
    assert.notEqual(result.status, 0, `${args.join(' ')} was accepted`);
    assert.match(result.stderr, message, `${args.join(' ')}: ${result.stderr}`);
  }
});

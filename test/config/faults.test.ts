// [faults], [throttle], [early-boot] and [fault "NAME"]: the fault layer's parsers behind FILE:LINE: KEY errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/index.ts';

const load = (text: string) => parseConfig(text, 'faults.ini', () => new Uint8Array());

function configError(text: string): ConfigError {
  try {
    load(text);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail('loaded');
}

test('fault rules, the throttle, the early-boot window and the seed load from their sections', () => {
  const { faults } = load(
    [
      '[faults]',
      'seed = 7',
      '[throttle]',
      'packet-allowance = 1024',
      'connections-per-source = 8',
      '[early-boot]',
      'refuse-seconds = 5',
      'error-seconds = 10',
      '[fault "token-timeout"]',
      'method = PUT',
      'path = /latest/api/token',
      'action = drop',
      'count = 3',
      '[fault slow-credentials]',
      'path = /latest/meta-data/iam/security-credentials/*',
      'action = delay',
      'delay-ms = 1500',
    ].join('\n'),
  );
  assert.equal(faults.seed, 7);
  assert.deepEqual(faults.throttle.packetAllowance, { ratePerSecond: 1024, burst: 1024 });
  assert.equal(faults.throttle.connectionsPerSource, 8);
  assert.deepEqual(faults.earlyBoot, { refuseMs: 5000, errorMs: 10_000, errorStatus: 401 });
  assert.deepEqual(
    faults.rules.map((rule) => [rule.name, rule.action.kind, rule.count, rule.delayMs]),
    [
      ['token-timeout', 'drop', 3, 0],
      ['slow-credentials', 'delay', undefined, 1500],
    ],
  );
});

test('a bad fault key is reported as FILE:LINE: KEY, as every other config error', () => {
  assert.equal(
    configError('[fault "x"]\naction = drop\nprobability = 2').message,
    'faults.ini:3: probability: "2" is not a probability (a decimal 0..1 such as 0.25)',
  );
  assert.equal(
    configError('[fault "x"]\nmethod = GET').message,
    'faults.ini:1: [fault "x"]: action: missing (one of delay | drop | reset | close | status | truncate | expired-credentials | credential-error)',
  );
  assert.match(
    configError('[throttle]\npacket-allowance = lots').message,
    /^faults\.ini:2: packet-allowance: "lots" is not an integer/,
  );
  assert.match(
    configError('[early-boot]\nerror-seconds = 3\nerror-status = 500').message,
    /^faults\.ini:3: error-status: "500" is not allowed/,
  );
  assert.equal(configError('[fault]\naction = drop').kind, 'missing-key');
  assert.equal(configError('[throttle]\nspeed = 1').kind, 'unknown-key');
  assert.equal(configError('[fault "x"]\naction = drop\n[fault "x"]\naction = reset').kind, 'duplicate-section');
});

test('examples/faults.ini loads', () => {
  const { faults } = loadConfig(new URL('../../examples/faults.ini', import.meta.url).pathname);
  assert.equal(faults.seed, 42);
  assert.deepEqual(
    faults.rules.map((rule) => rule.name),
    ['token-timeout', 'slow-credentials'],
  );
  assert.equal(faults.earlyBoot?.refuseMs, 3000);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  EarlyBootWindow,
  FaultSpecError,
  LogLimiter,
  parseEarlyBoot,
  parseThrottle,
  NO_THROTTLE,
  PacketAllowance,
  throttleFields,
} from '../../src/faults/index.ts';

test('the early-boot window refuses, then errs, then serves, by an injected clock', () => {
  const window = new EarlyBootWindow(
    parseEarlyBoot({ 'refuse-seconds': '5', 'error-seconds': '10', 'error-status': '404' }),
    1_000,
  );
  assert.equal(window.settings.errorStatus, 404);
  assert.deepEqual(
    [1_000, 5_999, 6_000, 15_999, 16_000, 99_000].map((t) => window.phase(t)),
    ['refuse', 'refuse', 'error', 'error', 'normal', 'normal'],
  );
  assert.equal(window.over(16_000), true);
  const errorsOnly = new EarlyBootWindow(parseEarlyBoot({ 'error-seconds': '2' }), 0);
  assert.deepEqual(
    [0, 1_999, 2_000].map((t) => errorsOnly.phase(t)),
    ['error', 'error', 'normal'],
  );
  assert.equal(errorsOnly.settings.errorStatus, 401);
});

test('early-boot settings are checked key by key', () => {
  for (const [fields, key] of [
    [{}, 'refuse-seconds'],
    [{ 'refuse-seconds': 'x' }, 'refuse-seconds'],
    [{ 'error-seconds': '3', 'error-status': '500' }, 'error-status'],
    [{ 'refuse-seconds': '1', later: '1' }, 'later'],
  ] as const) {
    assert.throws(
      () => parseEarlyBoot(fields),
      (error: unknown) => error instanceof FaultSpecError && error.key === key,
    );
  }
});

test('throttle settings: a patch onto the current ones, "off" switches a limit off, bursts default to one second', () => {
  const on = parseThrottle(NO_THROTTLE, {
    'packet-allowance': '1024',
    'source-packet-allowance': '10',
    'source-packet-burst': '2',
    'connections-per-source': '4',
    'request-rate': '5',
  });
  assert.deepEqual(on.packetAllowance, { ratePerSecond: 1024, burst: 1024 });
  assert.deepEqual(on.sourcePacketAllowance, { ratePerSecond: 10, burst: 2 });
  assert.equal(on.connectionsPerSource, 4);
  const patched = parseThrottle(on, { 'request-rate': 'off' });
  assert.equal(patched.requestRate, undefined);
  assert.deepEqual(patched.packetAllowance, on.packetAllowance);
  assert.deepEqual(throttleFields(patched), {
    'packet-allowance': '1024',
    'packet-burst': '1024',
    'source-packet-allowance': '10',
    'source-packet-burst': '2',
    'connections-per-source': '4',
    'request-rate': 'off',
  });
  assert.throws(
    () => parseThrottle(NO_THROTTLE, { 'packet-burst': '5' }),
    (e: unknown) => e instanceof FaultSpecError && e.key === 'packet-burst',
  );
  assert.throws(
    () => parseThrottle(NO_THROTTLE, { 'packet-allowance': '-1' }),
    (e: unknown) => e instanceof FaultSpecError && e.key === 'packet-allowance',
  );
});

test('packet allowance: per source first, then the interface; a quiet source is not starved by a noisy one', () => {
  const allowance = new PacketAllowance(
    parseThrottle(NO_THROTTLE, { 'packet-allowance': '4', 'source-packet-allowance': '3' }),
    16,
  );
  const verdicts = [1, 2, 3, 4].map(() => allowance.admit('noisy', 0));
  assert.deepEqual(verdicts, ['pass', 'pass', 'pass', 'source-allowance']);
  assert.equal(allowance.admit('quiet', 0), 'pass'); // the interface's 4th token
  assert.equal(allowance.admit('other', 0), 'interface-allowance');
  assert.equal(allowance.admit('other', 250), 'pass'); // a quarter second: one interface token back
  assert.equal(new PacketAllowance(NO_THROTTLE, 16).active, false);
});

test('the log limiter lets a few lines per window through and reports what it held back', () => {
  const limiter = new LogLimiter(2, 1_000);
  assert.ok(limiter.permit('r', 0));
  assert.ok(limiter.permit('r', 10));
  assert.equal(limiter.permit('r', 20), undefined);
  assert.equal(limiter.permit('r', 30), undefined);
  assert.ok(limiter.permit('other', 30), 'keys are limited apart');
  assert.deepEqual(limiter.permit('r', 1_000), { suppressed: 2 });
  assert.deepEqual(limiter.permit('r', 1_001), { suppressed: 0 });
});

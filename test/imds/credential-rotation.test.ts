// EC2 User Guide ("Retrieve security credentials from instance metadata"): "We make new credentials available
// at least five minutes before the expiration of the old credentials." Walked with an injected clock across
// two days of the default role's schedule, and at the tightest schedule the config accepts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultInstance } from '../../src/imds/index.ts';
import { BOOT_MS, makeEngine } from './helpers.ts';

const FIVE_MINUTES_MS = 5 * 60_000;

function walk(lifetimeSeconds: number, refreshSeconds: number, stepMs: number, spanMs: number) {
  const instance = defaultInstance();
  const role = instance.iamRole!;
  role.credentialLifetimeSeconds = lifetimeSeconds;
  role.credentialRefreshSeconds = refreshSeconds;
  const { engine } = makeEngine(instance);
  const path = `/latest/meta-data/iam/security-credentials/${role.name}`;
  let previous: { AccessKeyId: string; Expiration: string } | undefined;
  let rotations = 0;
  for (let now = BOOT_MS; now <= BOOT_MS + spanMs; now += stepMs) {
    const response = engine.handle({ method: 'GET', target: path, headers: [] }, now);
    assert.equal(response.status, 200);
    assert.equal(response.headers.find(([name]) => name === 'Content-Type')?.[1], 'text/plain');
    const served = JSON.parse(String(response.body)) as {
      AccessKeyId: string;
      Expiration: string;
      LastUpdated: string;
    };
    const expiresMs = Date.parse(served.Expiration);
    assert.ok(
      expiresMs - now >= FIVE_MINUTES_MS,
      `at ${new Date(now).toISOString()} the served set expires in ${(expiresMs - now) / 1000} s`,
    );
    if (previous && previous.AccessKeyId !== served.AccessKeyId) {
      rotations++;
      // The new set appeared while the old one still had at least five minutes to live.
      assert.ok(
        Date.parse(previous.Expiration) - now >= FIVE_MINUTES_MS - stepMs,
        `old set had ${(Date.parse(previous.Expiration) - now) / 1000} s left`,
      );
      assert.ok(Date.parse(served.LastUpdated) <= now);
    }
    previous = served;
  }
  return rotations;
}

test('default role schedule: every served set has >= 5 min left, and new sets appear >= 5 min before the old expire', () => {
  const rotations = walk(6 * 3600, 15 * 60, 60_000, 48 * 3600_000);
  assert.ok(rotations >= 8, `only ${rotations} rotations in 48 h`);
});

test('the tightest schedule the config accepts (refresh = 300 s) still honours five minutes exactly', () => {
  const rotations = walk(900, 300, 5_000, 2 * 3600_000);
  assert.ok(rotations >= 11, `only ${rotations} rotations in 2 h`);
});

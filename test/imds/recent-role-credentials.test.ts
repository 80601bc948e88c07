// The engine names the role keys a client may hold, so the EC2 API can tell stolen role credentials apart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ImdsEngine } from '../../src/imds/index.ts';
import { BOOT_MS as BOOT, makeEngine } from './helpers.ts';

const engine = (): ImdsEngine => makeEngine().engine;

function servedAccessKeyId(e: ImdsEngine, wallMs: number): string {
  const response = e.handle(
    { method: 'GET', target: '/latest/meta-data/iam/security-credentials/imds-hop-instance-role', headers: [] },
    wallMs,
  );
  return (JSON.parse(String(response.body)) as { AccessKeyId: string }).AccessKeyId;
}

test('the served role key is recognised now and, after the next set appears, until it expires', () => {
  const e = engine();
  const first = servedAccessKeyId(e, BOOT + 1000);
  assert.deepEqual(
    e.recentRoleCredentials(BOOT + 1000).map((c) => c.accessKeyId),
    [first],
  );
  const nextPeriod = BOOT + (6 * 3600 - 15 * 60) * 1000 + 1000; // the refresh window: a new set, the old one still valid
  const second = servedAccessKeyId(e, nextPeriod);
  assert.notEqual(second, first);
  assert.deepEqual(
    e.recentRoleCredentials(nextPeriod).map((c) => c.accessKeyId),
    [second, first],
  );
  assert.deepEqual(
    e.recentRoleCredentials(BOOT + 6 * 3600 * 1000 + 1000).map((c) => c.accessKeyId),
    [second],
  );
});

test('a forced rotation keeps the replaced key recognised until it expires', () => {
  const e = engine();
  const before = servedAccessKeyId(e, BOOT + 1000);
  e.rotateCredentials(BOOT + 2000);
  const after = servedAccessKeyId(e, BOOT + 3000);
  assert.notEqual(after, before);
  assert.deepEqual(
    e.recentRoleCredentials(BOOT + 3000).map((c) => c.accessKeyId),
    [after, before],
  );
});

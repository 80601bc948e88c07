// The caller registry: requests held until attribution answers, counts by token use and delivery, log events
// once per caller, the hop-limit trap named, and every table bounded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CallerIdentity } from '../../src/callers/caller.ts';
import { CallerRegistry, type RequestRecord } from '../../src/callers/registry.ts';

const curl: CallerIdentity = {
  kind: 'process',
  name: 'curl',
  pid: 100,
  command: 'curl',
  executable: '/usr/bin/curl',
  commandLine: 'curl x',
  uid: 0,
  cgroup: '/',
  sourceAddress: '169.254.169.253',
};
const boto: CallerIdentity = {
  kind: 'forwarded',
  name: '198.18.0.2',
  originalAddress: '198.18.0.2',
  sourceAddress: '169.254.169.253',
};
const v1 = (path = '/latest/meta-data/instance-id', atMs = 1): RequestRecord => ({ use: 'v1', path, atMs });
const v2 = (atMs = 1): RequestRecord => ({ use: 'v2', path: '/latest/meta-data/', atMs });

test('requests before attribution are held and counted for the caller once it is known', () => {
  const registry = new CallerRegistry();
  registry.open(1, '169.254.169.253', 40000);
  assert.deepEqual(registry.request(1, { use: 'token-issued', path: '/latest/api/token', atMs: 5 }), []);
  registry.request(1, { use: 'v2', credentials: '2.0', path: '/latest/meta-data/iam/security-credentials/r', atMs: 6 });
  assert.equal(registry.callers().length, 0);
  registry.resolved(1, curl, 7);
  const [caller] = registry.callers();
  assert.ok(caller);
  assert.equal(caller.requests, 2);
  assert.equal(caller.tokensIssued, 1);
  assert.equal(caller.v2, 1);
  assert.deepEqual(caller.credentials, { '1.0': 0, '2.0': 1 });
  assert.deepEqual(caller.pids, [100]);
  assert.equal(caller.firstSeenMs, 5);
  assert.equal(caller.lastSeenMs, 7);
  assert.equal(caller.identity.pid, undefined, 'the pid belongs to a connection, the caller lists pids');
});

test('connections of the same program group under one caller with each pid; a closed connection still counts', () => {
  const registry = new CallerRegistry();
  registry.open(1, 'a', 1);
  registry.open(2, 'a', 2);
  registry.request(2, v1());
  registry.closed(2); // closed before attribution answered
  registry.resolved(1, curl, 1);
  registry.resolved(2, { ...curl, pid: 101 }, 1);
  registry.request(1, v1());
  assert.equal(registry.callers().length, 1);
  assert.deepEqual(registry.callers()[0]?.pids, [100, 101]);
  assert.equal(registry.callers()[0]?.v1, 2);
  assert.equal(registry.connectionCount, 1);
});

test('first IMDSv1 request and first credentials without a token: one event each per caller', () => {
  const registry = new CallerRegistry();
  registry.open(1, 'a', 1);
  registry.resolved(1, curl, 1);
  assert.deepEqual(
    registry.request(1, v1()).map((e) => e.kind),
    ['first-v1'],
  );
  assert.deepEqual(registry.request(1, v1()), []);
  const credentials = {
    use: 'v1',
    credentials: '1.0',
    path: '/latest/meta-data/iam/security-credentials/r',
    atMs: 2,
  } as const;
  assert.deepEqual(
    registry.request(1, credentials).map((e) => e.kind),
    ['first-v1-credentials'],
  );
  assert.deepEqual(registry.request(1, credentials), []);
  assert.equal(registry.callers()[0]?.credentials['1.0'], 2);
});

test('the trap: a v1 request after the token response died at hop N is a fallback, once per death', () => {
  const registry = new CallerRegistry();
  registry.open(1, '169.254.169.253', 5000);
  registry.request(1, { use: 'token-issued', path: '/latest/api/token', atMs: 1 });
  registry.tokenDied('169.254.169.253', 5000, 1); // before attribution answered
  registry.resolved(1, boto, 2);
  registry.closed(1);
  registry.open(2, '169.254.169.253', 5001);
  registry.resolved(2, boto, 3);
  const events = registry.request(2, v1('/latest/meta-data/iam/security-credentials/'));
  assert.deepEqual(
    events.map((e) => e.kind),
    ['first-v1', 'fell-back-to-v1'],
  );
  const fallback = events[1];
  assert.ok(fallback?.kind === 'fell-back-to-v1');
  assert.equal(fallback.hop, 1);
  assert.deepEqual(registry.request(2, v1()), [], 'one fallback per death');
  assert.equal(registry.counters.fallbacksToV1, 1);
  assert.equal(registry.callers()[0]?.fallbacksToV1, 1);
});

test('no fallback when the caller got a working token after the death, or never lost one', () => {
  const registry = new CallerRegistry();
  registry.open(1, 'x', 1);
  registry.resolved(1, boto, 1);
  registry.tokenDied('x', 1, 1);
  registry.request(1, v2());
  assert.ok(!registry.request(1, v1()).some((e) => e.kind === 'fell-back-to-v1'));
  registry.open(2, 'y', 1);
  registry.resolved(2, curl, 1);
  assert.ok(!registry.request(2, v1()).some((e) => e.kind === 'fell-back-to-v1'));
});

test('bounded: callers past the limit count as one "other", pending requests and connections are capped', () => {
  const registry = new CallerRegistry({ maxCallers: 2, maxConnections: 3, maxPendingRequests: 2, maxPids: 2 });
  for (let i = 0; i < 5; i++) {
    registry.open(i, 'a', i);
    registry.resolved(i, { ...curl, pid: i, commandLine: `curl ${i}` }, 1);
    registry.request(i, v1());
  }
  assert.equal(registry.callers().length, 3);
  assert.equal(registry.counters.callersOverflowed, 3);
  assert.equal(registry.callers().find((c) => c.identity.name.startsWith('other'))?.requests, 3);
  assert.ok(registry.connectionCount <= 3);
  registry.open(9, 'b', 9);
  for (let i = 0; i < 5; i++) registry.request(9, v1());
  assert.equal(registry.counters.pendingRequestsDropped, 3);
  for (let i = 10; i < 20; i++) registry.open(i, 'c', i);
  assert.equal(registry.connectionCount, 3);
});

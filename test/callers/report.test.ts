// `assert` conditions, the readable list and JUnit XML, and the callers table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallerRegistry } from '../../src/callers/registry.ts';
import { callersTable, evaluateAssertions, junitXml, resultsText } from '../../src/callers/report.ts';

function callers() {
  const registry = new CallerRegistry();
  registry.open(1, 'a', 1);
  registry.resolved(
    1,
    {
      kind: 'process',
      name: 'curl',
      pid: 7,
      uid: 0,
      commandLine: 'curl',
      sourceAddress: 'a',
      container: { runtime: 'docker', id: 'f'.repeat(64) },
    },
    0,
  );
  registry.request(1, { use: 'v1', path: '/latest/meta-data/iam/security-credentials/r', credentials: '1.0', atMs: 0 });
  registry.open(2, 'b', 1);
  registry.resolved(
    2,
    { kind: 'forwarded', name: '198.18.0.2 <ns>', originalAddress: '198.18.0.2', sourceAddress: 'b' },
    0,
  );
  registry.request(2, { use: 'token-issued', path: '/latest/api/token', atMs: 0 });
  registry.request(2, { use: 'v2', path: '/latest/meta-data/', atMs: 0 });
  registry.request(2, { use: 'token-rejected', path: '/latest/meta-data/', atMs: 0 });
  return registry.callers();
}

test('--no-v1 fails once per offending caller; conditions that hold pass once', () => {
  const results = evaluateAssertions(callers(), { noV1: true, noTokenRejected: true, maxRequests: 10 });
  assert.deepEqual(
    results.map((r) => [r.check, r.subject, r.ok]),
    [
      ['no-v1', 'curl (pid 7)', false],
      ['no-token-rejected', '198.18.0.2 <ns>', false],
      ['max-requests', 'all callers', true],
    ],
  );
  assert.equal(evaluateAssertions(callers(), { maxRequests: 2 }).filter((r) => !r.ok).length, 1);
  assert.equal(
    evaluateAssertions(callers(), { noV1Credentials: true })[0]?.detail,
    '1 role credential fetch(es) without a token',
  );
  assert.ok(evaluateAssertions([], { noV1: true })[0]?.ok);
});

test('the readable list says how many failed, failures first', () => {
  const text = resultsText('imds-hop assert', evaluateAssertions(callers(), { noV1: true, maxRequests: 10 }));
  const lines = text.trim().split('\n');
  assert.equal(lines[0], 'imds-hop assert: 1 of 2 checks failed');
  assert.match(lines[1] as string, /^FAIL no-v1: curl \(pid 7\) — 1 IMDSv1 request/);
  assert.match(lines[2] as string, /^PASS max-requests/);
});

test('JUnit XML: counts, one testcase per result, a failure element per failed one, text escaped', () => {
  const xml = junitXml('imds-hop assert', evaluateAssertions(callers(), { noV1: true, noTokenRejected: true }), 0);
  assert.match(
    xml,
    /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="imds-hop assert" tests="2" failures="2"/,
  );
  assert.equal(xml.match(/<testcase /g)?.length, 2);
  assert.equal(xml.match(/<failure /g)?.length, 2);
  assert.ok(xml.includes('name="198.18.0.2 &lt;ns&gt;"'));
  assert.ok(!xml.includes('<ns>'));
});

test('the table: one row per caller with container, pids, v1/v2 and credentials by delivery', () => {
  const lines = callersTable(callers()).trim().split('\n');
  assert.match(
    lines[0] as string,
    /^CALLER +KIND +CONTAINER +PIDS +V1 +V2 +CREDS 1\.0 +CREDS 2\.0 +LAST PATH +FIRST SEEN +LAST SEEN +DETAIL$/,
  );
  const curlRow = lines.find((l) => l.startsWith('curl')) as string;
  assert.match(
    curlRow,
    /^curl +process +docker:ffffffffffff +7 +1 +0 +1 +0 +\/latest\/meta-data\/iam\/security-credentials\/r /,
  );
  assert.equal(callersTable([]), 'no callers yet\n');
});

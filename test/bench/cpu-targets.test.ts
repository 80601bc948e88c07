import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuTargets } from '../../bench/cpu-targets.ts';
import type { Row } from '../../bench/report.ts';

function flowRow(round: number, server: Row['server'], cpuMicrosPerRequest: number, coreMicros?: number): Row {
  return {
    round,
    workload: 'new-connection-flow',
    server,
    requestsPerSecond: 1000,
    p50Ms: 1,
    p99Ms: 2,
    cpuSeconds: 1,
    cpuMicrosPerRequest,
    serverCoreMicrosPerRequest: coreMicros,
    peakRssMiB: 1,
    errors: 0,
    packetsInPerServerCpuSecond: server === 'imds-hop' ? 52_000 : undefined,
  };
}

test('the flow CPU target against nginx: the median of per-round process ratios, the core ratio beside it', () => {
  const all = [
    flowRow(1, 'imds-hop', 80, 80),
    flowRow(1, 'nginx', 60, 100),
    flowRow(2, 'imds-hop', 90, 90),
    flowRow(2, 'nginx', 60, 100),
    flowRow(3, 'imds-hop', 70, 70),
    flowRow(3, 'nginx', 100, 140),
  ];
  const [nginx, capacity] = cpuTargets(all);
  assert.equal(nginx?.target, "new-connection flow CPU per request <= 1.3x nginx's (process CPU, median of rounds)");
  assert.equal(
    nginx?.measured,
    '1.33x (rounds 1.33, 1.50, 0.70); server core incl. kernel TCP 0.80x (rounds 0.80, 0.90, 0.50)',
  );
  assert.equal(nginx?.met, false); // judged on the process measure, whatever the core measure says
  assert.equal(capacity?.measured, '50.8x (rounds 50.8, 50.8, 50.8)');
  assert.equal(capacity?.met, true);
});

test('a round without its baseline is left out, and no baseline at all means no ratio target', () => {
  const all = [flowRow(1, 'imds-hop', 50), flowRow(1, 'node:http', 100), flowRow(2, 'imds-hop', 500)];
  const [nodeHttp] = cpuTargets(all);
  assert.equal(nodeHttp?.measured, '0.50x (rounds 0.50)');
  assert.equal(nodeHttp?.met, true);
  assert.equal(cpuTargets([flowRow(1, 'imds-hop', 50)]).length, 1); // the capacity target alone
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateTargets, medianRows, type Row } from '../../bench/report.ts';

function row(
  round: number,
  server: Row['server'],
  requestsPerSecond: number,
  workload: Row['workload'] = 'keep-alive-get',
): Row {
  return {
    round,
    workload,
    server,
    requestsPerSecond,
    p50Ms: 1,
    p99Ms: 2,
    cpuSeconds: 1,
    cpuMicrosPerRequest: 1,
    peakRssMiB: 1,
    errors: 0,
  };
}

test('medianRows keeps, per workload and server, the whole row of the median round', () => {
  const rows = [
    row(1, 'imds-hop', 300),
    row(2, 'imds-hop', 100),
    row(3, 'imds-hop', 200),
    row(1, 'node:http', 50),
    row(2, 'node:http', 70),
  ];
  const medians = medianRows(rows);
  assert.equal(medians.length, 2);
  assert.equal(medians.find((r) => r.server === 'imds-hop')?.round, 3);
  // two rounds: the lower of the two, never an average that no run measured
  assert.equal(medians.find((r) => r.server === 'node:http')?.requestsPerSecond, 50);
});

test('the keep-alive target is judged on the median of per-round ratios and shows each of them', () => {
  // Independent medians (100 against 100) would say 1.00x; the pairs measured side by side say 0.90x, 1.30x
  // and 1.25x: imds-hop ahead in two rounds of three.
  const all = [
    row(1, 'imds-hop', 90),
    row(1, 'node:http', 100),
    row(2, 'imds-hop', 130),
    row(2, 'node:http', 100),
    row(3, 'imds-hop', 100),
    row(3, 'node:http', 80),
  ];
  const [keepAlive] = evaluateTargets(medianRows(all), all);
  assert.equal(keepAlive?.met, true);
  assert.equal(keepAlive?.measured, '1.25x (rounds: 0.90x, 1.30x, 1.25x)');
  const [failing] = evaluateTargets(medianRows(all.slice(0, 2)), all.slice(0, 2));
  assert.equal(failing?.met, false);
});

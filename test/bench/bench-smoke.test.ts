// CI smoke of the benchmark: `npm run bench -- --quick` completes, prints its table and writes numeric figures
// for every row. Never a speed threshold: shared CI machines make timings noise.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REPO_ROOT, skipUnlessRoot } from '../support/netns.ts';

const RESULTS = join(REPO_ROOT, 'artifacts', 'bench', 'results.json');

test(
  'npm run bench -- --quick --rounds=2 prints the table and writes figures for every row of every round',
  { skip: skipUnlessRoot, timeout: 900_000 },
  async () => {
    const startedAt = Date.now();
    const child = spawn('npm', ['run', 'bench', '--', '--quick', '--rounds=2'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, `bench failed:\n${stdout}\n${stderr}`);

    for (const heading of ['workload', 'ratios imds-hop / baseline', 'targets (issue 8)'])
      assert.match(stdout, new RegExp(heading.replace(/[()/]/g, '\\$&')));
    for (const server of ['imds-hop', 'node:http', 'nginx'])
      assert.match(stdout, new RegExp(`keep-alive-get\\s+${server}`));

    assert.ok(statSync(RESULTS).mtimeMs >= startedAt - 1000, 'results.json was not rewritten by this run');
    const results = JSON.parse(readFileSync(RESULTS, 'utf8')) as {
      quick: boolean;
      rows: Array<Record<string, unknown>>;
      medians: Array<Record<string, unknown>>;
    };
    assert.equal(results.quick, true);
    assert.equal(results.rows.length, 18, 'three workloads for each of three servers, in two rounds');
    assert.deepEqual(new Set(results.rows.map((r) => r.round)), new Set([1, 2]));
    assert.equal(results.medians.length, 9, 'one median row per workload and server');
    for (const row of results.rows) {
      for (const field of [
        'requestsPerSecond',
        'p50Ms',
        'p99Ms',
        'cpuSeconds',
        'peakRssMiB',
        'packetsInPerSecond',
        'packetsPerSecond',
      ]) {
        const value = row[field];
        assert.ok(
          typeof value === 'number' && Number.isFinite(value),
          `${row.workload}/${row.server}: ${field} = ${value}`,
        );
      }
      if (row.workload === 'keep-alive-get+idle') {
        assert.ok(
          Number.isFinite(row.rssGrowthPerIdleConnectionBytes),
          `${row.server}: no RSS growth per idle connection`,
        );
      }
    }
  },
);

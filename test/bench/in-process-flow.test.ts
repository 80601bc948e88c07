// The in-process flow harness (bench/in-process-flow.ts, what bench/instructions-per-flow.sh counts under
// callgrind) still drives the Host end to end: every flow's GET must come back with the instance id (the harness
// throws otherwise), and it reports each round's figures. Never a speed threshold.
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REPO_ROOT } from '../support/netns.ts';

test('the in-process flow harness completes its flows through the Host and reports each round', () => {
  const stdout = execFileSync(
    process.execPath,
    [
      '--semi-space-growth-factor=1',
      '--import',
      'tsx',
      'bench/in-process-flow.ts',
      '--flows=300',
      '--rounds=3',
      '--warm=50',
    ],
    { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 },
  );
  const rounds = [
    ...stdout.matchAll(
      /^round (\d): ([\d.]+) us in the host per flow; process CPU .* ([\d.]+) us per flow; (\d+) GC pauses/gm,
    ),
  ];
  assert.deepEqual(
    rounds.map((round) => round[1]),
    ['1', '2', '3'],
    stdout,
  );
  for (const round of rounds) assert.ok(Number(round[2]) > 0 && Number(round[3]) > 0, round[0]);
  assert.match(stdout, /^median [\d.]+ us in the host per flow over 3 rounds$/m);
});

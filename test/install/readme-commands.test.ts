// The README's first two command lines are what CI and the fresh-host test run, word for word.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../integration/harness.ts';

/** The commands of the README's first ```sh block, without their trailing comments. */
function readmeCommands(): string[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /^```sh\n([\s\S]*?)^```/m.exec(readme)?.[1] ?? '';
  return block
    .split('\n')
    .filter(Boolean)
    .map((line) => line.replace(/\s+#.*$/, ''));
}

test('the README starts with the install-and-serve and the install-and-test commands', () => {
  assert.deepEqual(readmeCommands().slice(0, 2), [
    'bash scripts/install.sh && imds-hop serve',
    'bash scripts/install.sh --test && npm test',
  ]);
});

test('.ci/run runs the README test command exactly as written', () => {
  const lines = readFileSync(join(REPO_ROOT, '.ci/run'), 'utf8').trimEnd().split('\n');
  assert.equal(lines.at(-1), readmeCommands()[1]);
});

test('the fresh-host test takes the first command from the README itself', () => {
  const script = readFileSync(join(REPO_ROOT, 'scripts/fresh-host.sh'), 'utf8');
  assert.match(script, /command_line=\$\(awk .*README\.md/);
  assert.match(script, /setsid bash -c "\$command_line"/);
});

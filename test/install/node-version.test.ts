// An older Node.js gets one clear line from the command and the test runner (found, needed, how to fix), not a
// stack trace from deep inside (import.meta.dirname, Node 20.11). Checked with the real Node 18 from npm's `node`.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { NODE_MINIMUM, nodeTooOld } from '../../scripts/node-version.mjs';
import { REPO_ROOT } from '../integration/harness.ts';
import { nodeFromRegistry, runToEnd } from './install-fixtures.ts';

describe('the Node.js version check', () => {
  test('the minimum is 20.11.0, and package.json engines says the same', async () => {
    assert.equal(NODE_MINIMUM, '20.11.0');
    const { default: manifest } = await import('../../package.json', { with: { type: 'json' } });
    assert.equal(manifest.engines.node, '>=20.11');
  });

  test('compares numerically, part by part', () => {
    for (const old of ['18.20.4', '20.9.0', '20.10.99', '8.99.99', '19.9.0']) assert.equal(nodeTooOld(old), true, old);
    for (const fine of ['20.11.0', '20.11.1', '20.20.2', '21.0.0', '22.1.0', '100.0.0'])
      assert.equal(nodeTooOld(fine), false, fine);
  });

  test(
    'Node 18 (npm node@18): bin/imds-hop.mjs and scripts/run-tests.mjs refuse with one line',
    { timeout: 360_000 },
    async () => {
      const node18 = await nodeFromRegistry('18.20.8');
      for (const [what, args] of [
        ['imds-hop', [join(REPO_ROOT, 'bin/imds-hop.mjs'), 'serve']],
        ['run-tests', [join(REPO_ROOT, 'scripts/run-tests.mjs'), 'test/wire']],
      ] as const) {
        const result = await runToEnd(node18, [...args], { timeoutMs: 30_000 });
        assert.equal(result.code, 1, result.stderr);
        assert.equal(result.stdout, '');
        const lines = result.stderr.trimEnd().split('\n');
        assert.equal(lines.length, 1, result.stderr);
        assert.match(
          lines[0] as string,
          new RegExp(
            `^${what}: Node\\.js 18\\.20\\.8 found \\(.*\\), >= 20\\.11\\.0 needed: run "bash scripts/install-node\\.sh" as root`,
          ),
        );
      }
    },
  );
});

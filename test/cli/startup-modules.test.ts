// What `imds-hop serve` loads before it serves: the libraries only some uses need stay out of an idle appliance's
// memory (issue 17) — prom-client until the Prometheus text is wanted, pino-pretty unless a person reads the log,
// node-forge never (the identity PKI writes its own DER).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

test('the CLI and the daemon load neither prom-client, pino-pretty nor node-forge', () => {
  const script = `
    import { createRequire } from 'node:module';
    await import('./src/cli/main.ts');
    await import('./src/appliance/daemon.ts');
    const packages = Object.keys(createRequire(import.meta.url).cache)
      .map((file) => /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(file)?.[1])
      .filter(Boolean);
    console.log(JSON.stringify([...new Set(packages)]));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: new URL('../..', import.meta.url),
    encoding: 'utf8',
  });
  const loaded = JSON.parse(out) as string[];
  assert.ok(loaded.includes('pino'), `the check sees CommonJS packages: ${loaded.join(', ')}`);
  for (const lazy of ['prom-client', 'pino-pretty', 'node-forge', '@opentelemetry/api'])
    assert.ok(!loaded.includes(lazy), `${lazy} loaded at start: ${loaded.join(', ')}`);
});

// The logger's second line of defence: fields that hold a token or a secret key are redacted wherever they sit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { createLogger } from '../../src/cli/log.ts';

function capture() {
  const lines: string[] = [];
  return { lines, stream: { write: (line: string) => void lines.push(line) } };
}

test('tokens and secret keys are redacted at the top level and one level down', () => {
  const { lines, stream } = capture();
  const log = createLogger('info', 'json', stream);
  log.info(
    {
      token: 'TOKEN-AAAA',
      secretAccessKey: 'SECRET-1',
      credentials: { SecretAccessKey: 'SECRET-2', Token: 'TOKEN-BBBB' },
    },
    'x',
  );
  log.info({ request: { headers: { 'x-aws-ec2-metadata-token': 'TOKEN-CCCC' } } }, 'y');
  const text = lines.join('');
  for (const secret of ['TOKEN-AAAA', 'SECRET-1', 'SECRET-2', 'TOKEN-BBBB', 'TOKEN-CCCC'])
    assert.ok(!text.includes(secret), secret);
  assert.equal((text.match(/\[redacted\]/g) ?? []).length, 5);
});

test('json format writes one parseable record per line with the message', () => {
  const { lines, stream } = capture();
  createLogger('info', 'json', stream).info({ hopLimit: 1 }, 'serving');
  const record = JSON.parse(lines[0] as string);
  assert.equal(record.msg, 'serving');
  assert.equal(record.hopLimit, 1);
  assert.equal(record.name, 'imds-hop');
});

test('pretty format writes readable lines, with pino-pretty loaded only for it', () => {
  const script = `
    import { createRequire } from 'node:module';
    const { createLogger } = await import('./src/cli/log.ts');
    const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes('/pino-pretty/'));
    createLogger('info', 'json', { write() {} });
    const afterJson = loaded();
    createLogger('info', 'pretty').info({ hopLimit: 1 }, 'serving');
    process.stderr.write(JSON.stringify({ afterJson, afterPretty: loaded() }));`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: new URL('../..', import.meta.url),
    encoding: 'utf8',
  });
  assert.equal(child.status, 0, child.stderr);
  assert.deepEqual(JSON.parse(child.stderr), { afterJson: false, afterPretty: true });
  assert.match(child.stdout, /INFO.*serving/);
  assert.match(child.stdout, /hopLimit: 1/);
  assert.ok(!child.stdout.trimStart().startsWith('{'), child.stdout);
});

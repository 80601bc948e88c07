// The account defaults file: missing means none, a broken one is refused with its path and reason, saves are whole.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  AccountDefaultsError,
  loadAccountDefaults,
  saveAccountDefaults,
  validateAccountDefaults,
} from '../../src/ec2-api/account-defaults.ts';

const directory = mkdtempSync(join(tmpdir(), 'imds-hop-defaults-'));
after(() => rmSync(directory, { recursive: true, force: true }));

test('a missing file means no account defaults; a saved file loads back', () => {
  const file = join(directory, 'nested/defaults.json');
  assert.deepEqual(loadAccountDefaults(file), {});
  saveAccountDefaults(file, { httpTokens: 'required', httpPutResponseHopLimit: 2 });
  assert.deepEqual(loadAccountDefaults(file), { httpTokens: 'required', httpPutResponseHopLimit: 2 });
  assert.deepEqual(readdirSync(join(directory, 'nested')), ['defaults.json']); // no temporary left behind
  assert.match(readFileSync(file, 'utf8'), /"httpTokens": "required"/);
});

test('broken files are refused with the path and what is wrong', () => {
  const file = join(directory, 'broken.json');
  for (const [text, reason] of [
    ['{', /broken\.json: /],
    ['[]', /JSON object/],
    ['{"httpTokens":"sometimes"}', /httpTokens must be "optional" or "required"/],
    ['{"httpPutResponseHopLimit":65}', /1 to 64/],
    ['{"hopLimit":2}', /unknown key "hopLimit"/],
  ] as const) {
    writeFileSync(file, text);
    assert.throws(
      () => loadAccountDefaults(file),
      (error: Error) => error instanceof AccountDefaultsError && reason.test(error.message),
      text,
    );
  }
  assert.throws(() => validateAccountDefaults({ httpEndpoint: 'on' }), AccountDefaultsError);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { requestPath, targetPath } from '../../src/imds/index.ts';

/** The rule as first written: query and fragment cut, repeated slashes collapsed. */
function reference(target: string): string {
  return (target.split(/[?#]/, 1)[0] ?? '').replace(/\/{2,}/g, '/');
}

test('requestPath: query and fragment cut, repeated slashes collapsed (the SDK asks for //latest/...)', () => {
  assert.equal(requestPath('//latest/meta-data/'), '/latest/meta-data/');
  assert.equal(requestPath('/latest/meta-data/instance-id?x=1#f'), '/latest/meta-data/instance-id');
  assert.equal(requestPath('/latest//api/token'), '/latest/api/token');
  assert.equal(requestPath('/latest/meta-data/instance-id'), '/latest/meta-data/instance-id');
});

test('requestPath agrees with the rule for any target, clean ones taking the short way; targetPath only cuts', () => {
  const pathChars = fc.constantFrom('/', '?', '#', 'a', '-', '.', '%', '=');
  fc.assert(
    fc.property(fc.string({ unit: pathChars, maxLength: 24 }), (target) => {
      assert.equal(requestPath(target), reference(target));
      assert.equal(targetPath(target), target.split(/[?#]/, 1)[0] ?? '');
    }),
  );
});

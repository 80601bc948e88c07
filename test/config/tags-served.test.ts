// The config and the engine hold one tag-key rule (imds/value-rules.ts TAG_KEY): every [tags] key the config
// accepts is served under tags/instance, and every key it would not serve is a FILE:LINE: KEY error. Before, the
// config took `team,ops` and the engine silently left it out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ConfigError, parseConfig } from '../../src/config/index.ts';
import { TAG_KEY, RuleViolation } from '../../src/imds/index.ts';
import { NOW_MS, bodyText, get, makeEngine } from '../imds/helpers.ts';

const noFiles = (path: string): Uint8Array => {
  throw new Error(`unexpected read of ${path}`);
};

function served(text: string): { listing: string; values: Map<string, string> } {
  const { instance } = parseConfig(text, 'tags.ini', noFiles);
  instance.options.instanceMetadataTags = 'enabled';
  const { engine } = makeEngine(instance);
  const listing = engine.handle(get('/latest/meta-data/tags/instance/'), NOW_MS);
  assert.equal(listing.status, 200);
  const values = new Map<string, string>();
  for (const key of Object.keys(instance.tags)) {
    const response = engine.handle(get(`/latest/meta-data/tags/instance/${key}`), NOW_MS);
    assert.equal(response.status, 200, key);
    values.set(key, bodyText(response.body));
  }
  return { listing: bodyText(listing.body), values };
}

test('a tag key with a comma is served, as EC2 allows it in instance metadata', () => {
  // EC2 User Guide, "View tags for your EC2 instances using instance metadata": keys may use + - = . , _ : @.
  const { listing, values } = served('[tags]\nName = web\nteam,ops = platform\n');
  assert.equal(listing, 'Name\nteam,ops');
  assert.equal(values.get('team,ops'), 'platform');
});

test('a tag key EC2 would refuse is FILE:LINE: KEY, wherever it stands', () => {
  for (const [text, line, key] of [
    ['[tags]\nName = web\nteam ops = platform\n', 3, 'team ops'],
    ['[tags]\nName = web\n.. = x\n', 3, '..'],
    ['[instance]\nregion = us-east-1\n\n[tags]\nok = 1\nowner/team = x\n', 6, 'owner/team'],
  ] as const) {
    assert.throws(
      () => parseConfig(text, 'tags.ini', noFiles),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.deepEqual([error.line, error.key, error.kind], [line, key, 'invalid-value']);
        assert.ok(error.message.startsWith(`tags.ini:${line}: ${key}: `), error.message);
        return true;
      },
    );
  }
});

// Characters the ini syntax can carry in a key (no "=", ";", "#", quotes, brackets or backslash), good and bad.
const KEY_CHARS = [...'abcXYZ019+-.,_:@', '/', ' ', '!', '%', '*', 'é'];
const tagKey = fc
  .array(fc.constantFrom(...KEY_CHARS), { minLength: 1, maxLength: 12 })
  .map((chars) => chars.join(''))
  .filter((key) => key.trim() === key && key !== '__proto__');

test('the config accepts exactly the tag keys the engine serves (property)', () => {
  fc.assert(
    fc.property(fc.uniqueArray(tagKey, { minLength: 1, maxLength: 8 }), (keys) => {
      const text = `[tags]\n${keys.map((key, index) => `${key} = v${index}`).join('\n')}\n`;
      const refused = keys.findIndex((key) => {
        try {
          TAG_KEY.check(key);
          return false;
        } catch (error) {
          if (error instanceof RuleViolation) return true;
          throw error;
        }
      });
      if (refused >= 0) {
        assert.throws(
          () => parseConfig(text, 'tags.ini', noFiles),
          (error: unknown) => error instanceof ConfigError && error.line === refused + 2 && error.key === keys[refused],
        );
        return;
      }
      const { listing, values } = served(text);
      assert.equal(listing, [...keys].sort().join('\n'));
      keys.forEach((key, index) => assert.equal(values.get(key), `v${index}`));
    }),
    { numRuns: 300 },
  );
});

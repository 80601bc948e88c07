import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError, parseConfig } from '../../src/config/index.ts';

const noFile = (path: string): Uint8Array => {
  throw new Error(`ENOENT: ${path}`);
};

function onlyConfigErrors(text: string): void {
  try {
    parseConfig(text, 'fuzz.ini', noFile);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `threw ${String(err)}`);
    assert.ok(err.line >= 0 && err.line <= text.split(/\r\n|\r|\n/).length);
  }
}

test('arbitrary text never throws anything but ConfigError', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), onlyConfigErrors), { numRuns: 2000 });
});

// Plausible lines reach the value parsers, which random text rarely does.
const sections = [
  '[instance]',
  '[metadata-options]',
  '[network]',
  '[network "eth1"]',
  '[iam]',
  '[tags]',
  '[block-device-mapping]',
  '[user-data]',
  '[appliance]',
  '[a.b]',
  '[x',
];
const keys = [
  'region',
  'availability-zone',
  'instance-id',
  'http-tokens',
  'http-put-response-hop-limit',
  'mac',
  'local-ipv4',
  'ipv6s',
  'vpc-ipv4-cidr-blocks',
  'enabled',
  'role-name',
  'credential-lifetime-seconds',
  'credential-refresh-seconds',
  'file',
  'text',
  'ami',
  'default-ttl',
  'metrics-listen',
  'pending-time',
  '__proto__',
  'k[]',
  'Name',
];
const values = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom(
    '',
    'true',
    'false',
    '1',
    '64',
    '900',
    '0e:49:61:0f:c3:11',
    '10.0.0.1, 10.0.0.2',
    'us-east-1',
    'eu-west-1a',
    '"quoted\\n"',
    "'1'",
    "'{}'",
    '::1',
    ':80',
    '[::1]:9',
    'required',
  ),
);
const line = fc.oneof(
  fc.constantFrom(...sections),
  fc.tuple(fc.constantFrom(...keys), values).map(([k, v]) => `${k} = ${v}`),
  fc.constantFrom('; c', '', '=x'),
);

test('ini-shaped text never throws anything but ConfigError', () => {
  fc.assert(
    fc.property(fc.array(line, { maxLength: 25 }), (lines) => onlyConfigErrors(lines.join('\n'))),
    { numRuns: 3000 },
  );
});

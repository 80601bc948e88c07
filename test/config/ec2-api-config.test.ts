// The config keys of the EC2 API and the launch: [ec2-api], [appliance] ec2-api-listen, [instance] imds-support,
// and which [metadata-options] keys count as launch parameters.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/index.ts';

const load = (text: string) => parseConfig(text, 'test.ini', () => new Uint8Array());

test('[ec2-api] keys load; launch parameters are exactly the [metadata-options] keys given', () => {
  const loaded = load(
    '[instance]\nimds-support = v2.0\n[metadata-options]\nhttp-tokens = optional\n[appliance]\nec2-api-listen = 127.0.0.1:9555\n' +
      '[ec2-api]\naccess-key-id = AKIAIOSFODNN7EXAMPLE\nsecret-access-key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n' +
      'allow-role-credentials = true\naccount-defaults-file = /tmp/x.json\napply-delay-ms = 250\n',
  );
  assert.equal(loaded.instance.imdsSupport, 'v2.0');
  assert.deepEqual(loaded.launchOptions, { httpTokens: 'optional' });
  assert.equal(loaded.appliance.ec2ApiListen, '127.0.0.1:9555');
  assert.deepEqual(loaded.ec2Api, {
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    allowRoleCredentials: true,
    accountDefaultsFile: '/tmp/x.json',
    applyDelayMs: 250,
  });
});

test('bad values name file, line and key, and never echo a secret', () => {
  assert.throws(() => load('[ec2-api]\naccess-key-id = akia-lower\n'), /^ConfigError: test\.ini:2: access-key-id: /);
  assert.throws(
    () => load('[ec2-api]\nsecret-access-key = has space in it here\n'),
    (error: Error) => !error.message.includes('has space'),
  );
  assert.throws(
    () => load('[ec2-api]\naccess-key-id = AKIAIOSFODNN7EXAMPLE\n'),
    /test\.ini:2: access-key-id: .*secret/,
  );
  assert.throws(() => load('[instance]\nimds-support = v1.0\n'), /test\.ini:2: imds-support/);
  assert.throws(() => load('[appliance]\nec2-api-listen = 9470\n'), /ec2-api-listen/);
  assert.throws(() => load('[ec2-api]\napply-delay-ms = 70000\n'), /apply-delay-ms/);
  assert.equal(load('[appliance]\nec2-api-listen = off\n').appliance.ec2ApiListen, 'off');
});

// EC2's order of precedence for the launch metadata options: launch parameters, then account defaults, then the
// AMI's ImdsSupport, then EC2's default — option by option.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveLaunchOptions } from '../../src/imds/launch-options.ts';

test('nothing given: EC2 launch default, tokens optional and hop limit 1', () => {
  const { options, sources } = resolveLaunchOptions({ launch: {}, account: {}, imdsSupport: undefined });
  assert.deepEqual(options, {
    httpTokens: 'optional',
    httpEndpoint: 'enabled',
    httpPutResponseHopLimit: 1,
    instanceMetadataTags: 'disabled',
    httpProtocolIpv6: 'disabled',
  });
  assert.equal(sources.httpTokens, 'ec2-default');
});

test('an AMI with ImdsSupport v2.0 launches with tokens required and hop limit 2', () => {
  const { options, sources } = resolveLaunchOptions({ launch: {}, account: {}, imdsSupport: 'v2.0' });
  assert.equal(options.httpTokens, 'required');
  assert.equal(options.httpPutResponseHopLimit, 2);
  assert.equal(options.httpEndpoint, 'enabled');
  assert.equal(sources.httpPutResponseHopLimit, 'ami');
});

test('account defaults override the AMI, option by option', () => {
  const { options, sources } = resolveLaunchOptions({
    launch: {},
    account: { httpPutResponseHopLimit: 3, instanceMetadataTags: 'enabled' },
    imdsSupport: 'v2.0',
  });
  assert.equal(options.httpPutResponseHopLimit, 3);
  assert.equal(sources.httpPutResponseHopLimit, 'account');
  assert.equal(options.httpTokens, 'required'); // no account preference: the AMI's
  assert.equal(sources.httpTokens, 'ami');
  assert.equal(options.instanceMetadataTags, 'enabled');
});

test('launch parameters override the account defaults and the AMI', () => {
  const { options, sources } = resolveLaunchOptions({
    launch: { httpTokens: 'optional', httpProtocolIpv6: 'enabled' },
    account: { httpTokens: 'required', httpPutResponseHopLimit: 4 },
    imdsSupport: 'v2.0',
  });
  assert.equal(options.httpTokens, 'optional');
  assert.equal(sources.httpTokens, 'launch');
  assert.equal(options.httpPutResponseHopLimit, 4);
  assert.equal(options.httpProtocolIpv6, 'enabled');
});

test('an old AMI with account defaults: the account wins over the EC2 default', () => {
  const { options } = resolveLaunchOptions({ launch: {}, account: { httpTokens: 'required' }, imdsSupport: undefined });
  assert.equal(options.httpTokens, 'required');
  assert.equal(options.httpPutResponseHopLimit, 1);
});

// The four actions over a fake appliance state: the seed's DescribeInstances fields, filters, instance ids,
// ModifyInstanceMetadataOptions' pending answer and its validation, account defaults with no-preference, and
// EC2's error codes and documents.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { handleAction } from '../../src/ec2-api/actions.ts';
import { Ec2ApiError, errorXml } from '../../src/ec2-api/errors.ts';
import { child, fakeState, readXml, textOf } from './helpers.ts';

const ID = 'i-0b22a22eec53b9321';
const call = (params: Record<string, string>, state = fakeState()) =>
  readXml(handleAction(new Map(Object.entries(params)), state, 'req-1'));
const refusal = (params: Record<string, string>, state = fakeState()): Ec2ApiError => {
  try {
    handleAction(new Map(Object.entries(params)), state, 'req-1');
  } catch (error) {
    if (error instanceof Ec2ApiError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('DescribeInstances', () => {
  test('the instance with the fields the seed query reads, tags in order, options with State', () => {
    const item = child(call({ Action: 'DescribeInstances' }), 'reservationSet', 'item', 'instancesSet', 'item');
    assert.equal(textOf(child(item, 'instanceId')), ID);
    assert.equal(textOf(child(item, 'privateIpAddress')), '172.31.16.10');
    assert.equal(textOf(child(item, 'imageId')), 'ami-0c02fb55956c7d316');
    assert.equal(textOf(child(item, 'instanceType')), 't3.micro');
    assert.equal(textOf(child(item, 'placement', 'availabilityZone')), 'us-east-1a');
    assert.equal(textOf(child(item, 'launchTime')), '2026-11-25T08:00:00.000Z');
    assert.deepEqual(
      child(item, 'tagSet').children.map((tag) => [textOf(child(tag, 'key')), textOf(child(tag, 'value'))]),
      [
        ['Name', 'imds-hop-default'],
        ['Environment', 'lab'],
      ],
    );
    const options = child(item, 'metadataOptions');
    assert.deepEqual(
      options.children.map((c) => [c.name, textOf(c)]),
      [
        ['state', 'applied'],
        ['httpTokens', 'optional'],
        ['httpPutResponseHopLimit', '1'],
        ['httpEndpoint', 'enabled'],
        ['httpProtocolIpv6', 'disabled'],
        ['instanceMetadataTags', 'disabled'],
      ],
    );
  });

  test('an instance without tags has no tagSet; tag text is escaped', () => {
    const state = fakeState();
    state.instance.tags = {};
    assert.throws(() =>
      child(call({ Action: 'DescribeInstances' }, state), 'reservationSet', 'item', 'instancesSet', 'item', 'tagSet'),
    );
    state.instance.tags = { Name: '<a & "b">' };
    const tag = child(
      call({ Action: 'DescribeInstances' }, state),
      'reservationSet',
      'item',
      'instancesSet',
      'item',
      'tagSet',
      'item',
      'value',
    );
    assert.equal(textOf(tag), '<a & "b">');
  });

  test('filters: instance-id, tag:KEY with wildcards, private-ip-address; a miss gives an empty reservationSet', () => {
    const count = (params: Record<string, string>) =>
      child(call({ Action: 'DescribeInstances', ...params }), 'reservationSet').children.length;
    assert.equal(count({ 'Filter.1.Name': 'instance-id', 'Filter.1.Value.1': ID }), 1);
    assert.equal(count({ 'Filter.1.Name': 'tag:Name', 'Filter.1.Value.1': 'imds-hop-*' }), 1);
    assert.equal(
      count({ 'Filter.1.Name': 'tag:Name', 'Filter.1.Value.1': 'other', 'Filter.1.Value.2': 'imds-hop-defaul?' }),
      1,
    );
    assert.equal(count({ 'Filter.1.Name': 'private-ip-address', 'Filter.1.Value.1': '10.0.0.1' }), 0);
    assert.equal(
      count({
        'Filter.1.Name': 'instance-state-name',
        'Filter.1.Value.1': 'running',
        'Filter.2.Name': 'tag-key',
        'Filter.2.Value.1': 'Environment',
      }),
      1,
    );
    assert.equal(
      refusal({ Action: 'DescribeInstances', 'Filter.1.Name': 'bogus', 'Filter.1.Value.1': 'x' }).code,
      'InvalidParameterValue',
    );
  });

  test('instance ids: this one is found; another is InvalidInstanceID.NotFound; garbage is Malformed', () => {
    assert.equal(child(call({ Action: 'DescribeInstances', 'InstanceId.1': ID }), 'reservationSet').children.length, 1);
    const missing = refusal({ Action: 'DescribeInstances', 'InstanceId.1': ID, 'InstanceId.2': 'i-0123456789abcdef0' });
    assert.equal(missing.code, 'InvalidInstanceID.NotFound');
    assert.match(missing.message, /i-0123456789abcdef0/);
    assert.equal(refusal({ Action: 'DescribeInstances', 'InstanceId.1': 'nope' }).code, 'InvalidInstanceID.Malformed');
  });

  test('DryRun answers DryRunOperation (412)', () => {
    const dry = refusal({ Action: 'DescribeInstances', DryRun: 'true' });
    assert.equal(dry.code, 'DryRunOperation');
    assert.equal(dry.status, 412);
  });
});

describe('ModifyInstanceMetadataOptions', () => {
  test('answers pending with the new values and changes through the state', () => {
    const state = fakeState();
    const root = call(
      {
        Action: 'ModifyInstanceMetadataOptions',
        InstanceId: ID,
        HttpTokens: 'required',
        HttpPutResponseHopLimit: '2',
        HttpEndpoint: 'enabled',
      },
      state,
    );
    assert.equal(textOf(child(root, 'instanceId')), ID);
    assert.equal(textOf(child(root, 'instanceMetadataOptions', 'state')), 'pending');
    assert.equal(textOf(child(root, 'instanceMetadataOptions', 'httpTokens')), 'required');
    assert.equal(state.options.httpPutResponseHopLimit, 2);
  });

  test('every parameter is validated before anything changes', () => {
    const state = fakeState();
    const cases: Array<[Record<string, string>, string]> = [
      [{}, 'MissingParameter'],
      [{ InstanceId: 'i-0123456789abcdef0' }, 'InvalidInstanceID.NotFound'],
      [{ InstanceId: ID, HttpTokens: 'sometimes' }, 'InvalidParameterValue'],
      [{ InstanceId: ID, HttpPutResponseHopLimit: '65' }, 'InvalidParameterValue'],
      [{ InstanceId: ID, HttpPutResponseHopLimit: '0' }, 'InvalidParameterValue'],
      [{ InstanceId: ID, HttpProtocolIpv6: 'on' }, 'InvalidParameterValue'],
      [{ InstanceId: ID, InstanceMetadataTags: 'yes', HttpTokens: 'required' }, 'InvalidParameterValue'],
    ];
    for (const [params, code] of cases) {
      assert.equal(
        refusal({ Action: 'ModifyInstanceMetadataOptions', ...params }, state).code,
        code,
        JSON.stringify(params),
      );
    }
    assert.equal(state.options.httpTokens, 'optional');
    assert.equal(state.pending, false);
  });
});

describe('account defaults', () => {
  test('Modify then Get; no-preference and -1 clear a setting', () => {
    const state = fakeState();
    call(
      {
        Action: 'ModifyInstanceMetadataDefaults',
        HttpTokens: 'required',
        HttpPutResponseHopLimit: '3',
        InstanceMetadataTags: 'enabled',
      },
      state,
    );
    assert.deepEqual(state.defaults, {
      httpTokens: 'required',
      httpPutResponseHopLimit: 3,
      instanceMetadataTags: 'enabled',
    });
    call(
      {
        Action: 'ModifyInstanceMetadataDefaults',
        HttpPutResponseHopLimit: '-1',
        InstanceMetadataTags: 'no-preference',
      },
      state,
    );
    const level = child(call({ Action: 'GetInstanceMetadataDefaults' }, state), 'accountLevel');
    assert.deepEqual(
      level.children.map((c) => [c.name, textOf(c)]),
      [['httpTokens', 'required']],
    );
  });

  test('nothing given, bad values and HttpTokensEnforced are refused', () => {
    assert.equal(refusal({ Action: 'ModifyInstanceMetadataDefaults' }).code, 'MissingParameter');
    assert.equal(
      refusal({ Action: 'ModifyInstanceMetadataDefaults', HttpPutResponseHopLimit: '-2' }).code,
      'InvalidParameterValue',
    );
    assert.equal(
      refusal({ Action: 'ModifyInstanceMetadataDefaults', HttpEndpoint: 'maybe' }).code,
      'InvalidParameterValue',
    );
    assert.equal(
      refusal({ Action: 'ModifyInstanceMetadataDefaults', HttpTokensEnforced: 'enabled' }).code,
      'UnsupportedOperation',
    );
  });
});

test('unknown and missing actions; the error document has EC2 error shape with RequestID', () => {
  assert.equal(refusal({ Action: 'TerminateInstances' }).code, 'InvalidAction');
  assert.equal(refusal({}).code, 'MissingParameter');
  const root = readXml(
    errorXml(new Ec2ApiError('AuthFailure', 'AWS was not able to validate the provided access credentials'), 'abc-123'),
  );
  assert.equal(root.name, 'Response');
  assert.equal(root.attributes, '');
  assert.equal(textOf(child(root, 'Errors', 'Error', 'Code')), 'AuthFailure');
  assert.equal(textOf(child(root, 'RequestID')), 'abc-123');
  assert.equal(new Ec2ApiError('AuthFailure', '').status, 401);
  assert.equal(new Ec2ApiError('UnauthorizedOperation', '').status, 403);
});

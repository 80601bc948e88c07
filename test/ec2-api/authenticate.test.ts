// Who may call: the operator's key verifies; role keys IMDS served are UnauthorizedOperation unless allowed (and
// need their session token); unknown keys, wrong secrets and stale clocks are refused with EC2's codes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { authenticate, type CallerKeys } from '../../src/ec2-api/authenticate.ts';
import { Ec2ApiError } from '../../src/ec2-api/errors.ts';
import { authorizationHeader, type SignableRequest } from '../../src/ec2-api/sigv4.ts';

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const AMZ_DATE = '20261201T120000Z';
const operator = { accessKeyId: 'AKIAIMDSHOPOPERATOR1', secretAccessKey: 'operator-secret-0123456789' };
const role = { accessKeyId: 'ASIAIMDSHOPROLE00001', secretAccessKey: 'role-secret-0123456789', token: 'session-token' };

function signed(
  key: { accessKeyId: string; secretAccessKey: string },
  extra: Array<[string, string]> = [],
  date = AMZ_DATE,
): SignableRequest {
  const body = Buffer.from('Action=DescribeInstances&Version=2016-11-15');
  const headers: Array<[string, string]> = [
    ['Host', '127.0.0.1:9470'],
    ['Content-Type', 'application/x-www-form-urlencoded; charset=utf-8'],
    ['X-Amz-Date', date],
    ...extra,
  ];
  const request: SignableRequest = { method: 'POST', path: '/', query: '', headers, body };
  const names = headers.map(([name]) => name.toLowerCase()).sort();
  const authorization = authorizationHeader(
    request,
    { accessKeyId: key.accessKeyId, date: date.slice(0, 8), region: 'us-east-1', service: 'ec2' },
    key.secretAccessKey,
    names,
  );
  return { ...request, headers: [...headers, ['Authorization', authorization]] };
}

function keys(allowRoleCredentials = false): CallerKeys {
  return { operator, roleCredentials: () => [role], allowRoleCredentials };
}

function code(run: () => unknown): string {
  try {
    run();
    return 'ok';
  } catch (error) {
    if (error instanceof Ec2ApiError) return error.code;
    throw error;
  }
}

describe('authenticate', () => {
  test('the operator key verifies (host header with a port, form body, x-amz-date)', () => {
    assert.deepEqual(authenticate(signed(operator), keys(), 'us-east-1', NOW), {
      kind: 'operator',
      accessKeyId: operator.accessKeyId,
    });
  });

  test('a wrong secret, an unknown key or no signature is AuthFailure', () => {
    assert.equal(
      code(() => authenticate(signed({ ...operator, secretAccessKey: 'wrong' }), keys(), 'us-east-1', NOW)),
      'AuthFailure',
    );
    assert.equal(
      code(() =>
        authenticate(signed({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' }), keys(), 'us-east-1', NOW),
      ),
      'AuthFailure',
    );
    const unsigned = signed(operator);
    assert.equal(
      code(() =>
        authenticate(
          { ...unsigned, headers: unsigned.headers.filter(([n]) => n !== 'Authorization') },
          keys(),
          'us-east-1',
          NOW,
        ),
      ),
      'AuthFailure',
    );
  });

  test('another region is AuthFailure; a clock 16 minutes off is RequestExpired', () => {
    assert.equal(
      code(() => authenticate(signed(operator), keys(), 'eu-west-1', NOW)),
      'AuthFailure',
    );
    assert.equal(
      code(() => authenticate(signed(operator), keys(), 'us-east-1', NOW + 16 * 60_000)),
      'RequestExpired',
    );
  });

  test('role credentials: UnauthorizedOperation by default, allowed when configured, AuthFailure without their token', () => {
    const withToken = signed(role, [['X-Amz-Security-Token', role.token]]);
    assert.equal(
      code(() => authenticate(withToken, keys(false), 'us-east-1', NOW)),
      'UnauthorizedOperation',
    );
    assert.deepEqual(authenticate(withToken, keys(true), 'us-east-1', NOW), {
      kind: 'role',
      accessKeyId: role.accessKeyId,
    });
    assert.equal(
      code(() => authenticate(signed(role), keys(true), 'us-east-1', NOW)),
      'AuthFailure',
    );
    assert.equal(
      code(() => authenticate(signed(role, [['X-Amz-Security-Token', 'forged']]), keys(true), 'us-east-1', NOW)),
      'AuthFailure',
    );
  });
});

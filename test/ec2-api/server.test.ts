// The listener end to end on a loopback ephemeral port: a signed POST answered with XML and a requestId, a bad
// signature with AuthFailure (401), oversized bodies refused; and listen addresses beyond loopback need consent.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { parseEc2ApiListen, startEc2ApiServer, type Ec2ApiServer } from '../../src/ec2-api/server.ts';
import { authorizationHeader } from '../../src/ec2-api/sigv4.ts';
import { fakeState } from './helpers.ts';

const operator = { accessKeyId: 'AKIAIMDSHOPOPERATOR1', secretAccessKey: 'operator-secret-0123456789' };
let api: Ec2ApiServer;
const logLines: string[] = [];

before(async () => {
  const log = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
  api = await startEc2ApiServer(
    { host: '127.0.0.1', port: 0 },
    {
      state: fakeState(),
      keys: { operator, roleCredentials: () => [], allowRoleCredentials: false },
      region: 'us-east-1',
      log,
    },
  );
});
after(() => api.close());

function amzDate(): string {
  return new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.[0-9]{3}/, '');
}

async function post(body: string, secret = operator.secretAccessKey) {
  const host = `127.0.0.1:${api.address.port}`;
  const headers: Array<[string, string]> = [
    ['content-type', 'application/x-www-form-urlencoded; charset=utf-8'],
    ['host', host],
    ['x-amz-date', amzDate()],
  ];
  const date = headers[2]?.[1] as string;
  const authorization = authorizationHeader(
    { method: 'POST', path: '/', query: '', headers, body: Buffer.from(body) },
    { accessKeyId: operator.accessKeyId, date: date.slice(0, 8), region: 'us-east-1', service: 'ec2' },
    secret,
    headers.map(([name]) => name),
  );
  return fetch(`http://${host}/`, {
    method: 'POST',
    headers: [...headers.filter(([n]) => n !== 'host'), ['authorization', authorization]],
    body,
  });
}

test('a signed DescribeInstances gets 200 XML with the requestId in the body and header', async () => {
  const response = await post('Action=DescribeInstances&Version=2016-11-15');
  const text = await response.text();
  assert.equal(response.status, 200, text);
  assert.match(response.headers.get('content-type') ?? '', /^text\/xml/);
  const requestId = response.headers.get('x-amzn-requestid') as string;
  assert.match(text, new RegExp(`<requestId>${requestId}</requestId>`));
  assert.match(text, /<instanceId>i-0b22a22eec53b9321<\/instanceId>/);
});

test('a wrong secret gets AuthFailure 401 and the secret never reaches the log', async () => {
  const response = await post('Action=DescribeInstances&Version=2016-11-15', 'not-the-secret');
  assert.equal(response.status, 401);
  assert.match(await response.text(), /<Code>AuthFailure<\/Code>/);
  assert.ok(logLines.length > 0);
  assert.ok(!logLines.join('').includes(operator.secretAccessKey));
});

test('a body above 64 KiB is refused without parsing', async () => {
  const response = await post(`Action=DescribeInstances&Pad=${'x'.repeat(70 * 1024)}`);
  assert.equal(response.status, 400);
});

test('listen addresses: loopback by default, others only with consent', () => {
  assert.deepEqual(parseEc2ApiListen('127.0.0.1:9470', false), { host: '127.0.0.1', port: 9470 });
  assert.deepEqual(parseEc2ApiListen('[::1]:9470', false), { host: '::1', port: 9470 });
  assert.throws(() => parseEc2ApiListen('0.0.0.0:9470', false), /loopback/);
  assert.deepEqual(parseEc2ApiListen('0.0.0.0:9470', true), { host: '0.0.0.0', port: 9470 });
  assert.throws(() => parseEc2ApiListen('9470', false), /HOST:PORT/);
  assert.throws(() => parseEc2ApiListen('127.0.0.1:70000', false), /HOST:PORT/);
});

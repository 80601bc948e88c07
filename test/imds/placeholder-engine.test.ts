import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlaceholderEngine, type ImdsRequest } from '../../src/imds/index.ts';

const now = 1_700_000_000_000;
function engine(hopLimit = 1, userData?: Uint8Array) {
  return new PlaceholderEngine(
    { instanceId: 'i-0123456789abcdef0', amiId: 'ami-1', instanceType: 't3.micro', localIpv4: '10.0.0.5', userData },
    { hopLimit, tokenKey: new Uint8Array(32).fill(1), randomBytes: (n) => new Uint8Array(n).fill(9) },
  );
}
function request(method: string, target: string, headers: Array<[string, string]> = []): ImdsRequest {
  return { method, target, headers };
}
const asText = (body: string | Uint8Array) => (typeof body === 'string' ? body : Buffer.from(body).toString());

test('token PUT with a TTL in 1..21600 returns a token tagged with the hop limit', () => {
  const response = engine(3).handle(request('PUT', '/latest/api/token', [['x-aws-ec2-metadata-token-ttl-seconds', '21600']]), now);
  assert.equal(response.status, 200);
  assert.equal(response.hopLimit, 3);
  assert.deepEqual(response.headers.find(([k]) => k === 'X-Aws-Ec2-Metadata-Token-Ttl-Seconds'), ['X-Aws-Ec2-Metadata-Token-Ttl-Seconds', '21600']);
  assert.ok(asText(response.body).length > 20);
});

for (const ttl of [undefined, '0', '21601', '-1', '1.5', 'abc', '', '000000021600']) {
  test(`token PUT with TTL ${JSON.stringify(ttl)} is 400 and carries no hop limit`, () => {
    const headers: Array<[string, string]> = ttl === undefined ? [] : [['x-aws-ec2-metadata-token-ttl-seconds', ttl]];
    const response = engine().handle(request('PUT', '/latest/api/token', headers), now);
    assert.equal(response.status, 400);
    assert.equal(response.hopLimit, undefined);
  });
}

test('token PUT through a proxy that adds X-Forwarded-For gets 403 and no token', () => {
  const response = engine().handle(
    request('PUT', '/latest/api/token', [['x-aws-ec2-metadata-token-ttl-seconds', '60'], ['x-forwarded-for', '198.18.0.9']]),
    now,
  );
  assert.equal(response.status, 403);
  assert.equal(asText(response.body), '');
});

test('GET on the token path is refused (tokens only by PUT)', () => {
  assert.equal(engine().handle(request('GET', '/latest/api/token'), now).status, 405);
});

test('a valid token is honoured and a forged one is 401', () => {
  const e = engine();
  const token = asText(e.handle(request('PUT', '/latest/api/token', [['x-aws-ec2-metadata-token-ttl-seconds', '5']]), now).body);
  const ok = e.handle(request('GET', '/latest/meta-data/instance-id', [['x-aws-ec2-metadata-token', token]]), now);
  assert.equal(ok.status, 200);
  assert.equal(asText(ok.body), 'i-0123456789abcdef0');
  assert.equal(ok.hopLimit, undefined);
  assert.equal(e.handle(request('GET', '/latest/meta-data/instance-id', [['x-aws-ec2-metadata-token', token]]), now + 5000).status, 401);
  assert.equal(e.handle(request('GET', '/', [['x-aws-ec2-metadata-token', 'AAAA']]), now).status, 401);
});

test('v1 GETs are served: versions, listing, leaves; unknown paths are 404 HTML', () => {
  const e = engine();
  assert.equal(asText(e.handle(request('GET', '/'), now).body).split('\n').at(-1), 'latest');
  assert.match(asText(e.handle(request('GET', '/latest/meta-data/'), now).body), /^instance-id$/m);
  const missing = e.handle(request('GET', '/latest/meta-data/nope'), now);
  assert.equal(missing.status, 404);
  assert.match(asText(missing.body), /404 - Not Found/);
  assert.equal(e.handle(request('GET', '/latest/meta-data/constructor'), now).status, 404);
});

test('user-data is served when configured, 404 otherwise', () => {
  const bytes = new Uint8Array([0, 1, 2, 255]);
  assert.deepEqual(engine(1, bytes).handle(request('GET', '/latest/user-data'), now).body, bytes);
  assert.equal(engine().handle(request('GET', '/latest/user-data'), now).status, 404);
});

test('hop limit outside 1..64 is refused', () => {
  assert.throws(() => engine(0), RangeError);
  assert.throws(() => engine(65), RangeError);
});

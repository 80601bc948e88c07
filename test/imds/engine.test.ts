import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ImdsEngine,
  OptionsError,
  RecordingMetrics,
  defaultInstance,
  DEFAULT_METADATA_OPTIONS,
} from '../../src/imds/index.ts';
import { BOOT_MS, NOW_MS, bodyText, fetchToken, get, makeEngine, tokenPut } from './helpers.ts';

const ROLE_PATH = '/latest/meta-data/iam/security-credentials/imds-hop-instance-role';

function credentials(
  engine: ImdsEngine,
  wallMs: number,
): { AccessKeyId: string; Expiration: string; LastUpdated: string } {
  const response = engine.handle(get(ROLE_PATH), wallMs);
  assert.equal(response.status, 200);
  return JSON.parse(bodyText(response.body));
}

test('credentials rotate at expiration − refresh and are always served with a future Expiration', () => {
  const { engine } = makeEngine();
  const role = defaultInstance().iamRole!;
  const periodMs = (role.credentialLifetimeSeconds - role.credentialRefreshSeconds) * 1000;
  const first = credentials(engine, BOOT_MS);
  assert.equal(
    first.Expiration,
    new Date(BOOT_MS + role.credentialLifetimeSeconds * 1000).toISOString().replace('.000Z', 'Z'),
  );
  assert.deepEqual(credentials(engine, BOOT_MS + periodMs - 1), first, 'same set until the period ends');
  const second = credentials(engine, BOOT_MS + periodMs);
  assert.notEqual(second.AccessKeyId, first.AccessKeyId);
  // The new set appears refresh seconds before the old one expires.
  assert.equal(Date.parse(first.Expiration) - Date.parse(second.LastUpdated), role.credentialRefreshSeconds * 1000);
  for (let wallMs = BOOT_MS; wallMs < BOOT_MS + 4 * periodMs; wallMs += 7 * 60_000 + 13_000) {
    const served = credentials(engine, wallMs);
    assert.ok(Date.parse(served.Expiration) > wallMs, `expired credentials served at ${wallMs}`);
    assert.match(served.AccessKeyId, /^ASIA[A-Z2-7]{16}$/);
  }
});

test('a forced rotation serves a new set at once, with a full lifetime, and later periods count from it', () => {
  const { engine } = makeEngine();
  const role = defaultInstance().iamRole!;
  const periodMs = (role.credentialLifetimeSeconds - role.credentialRefreshSeconds) * 1000;
  const before = credentials(engine, NOW_MS);
  const rotatedAt = NOW_MS + 5_000;
  const announced = engine.rotateCredentials(rotatedAt);
  const after = credentials(engine, rotatedAt);
  assert.notEqual(after.AccessKeyId, before.AccessKeyId);
  assert.equal(announced.accessKeyId, after.AccessKeyId);
  assert.equal(Date.parse(after.LastUpdated), rotatedAt - (rotatedAt % 1000));
  assert.equal(Date.parse(after.Expiration) - Date.parse(after.LastUpdated), role.credentialLifetimeSeconds * 1000);
  assert.deepEqual(credentials(engine, rotatedAt + periodMs - 1000), after);
  assert.notEqual(credentials(engine, rotatedAt + periodMs).AccessKeyId, after.AccessKeyId);
});

test('credentials are deterministic for a key and differ across keys', () => {
  const a = credentials(makeEngine().engine, NOW_MS);
  assert.deepEqual(credentials(makeEngine().engine, NOW_MS), a);
  const other = new ImdsEngine(defaultInstance(), {
    tokenKey: new Uint8Array(32).fill(1),
    credentialKey: new Uint8Array(32).fill(3),
    randomBytes: (n) => new Uint8Array(n),
    identitySigner: {
      certificates: { signature: '', pkcs7: '', rsa2048: '', ca: '' },
      sign: () => ({ signature: '', pkcs7: '', rsa2048: '' }),
    },
    bootWallMs: BOOT_MS,
  });
  assert.notEqual(credentials(other, NOW_MS).AccessKeyId, a.AccessKeyId);
});

test('setOptions validates every field, applies atomically and returns the new options', () => {
  const { engine } = makeEngine();
  assert.deepEqual(engine.options, DEFAULT_METADATA_OPTIONS);
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ httpTokens: 'always' }, 'httpTokens'],
    [{ httpEndpoint: 'on' }, 'httpEndpoint'],
    [{ httpPutResponseHopLimit: 0 }, 'httpPutResponseHopLimit'],
    [{ httpPutResponseHopLimit: 65 }, 'httpPutResponseHopLimit'],
    [{ httpPutResponseHopLimit: 1.5 }, 'httpPutResponseHopLimit'],
    [{ httpPutResponseHopLimit: '2' }, 'httpPutResponseHopLimit'],
    [{ instanceMetadataTags: true }, 'instanceMetadataTags'],
    [{ httpProtocolIpv6: 'yes' }, 'httpProtocolIpv6'],
    [{ hopLimit: 2 }, 'hopLimit'],
  ];
  for (const [patch, field] of cases) {
    assert.throws(
      () => engine.setOptions({ httpTokens: 'required', ...patch } as never),
      (error: unknown) => error instanceof OptionsError && error.field === field && error.message.includes(field),
    );
    assert.deepEqual(engine.options, DEFAULT_METADATA_OPTIONS, 'a rejected patch changes nothing');
  }
  const next = engine.setOptions({ httpTokens: 'required', httpPutResponseHopLimit: 2 });
  assert.deepEqual(next, { ...DEFAULT_METADATA_OPTIONS, httpTokens: 'required', httpPutResponseHopLimit: 2 });
  assert.equal(engine.handle(tokenPut(), NOW_MS).hopLimit, 2);
});

test('the constructor rejects invalid options from the instance model', () => {
  const instance = defaultInstance();
  instance.options.httpPutResponseHopLimit = 99;
  assert.throws(() => makeEngine(instance), OptionsError);
});

test('instance tags appear only while instanceMetadataTags is enabled', () => {
  const { engine } = makeEngine();
  assert.equal(engine.handle(get('/latest/meta-data/tags/instance/Name'), NOW_MS).status, 404);
  engine.setOptions({ instanceMetadataTags: 'enabled' });
  assert.equal(bodyText(engine.handle(get('/latest/meta-data/tags/instance/Name'), NOW_MS).body), 'imds-hop-default');
  engine.setOptions({ instanceMetadataTags: 'disabled' });
  assert.equal(engine.handle(get('/latest/meta-data/tags/instance/Name'), NOW_MS).status, 404);
});

test('endpoint disabled refuses everything, including the token PUT, until re-enabled', () => {
  const { engine, metrics } = makeEngine();
  const token = fetchToken(engine);
  engine.setOptions({ httpEndpoint: 'disabled' });
  assert.equal(engine.handle(tokenPut(), NOW_MS).status, 403);
  assert.equal(engine.handle(get('/latest/meta-data/', [['x-aws-ec2-metadata-token', token]]), NOW_MS).status, 403);
  assert.equal(metrics.count('token_requests_refused', { reason: 'endpoint-disabled' }), 1);
  engine.setOptions({ httpEndpoint: 'enabled' });
  assert.equal(engine.handle(get('/latest/meta-data/', [['x-aws-ec2-metadata-token', token]]), NOW_MS).status, 200);
});

test('required tokens: v1 refused and counted, v2 served and counted as role delivery 2.0', () => {
  const { engine, metrics } = makeEngine();
  engine.setOptions({ httpTokens: 'required' });
  assert.equal(engine.handle(get(ROLE_PATH), NOW_MS).status, 401);
  assert.equal(metrics.count('metadata_no_token_rejected'), 1);
  assert.equal(metrics.count('metadata_no_token'), 0);
  const token = fetchToken(engine);
  assert.equal(engine.handle(get(ROLE_PATH, [['x-aws-ec2-metadata-token', token]]), NOW_MS).status, 200);
  assert.equal(metrics.count('credentials_served', { role_delivery: '2.0' }), 1);
  assert.equal(metrics.count('tokens_issued'), 1);
  assert.equal(metrics.count('requests', { path_class: 'meta-data', status: '401' }), 1);
  assert.equal(metrics.count('requests', { path_class: 'token', status: '200' }), 1);
});

test('metrics: v1 answers, refused token requests and rejected tokens by reason', () => {
  const metrics = new RecordingMetrics();
  const { engine } = makeEngine(defaultInstance(), metrics);
  engine.handle(get(ROLE_PATH), NOW_MS);
  engine.handle(get('/latest/user-data'), NOW_MS);
  engine.handle(tokenPut('0'), NOW_MS);
  engine.handle(tokenPut('60', [['x-forwarded-for', '10.0.0.1']]), NOW_MS);
  engine.handle({ method: 'GET', target: '/latest/api/token', headers: [] }, NOW_MS);
  engine.handle(get('/', [['x-aws-ec2-metadata-token', 'garbage']]), NOW_MS);
  const token = fetchToken(engine, NOW_MS, '1');
  engine.handle(get('/', [['x-aws-ec2-metadata-token', token]]), NOW_MS + 5000);
  assert.equal(metrics.count('metadata_no_token'), 2);
  assert.equal(metrics.count('credentials_served', { role_delivery: '1.0' }), 1);
  assert.equal(metrics.count('token_requests_refused', { reason: 'bad-ttl' }), 1);
  assert.equal(metrics.count('token_requests_refused', { reason: 'x-forwarded-for' }), 1);
  assert.equal(metrics.count('token_requests_refused', { reason: 'method' }), 1);
  assert.equal(metrics.count('tokens_rejected', { reason: 'malformed' }), 1);
  assert.equal(metrics.count('tokens_rejected', { reason: 'expired' }), 1);
  assert.equal(metrics.count('requests', { path_class: 'user-data', status: '404' }), 1);
  assert.equal(metrics.count('requests', { path_class: 'versions', status: '401' }), 2);
  assert.ok(Object.keys(metrics.snapshot()).includes('requests{path_class="meta-data",status="200"}'));
});

test('a token from an engine for another instance id is refused with 401 and counted as forged', () => {
  const other = defaultInstance();
  other.instanceId = 'i-0fffffffffffffff0';
  const foreignToken = fetchToken(makeEngine(other).engine);
  const { engine, metrics } = makeEngine();
  assert.equal(
    engine.handle(get('/latest/meta-data/instance-id', [['x-aws-ec2-metadata-token', foreignToken]]), NOW_MS).status,
    401,
  );
  assert.equal(metrics.count('tokens_rejected', { reason: 'forged' }), 1);
});

test('the token never appears in any response header, only in the PUT body', () => {
  const { engine } = makeEngine();
  engine.setOptions({ httpTokens: 'required', instanceMetadataTags: 'enabled' });
  const put = engine.handle(tokenPut(), NOW_MS);
  const token = bodyText(put.body);
  const responses = [put];
  for (const path of [
    '/',
    '/latest/',
    '/latest/meta-data/',
    ROLE_PATH,
    '/latest/dynamic/instance-identity/document',
    '/nope',
  ]) {
    responses.push(engine.handle(get(path, [['x-aws-ec2-metadata-token', token]]), NOW_MS));
    responses.push(
      engine.handle({ method: 'POST', target: path, headers: [['x-aws-ec2-metadata-token', token]] }, NOW_MS),
    );
  }
  for (const response of responses) {
    for (const [name, value] of response.headers) assert.ok(!value.includes(token) && !name.includes(token));
  }
  for (const response of responses.slice(1)) assert.ok(!bodyText(response.body).includes(token));
});

test('token TTL header on GETs counts down; the token expires after its TTL', () => {
  const { engine } = makeEngine();
  const token = fetchToken(engine, NOW_MS, '120');
  const at = (ms: number) => engine.handle(get('/latest/meta-data/ami-id', [['x-aws-ec2-metadata-token', token]]), ms);
  assert.deepEqual(
    at(NOW_MS + 20_000).headers.find(([n]) => n === 'X-Aws-Ec2-Metadata-Token-Ttl-Seconds'),
    ['X-Aws-Ec2-Metadata-Token-Ttl-Seconds', '100'],
  );
  assert.equal(at(NOW_MS + 119_000).status, 200);
  assert.equal(at(NOW_MS + 120_000).status, 401);
});

test('only the token PUT 200 carries a hop limit', () => {
  const { engine } = makeEngine();
  engine.setOptions({ httpPutResponseHopLimit: 3 });
  assert.equal(engine.handle(tokenPut(), NOW_MS).hopLimit, 3);
  assert.equal(engine.handle(tokenPut('0'), NOW_MS).hopLimit, undefined);
  assert.equal(engine.handle(get('/latest/meta-data/'), NOW_MS).hopLimit, undefined);
});

test('optional categories: public keys, IPv6 addresses, product codes, user data bytes', () => {
  const instance = defaultInstance();
  instance.publicKeys = [{ name: 'lab-key', openSshKey: 'ssh-ed25519 AAAAC3Nz lab' }];
  instance.interfaces[0].ipv6s = ['2001:db8::10', '2001:db8::11'];
  instance.productCodes = ['3iplms73etrdhxdepv72l6ywj'];
  instance.userData = new Uint8Array([0, 1, 2, 255]);
  const { engine } = makeEngine(instance);
  const text = (path: string) => bodyText(engine.handle(get(path), NOW_MS).body);
  assert.equal(text('/latest/meta-data/public-keys/'), '0=lab-key');
  assert.equal(text('/latest/meta-data/public-keys/0/'), 'openssh-key');
  assert.equal(text('/latest/meta-data/public-keys/0/openssh-key'), 'ssh-ed25519 AAAAC3Nz lab');
  assert.equal(text('/latest/meta-data/network/interfaces/macs/0e:49:61:0f:c3:11/ipv6s'), '2001:db8::10\n2001:db8::11');
  assert.equal(text('/latest/meta-data/product-codes'), '3iplms73etrdhxdepv72l6ywj');
  assert.match(
    text('/latest/dynamic/instance-identity/document'),
    /"marketplaceProductCodes" : \[ "3iplms73etrdhxdepv72l6ywj" \],/,
  );
  const userData = engine.handle(get('/latest/user-data'), NOW_MS);
  assert.deepEqual(Buffer.from(userData.body as Uint8Array), Buffer.from([0, 1, 2, 255]));
});

test('the constructor refuses a tag key no path could reach, by the rule the config applies', () => {
  const instance = defaultInstance();
  instance.tags = { Name: 'web', 'team/ops': 'platform' };
  assert.throws(() => makeEngine(instance), /tag key must be letters, digits/);
});

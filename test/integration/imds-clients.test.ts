// Real IMDS clients against the appliance through its tap, with no endpoint override: the curl recipes from
// AWS's IMDSv2 documentation, the AWS SDK for JavaScript (@smithy/credential-provider-imds and
// @aws-sdk/ec2-metadata-service), Debian's python3-botocore, the AWS CLI's credential lookup and cloud-init's
// EC2 datasource crawl, under http-tokens optional and required, with Connection: close in effect (the default).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  Appliance,
  REPO_ROOT,
  SERVICE_ADDRESS,
  cleanupAll,
  createNamespace,
  imdsHop,
  inNamespace,
  run,
  skipUnlessRoot,
  sweepStaleNamespaces,
  temporaryDirectory,
} from './harness.ts';
import { writeFileSync } from 'node:fs';
import { defaultInstance } from '../../src/imds/instance.ts';

const BASE = `http://${SERVICE_ADDRESS}`;
const CLIENTS = join(REPO_ROOT, 'test/integration/clients');
const INSTANCE = defaultInstance();
const ROLE = INSTANCE.iamRole?.name as string;

async function curl(namespace: string, args: string[]) {
  return inNamespace(namespace, 'curl', ['-sS', '--max-time', '10', ...args]);
}

/** AWS's documented IMDSv2 recipe: a token with TTL 21600 by PUT, then a GET carrying it. */
async function documentedRecipe(namespace: string, path: string) {
  const put = await curl(namespace, [
    '-X',
    'PUT',
    `${BASE}/latest/api/token`,
    '-H',
    'X-aws-ec2-metadata-token-ttl-seconds: 21600',
  ]);
  assert.equal(put.code, 0, put.stderr);
  const get = await curl(namespace, [
    '-w',
    '\n%{http_code}',
    '-H',
    `X-aws-ec2-metadata-token: ${put.stdout}`,
    `${BASE}${path}`,
  ]);
  const lines = get.stdout.split('\n');
  return { status: lines.pop(), body: lines.join('\n'), token: put.stdout };
}

async function status(namespace: string, path: string, headers: string[] = []) {
  const result = await curl(namespace, [
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    ...headers.flatMap((h) => ['-H', h]),
    `${BASE}${path}`,
  ]);
  return result.stdout;
}

function metricValue(text: string, name: string): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
    .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

for (const httpTokens of ['optional', 'required'] as const) {
  describe(`real clients with http-tokens ${httpTokens}`, { skip: skipUnlessRoot }, () => {
    let namespace: string;
    let appliance: Appliance;

    before(async () => {
      sweepStaleNamespaces();
      namespace = createNamespace(httpTokens === 'optional' ? 'opt' : 'req');
      appliance = await Appliance.start(namespace, ['--http-tokens', httpTokens, '--log-level', 'info']);
    });

    after(async () => {
      await appliance?.stop();
      cleanupAll();
    });

    test('the documented curl recipe (token PUT, GET with the token) lists the metadata categories', async () => {
      const { status: code, body } = await documentedRecipe(namespace, '/latest/meta-data/');
      assert.equal(code, '200');
      for (const entry of ['ami-id', 'instance-id', 'iam/', 'network/', 'placement/']) {
        assert.ok(body.split('\n').includes(entry), `listing lacks ${entry}:\n${body}`);
      }
    });

    test(`a v1 GET (no token) is ${httpTokens === 'optional' ? 'served' : 'refused with 401'}`, async () => {
      assert.equal(await status(namespace, '/latest/meta-data/instance-id'), httpTokens === 'optional' ? '200' : '401');
    });

    test('@smithy/credential-provider-imds fromInstanceMetadata() returns the role credentials', async () => {
      const result = await inNamespace(namespace, process.execPath, [join(CLIENTS, 'smithy-credentials.mjs')]);
      assert.equal(result.code, 0, result.stderr);
      const credentials = JSON.parse(result.stdout.trim());
      assert.match(credentials.accessKeyId, /^ASIA[A-Z0-9]{16}$/);
      assert.equal(credentials.hasSecret, true);
      assert.equal(credentials.hasSessionToken, true);
      assert.ok(Date.parse(credentials.expiration) > Date.now(), 'credentials already expired');
    });

    test('@aws-sdk/ec2-metadata-service reads the instance id with a token', async () => {
      const result = await inNamespace(namespace, process.execPath, [
        join(CLIENTS, 'ec2-metadata-service.mjs'),
        '/latest/meta-data/instance-id',
        'v1-disabled',
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), { value: INSTANCE.instanceId });
    });

    test("Debian's python3-botocore InstanceMetadataFetcher returns credentials and the region", async () => {
      const result = await inNamespace(namespace, '/usr/bin/python3', [join(CLIENTS, 'botocore-fetch.py')], 30_000);
      assert.equal(result.code, 0, result.stderr);
      const fetched = JSON.parse(result.stdout.trim());
      assert.equal(fetched.role_name, ROLE);
      assert.match(fetched.access_key, /^ASIA/);
      assert.equal(fetched.has_secret, true);
      assert.equal(fetched.has_token, true);
      assert.equal(fetched.region, INSTANCE.region);
    });

    test("Debian's AWS CLI finds the role credentials through IMDS (aws configure export-credentials)", async () => {
      const home = temporaryDirectory();
      const result = await inNamespace(
        namespace,
        'env',
        [
          '-i',
          `HOME=${home}`,
          'PATH=/usr/bin:/bin',
          'AWS_DEFAULT_REGION=us-east-1',
          '/usr/bin/aws',
          'configure',
          'export-credentials',
          '--format',
          'process',
        ],
        60_000,
      );
      assert.equal(result.code, 0, result.stderr);
      const exported = JSON.parse(result.stdout);
      assert.equal(exported.Version, 1);
      assert.match(exported.AccessKeyId, /^ASIA[A-Z2-7]{16}$/);
      assert.ok(exported.SecretAccessKey.length >= 40 && exported.SessionToken.length > 0);
      assert.ok(Date.parse(exported.Expiration) > Date.now());
      const listed = await inNamespace(
        namespace,
        'env',
        ['-i', `HOME=${home}`, 'PATH=/usr/bin:/bin', '/usr/bin/aws', 'configure', 'list'],
        60_000,
      );
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /access_key\s+\*+[A-Z0-9]{4}\s+iam-role/);
    });

    test("Debian's cloud-init EC2 helper crawls meta-data and the identity document with a token", async () => {
      const result = await inNamespace(namespace, '/usr/bin/python3', [join(CLIENTS, 'cloud-init-crawl.py')], 120_000);
      assert.equal(result.code, 0, result.stderr);
      const crawled = JSON.parse(result.stdout.trim().split('\n').pop() as string);
      assert.equal(crawled.token_mode, 'v2', result.stderr);
      assert.equal(crawled.instance_id, INSTANCE.instanceId);
      assert.equal(crawled.local_ipv4, INSTANCE.interfaces[0]?.localIpv4s[0]);
      assert.deepEqual(crawled.macs, [INSTANCE.interfaces[0]?.mac]);
      assert.equal(crawled.iam_info?.InstanceProfileArn, INSTANCE.iamRole?.instanceProfileArn);
      assert.equal(crawled.identity_region, INSTANCE.region);
      assert.equal(crawled.identity_instance_id, INSTANCE.instanceId);
      // cloud-init's materializer turns "0=imds-hop-key" into a key named after the listing entry.
      assert.match(JSON.stringify(crawled.public_keys), /ssh-ed25519 AAAA[^"]+ imds-hop-key/);
    });

    test('every response of a real instance is sent with Connection: close, and the connection ends', async () => {
      const verbose = await curl(namespace, [
        '-v',
        '-o',
        '/dev/null',
        '-H',
        'X-aws-ec2-metadata-token: x',
        `${BASE}/latest/meta-data/instance-id`,
      ]);
      assert.match(verbose.stderr, /< Server: EC2ws\r?\n< Connection: close/);
      assert.match(verbose.stderr, /Closing connection/);
    });

    test('the metrics endpoint counts what happened, and never the token', async () => {
      const scraped = await inNamespace(namespace, 'curl', ['-sS', '--max-time', '5', 'http://127.0.0.1:9469/metrics']);
      assert.equal(scraped.code, 0, scraped.stderr);
      assert.ok(metricValue(scraped.stdout, 'imds_hop_tokens_issued_total') >= 3, scraped.stdout);
      if (httpTokens === 'optional') assert.ok(metricValue(scraped.stdout, 'imds_hop_metadata_no_token_total') >= 1);
      else assert.ok(metricValue(scraped.stdout, 'imds_hop_metadata_no_token_rejected_total') >= 1);
    });
  });
}

describe('changing a running appliance with imds-hop options and events', { skip: skipUnlessRoot }, () => {
  let namespace: string;
  let appliance: Appliance;
  const control = () => ['--interface', appliance.interfaceName];

  before(async () => {
    sweepStaleNamespaces();
    namespace = createNamespace('ctl');
    appliance = await Appliance.start(namespace, ['--log-level', 'info']);
  });

  after(async () => {
    await appliance?.stop();
    cleanupAll();
  });

  test('--http-tokens required flips the next v1 GET to 401 and MetadataNoTokenRejected rises', async () => {
    assert.equal(await status(namespace, '/latest/meta-data/instance-id'), '200');
    const metricsBefore = await imdsHop(['metrics', ...control()]);
    assert.equal(metricsBefore.code, 0, metricsBefore.stderr);
    const rejectedBefore = metricValue(metricsBefore.stdout, 'imds_hop_metadata_no_token_rejected_total');

    const changed = await imdsHop(['options', ...control(), '--http-tokens', 'required']);
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal(JSON.parse(changed.stdout).InstanceMetadataOptions.HttpTokens, 'required');
    await appliance.waitFor((r) => r.msg === 'metadata options changed');

    assert.equal(await status(namespace, '/latest/meta-data/instance-id'), '401');
    const metricsAfter = await imdsHop(['metrics', ...control()]);
    assert.equal(metricValue(metricsAfter.stdout, 'imds_hop_metadata_no_token_rejected_total'), rejectedBefore + 1);
    // IMDSv2 still works.
    assert.equal((await documentedRecipe(namespace, '/latest/meta-data/instance-id')).body, INSTANCE.instanceId);

    const restored = await imdsHop(['options', ...control(), '--http-tokens', 'optional']);
    assert.equal(restored.code, 0, restored.stderr);
    assert.equal(await status(namespace, '/latest/meta-data/instance-id'), '200');
  });

  test('a bad option value is refused with a clear error and changes nothing', async () => {
    const refused = await imdsHop(['options', ...control(), '--hop-limit', '65']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /1 to 64/);
    const shown = await imdsHop(['options', ...control()]);
    assert.equal(JSON.parse(shown.stdout).InstanceMetadataOptions.HttpPutResponseHopLimit, 1);
  });

  test('a spot interruption and a rebalance recommendation appear in the metadata', async () => {
    assert.equal(await status(namespace, '/latest/meta-data/spot/instance-action'), '404');
    const spot = await imdsHop(['events', 'spot-interruption', ...control(), '--action', 'stop']);
    assert.equal(spot.code, 0, spot.stderr);
    const action = await curl(namespace, [`${BASE}/latest/meta-data/spot/instance-action`]);
    const parsed = JSON.parse(action.stdout);
    assert.equal(parsed.action, 'stop');
    assert.ok(Date.parse(parsed.time) > Date.now());

    assert.equal((await imdsHop(['events', 'rebalance', ...control()])).code, 0);
    const rebalance = await curl(namespace, [`${BASE}/latest/meta-data/events/recommendations/rebalance`]);
    assert.ok(Date.parse(JSON.parse(rebalance.stdout).noticeTime) <= Date.now());

    assert.equal((await imdsHop(['events', 'clear', ...control()])).code, 0);
    assert.equal(await status(namespace, '/latest/meta-data/spot/instance-action'), '404');
  });

  test('SDKs keep working across a credential rotation and pick up the new keys', async () => {
    const smithy = join(CLIENTS, 'smithy-credentials.mjs');
    const before = await inNamespace(namespace, process.execPath, [smithy]);
    assert.equal(before.code, 0, before.stderr);
    const rotated = await imdsHop(['credentials', 'rotate', ...control()]);
    assert.equal(rotated.code, 0, rotated.stderr);
    const announced = JSON.parse(rotated.stdout);
    assert.match(announced.accessKeyId, /^ASIA/);
    const after = await inNamespace(namespace, process.execPath, [smithy]);
    assert.equal(after.code, 0, after.stderr);
    const [first, second] = [JSON.parse(before.stdout.trim()), JSON.parse(after.stdout.trim())];
    assert.notEqual(second.accessKeyId, first.accessKeyId);
    assert.equal(second.accessKeyId, announced.accessKeyId);
    const boto = await inNamespace(namespace, '/usr/bin/python3', [join(CLIENTS, 'botocore-fetch.py')], 30_000);
    assert.equal(boto.code, 0, boto.stderr);
    assert.equal(JSON.parse(boto.stdout.trim()).access_key, announced.accessKeyId);
    // The rotation was logged (with the public key id), and neither the secret nor the session token was.
    const served = JSON.parse(
      (await curl(namespace, [`${BASE}/latest/meta-data/iam/security-credentials/${ROLE}`])).stdout,
    );
    assert.equal(served.AccessKeyId, announced.accessKeyId);
    await appliance.waitFor((r) => r.msg === 'role credentials rotated');
    const logged = JSON.stringify(appliance.records);
    assert.ok(logged.includes(announced.accessKeyId));
    assert.ok(!logged.includes(served.SecretAccessKey), 'the secret key appears in the log');
    assert.ok(!logged.includes(served.Token.slice(0, 40)), 'the session token appears in the log');
  });

  test("the three identity signatures verify with the certificates identity-cert --kind prints, by AWS's recipes", async () => {
    const work = temporaryDirectory();
    for (const kind of ['signature', 'pkcs7', 'rsa2048', 'ca']) {
      const cert = await imdsHop(['identity-cert', ...control(), '--kind', kind]);
      assert.equal(cert.code, 0, cert.stderr);
      assert.match(cert.stdout, /^-----BEGIN CERTIFICATE-----/);
      writeFileSync(join(work, `cert-${kind}`), cert.stdout);
    }
    const document = await curl(namespace, [`${BASE}/latest/dynamic/instance-identity/document`]);
    assert.equal(JSON.parse(document.stdout).instanceId, INSTANCE.instanceId);
    writeFileSync(join(work, 'document'), document.stdout);
    for (const kind of ['pkcs7', 'rsa2048']) {
      const served = await curl(namespace, [`${BASE}/latest/dynamic/instance-identity/${kind}`]);
      // AWS's page: echo BEGIN >> FILE && curl … >> FILE && echo "" >> FILE && echo END >> FILE
      writeFileSync(join(work, kind), `-----BEGIN PKCS7-----\n${served.stdout}\n-----END PKCS7-----\n`);
      const verified = await run('openssl', [
        'smime',
        '-verify',
        '-in',
        join(work, kind),
        '-inform',
        'PEM',
        '-certfile',
        join(work, `cert-${kind}`),
        '-noverify',
      ]);
      assert.equal(verified.code, 0, `${kind}: ${verified.stderr}`);
      assert.match(verified.stderr, /Verification successful/);
      assert.equal(verified.stdout, document.stdout, `${kind} carries the document`);
    }
    const signature = await curl(namespace, [`${BASE}/latest/dynamic/instance-identity/signature`]);
    writeFileSync(join(work, 'signature'), Buffer.from(signature.stdout, 'base64'));
    const key = await run('openssl', ['x509', '-pubkey', '-noout', '-in', join(work, 'cert-signature')]);
    writeFileSync(join(work, 'key'), key.stdout);
    const verified = await run('openssl', [
      'dgst',
      '-sha256',
      '-verify',
      join(work, 'key'),
      '-signature',
      join(work, 'signature'),
      join(work, 'document'),
    ]);
    assert.equal(verified.code, 0, verified.stderr);
    assert.equal(verified.stdout, 'Verified OK\n');
    const chain = await run('openssl', [
      'verify',
      '-CAfile',
      join(work, 'cert-ca'),
      join(work, 'cert-signature'),
      join(work, 'cert-pkcs7'),
      join(work, 'cert-rsa2048'),
    ]);
    assert.equal(chain.code, 0, chain.stdout + chain.stderr);
  });

  test('imds-hop options against no running appliance says so', async () => {
    const missing = await imdsHop(['options', '--interface', 'ih-not-running']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no imds-hop is running .*\[NOT_RUNNING\]/);
  });
});

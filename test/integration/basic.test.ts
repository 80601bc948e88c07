// The appliance on its tap inside a namespace, with the kernel's own TCP stack as the client: curl and Node's
// http module fetch from 169.254.169.254 exactly as they would on EC2.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
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
  runSync,
  skipUnlessRoot,
  sweepStaleNamespaces,
  temporaryDirectory,
} from './harness.ts';

const BASE = `http://${SERVICE_ADDRESS}`;
const HTTP_CLIENT = join(REPO_ROOT, 'test/integration/clients/http-client.mjs');

describe('serving the kernel TCP stack through the tap', { skip: skipUnlessRoot }, () => {
  let namespace: string;
  let appliance: Appliance;
  let userData: Buffer;
  let workDir: string;

  before(async () => {
    sweepStaleNamespaces();
    workDir = temporaryDirectory();
    userData = randomBytes(64 * 1024);
    writeFileSync(join(workDir, 'user-data'), userData);
    namespace = createNamespace('inst');
    appliance = await Appliance.start(namespace, ['--user-data-file', join(workDir, 'user-data')]);
  });

  after(async () => {
    await appliance?.stop();
    cleanupAll();
  });

  test('curl gets the versions list and a metadata leaf', async () => {
    const versions = await inNamespace(namespace, 'curl', ['-sS', '--max-time', '10', '-i', `${BASE}/`]);
    assert.equal(versions.code, 0, versions.stderr);
    assert.match(versions.stdout, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(versions.stdout, /\r\nServer: EC2ws\r\n/);
    assert.match(versions.stdout, /\nlatest$/);
    const leaf = await inNamespace(namespace, 'curl', [
      '-sS',
      '--max-time',
      '10',
      `${BASE}/latest/meta-data/instance-type`,
    ]);
    assert.equal(leaf.code, 0, leaf.stderr);
    assert.equal(leaf.stdout, 't3.micro');
  });

  test('the IMDSv2 flow works locally: token by PUT, then GET with the token', async () => {
    const put = await inNamespace(namespace, 'curl', [
      '-sS',
      '--max-time',
      '10',
      '-X',
      'PUT',
      `${BASE}/latest/api/token`,
      '-H',
      'X-aws-ec2-metadata-token-ttl-seconds: 21600',
    ]);
    assert.equal(put.code, 0, put.stderr);
    const token = put.stdout;
    assert.ok(token.length >= 32, `token looks too short: ${token.length} chars`);
    const get = await inNamespace(namespace, 'curl', [
      '-sS',
      '--max-time',
      '10',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-H',
      `X-aws-ec2-metadata-token: ${token}`,
      `${BASE}/latest/meta-data/instance-id`,
    ]);
    assert.equal(get.stdout, '200');
    const forged = await inNamespace(namespace, 'curl', [
      '-sS',
      '--max-time',
      '10',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-H',
      `X-aws-ec2-metadata-token: ${token.slice(0, -4)}AAAA`,
      `${BASE}/latest/meta-data/instance-id`,
    ]);
    assert.equal(forged.stdout, '401');
    // The appliance logs every request at debug level here; the token must appear in none of it.
    await appliance.counters(); // a log round trip, so every record of the exchange has been read
    const logged = JSON.stringify(appliance.records) + appliance.stderrLines.join('\n');
    assert.ok(!logged.includes(token), 'the token appears in the log');
    assert.ok(!logged.includes(token.slice(0, 20)), 'part of the token appears in the log');
  });

  test('imds-hop status shows the instance, its options and the requests and token served so far', async () => {
    const json = await imdsHop(['status', '--interface', appliance.interfaceName, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const status = JSON.parse(json.stdout) as {
      instanceId: string;
      interface: string;
      backend: string;
      options: { httpPutResponseHopLimit: number };
      imds: Record<string, number>;
      memory: { rssBytes: number; peakRssBytes: number; heapUsedBytes: number; heapSpaces: Record<string, unknown> };
    };
    assert.equal(status.interface, appliance.interfaceName);
    // The appliance's own memory, as the kernel and V8 count it: plausible, not a placeholder.
    assert.ok(status.memory.rssBytes > 20 * 1_048_576 && status.memory.rssBytes < 1024 * 1_048_576, json.stdout);
    assert.ok(status.memory.peakRssBytes >= status.memory.rssBytes * 0.9, json.stdout);
    assert.ok(status.memory.heapUsedBytes > 0 && 'new_space' in status.memory.heapSpaces, json.stdout);
    assert.equal(status.backend, 'tap');
    assert.match(status.instanceId, /^i-[0-9a-f]+$/);
    assert.equal(status.options.httpPutResponseHopLimit, 1);
    assert.ok((status.imds.tokens_issued ?? 0) >= 1, `tokens issued: ${status.imds.tokens_issued}`);
    assert.ok((status.imds.requests ?? 0) >= 4, `requests: ${status.imds.requests}`);
    const text = await imdsHop(['status', '--interface', appliance.interfaceName]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^instance +${status.instanceId}\n`));
    assert.match(text.stdout, /\nhop limit +1\n/);
    assert.match(text.stdout, /\nevents +none\n/);
    assert.match(
      text.stdout,
      /\nmemory +rss \d+\.\d MiB \(peak \d+\.\d MiB; own \d+\.\d MiB, mapped files \d+\.\d MiB\), heap /,
    );
  });

  test('100 sequential requests from node:http all succeed, one connection each', async () => {
    const result = await inNamespace(namespace, process.execPath, [
      HTTP_CLIENT,
      'sequential',
      '100',
      `${BASE}/latest/meta-data/ami-id`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.deepEqual(summary.errors, []);
    assert.equal(summary.ok, 100);
    assert.equal(summary.sockets, 100);
  });

  test('50 concurrent requests from node:http all succeed', async () => {
    const result = await inNamespace(namespace, process.execPath, [
      HTTP_CLIENT,
      'concurrent',
      '50',
      `${BASE}/latest/meta-data/`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.deepEqual(summary.errors, []);
    assert.equal(summary.ok, 50);
  });

  test('Connection: close (the default, as EC2): a keep-alive client gets all 30 answers, one connection each', async () => {
    const result = await inNamespace(namespace, process.execPath, [
      HTTP_CLIENT,
      'keep-alive',
      '30',
      `${BASE}/latest/meta-data/instance-type`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.deepEqual(summary.errors, []);
    assert.equal(summary.ok, 30);
    assert.equal(summary.sockets, 30);
  });

  test('a 64 KiB response (user-data) arrives intact', async () => {
    const output = join(workDir, 'fetched');
    const result = await inNamespace(namespace, 'curl', [
      '-sS',
      '--max-time',
      '20',
      '-o',
      output,
      '-w',
      '%{http_code}',
      `${BASE}/latest/user-data`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '200');
    const fetched = readFileSync(output);
    assert.equal(fetched.length, userData.length);
    assert.equal(
      createHash('sha256').update(fetched).digest('hex'),
      createHash('sha256').update(userData).digest('hex'),
    );
  });

  test('ping to the service address is answered', async () => {
    const result = await inNamespace(namespace, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', SERVICE_ADDRESS]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /3 received/);
  });

  test('SIGTERM removes the route and the tap', async () => {
    const routesBefore = runSync('ip', ['-n', namespace, 'route', 'show', 'table', 'main']);
    assert.match(routesBefore, new RegExp(`${SERVICE_ADDRESS.replaceAll('.', '\\.')} dev ${appliance.interfaceName}`));
    const code = await appliance.stop();
    assert.equal(code, 0);
    const links = runSync('ip', ['-n', namespace, '-o', 'link', 'show']);
    assert.doesNotMatch(links, new RegExp(appliance.interfaceName));
    const routesAfter = runSync('ip', ['-n', namespace, 'route', 'show', 'table', 'main']);
    assert.doesNotMatch(routesAfter, new RegExp(SERVICE_ADDRESS.replaceAll('.', '\\.')));
    assert.ok(
      appliance.records.some((r) => r.msg.startsWith('stopped')),
      'no "stopped" log record',
    );
  });
});

describe('serve --connection keep-alive', { skip: skipUnlessRoot }, () => {
  let namespace: string;
  let appliance: Appliance;

  before(async () => {
    sweepStaleNamespaces();
    namespace = createNamespace('keep');
    appliance = await Appliance.start(namespace, ['--connection', 'keep-alive']);
  });

  after(async () => {
    await appliance?.stop();
    cleanupAll();
  });

  test('keep-alive (opt-in): 30 requests travel over a single connection', async () => {
    const result = await inNamespace(namespace, process.execPath, [
      HTTP_CLIENT,
      'keep-alive',
      '30',
      `${BASE}/latest/meta-data/instance-type`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.deepEqual(summary.errors, []);
    assert.equal(summary.ok, 30);
    assert.equal(summary.sockets, 1);
  });
});

// The IPv6 endpoint fd00:ec2::254 through the tap, with the kernel's IPv6 and TCP as the client: served while
// httpProtocolIpv6 is enabled (switched live through the control socket), silent once it is disabled.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readIpv6TcpFrames, startCapture } from './capture.ts';
import {
  Appliance,
  cleanupAll,
  createNamespace,
  imdsHop,
  inNamespace,
  runSync,
  skipUnlessRoot,
  sumCounters,
  sweepStaleNamespaces,
  temporaryDirectory,
  uniqueName,
} from './harness.ts';

const BASE6 = 'http://[fd00:ec2::254]';

describe('the IPv6 endpoint through the tap', { skip: skipUnlessRoot }, () => {
  let namespace: string;
  let appliance: Appliance;
  const setIpv6 = async (state: 'enabled' | 'disabled') => {
    const set = await imdsHop(['options', '--interface', appliance.interfaceName, '--http-protocol-ipv6', state]);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, new RegExp(`HttpProtocolIpv6.*${state}`));
  };

  before(async () => {
    sweepStaleNamespaces();
    namespace = createNamespace('v6');
    // A new namespace may start with IPv6 off; this one is ours, so turn it on.
    if (runSync('ip', ['netns', 'exec', namespace, 'sysctl', '-n', 'net.ipv6.conf.all.disable_ipv6']).trim() !== '0') {
      runSync('ip', ['netns', 'exec', namespace, 'sysctl', '-w', 'net.ipv6.conf.all.disable_ipv6=0']);
    }
    appliance = await Appliance.start(namespace, ['--log-level', 'info']);
  });

  after(async () => {
    await appliance?.stop();
    cleanupAll();
  });

  test('the instance side has fd00:ec2::253 and a route to fd00:ec2::254 through the tap', async () => {
    const route = await inNamespace(namespace, 'ip', ['-6', 'route', 'get', 'fd00:ec2::254']);
    assert.equal(route.code, 0, route.stderr);
    assert.match(route.stdout, new RegExp(`dev ${appliance.interfaceName}`));
    assert.match(route.stdout, /src fd00:ec2::253/);
  });

  test('enabled: curl -6 gets a metadata leaf and the IMDSv2 token flow works', async () => {
    await setIpv6('enabled');
    const leaf = await inNamespace(namespace, 'curl', [
      '-g',
      '-6',
      '-sS',
      '--max-time',
      '10',
      `${BASE6}/latest/meta-data/instance-id`,
    ]);
    assert.equal(leaf.code, 0, leaf.stderr);
    assert.match(leaf.stdout, /^i-[0-9a-f]+$/);

    const before = await appliance.counters();
    const file = join(temporaryDirectory(), 'ipv6-token.pcap');
    const capture = await startCapture(namespace, appliance.interfaceName, file);
    const put = await inNamespace(namespace, 'curl', [
      '-g',
      '-6',
      '-sS',
      '--max-time',
      '10',
      '-X',
      'PUT',
      `${BASE6}/latest/api/token`,
      '-H',
      'X-aws-ec2-metadata-token-ttl-seconds: 21600',
    ]);
    assert.equal(put.code, 0, put.stderr);
    await capture.stop();
    const token = put.stdout;
    assert.ok(token.length >= 32, `token looks too short: ${token.length} chars`);
    const fromService = (await readIpv6TcpFrames(file)).filter((f) => f.src === 'fd00:ec2::254');
    const tokenFrames = fromService.filter(
      (f) => f.payload.includes(token.slice(0, 16)) || /^HTTP\/1\.1 200/.test(f.payload),
    );
    assert.ok(tokenFrames.length > 0, 'the token response is in the capture');
    for (const frame of tokenFrames)
      assert.equal(frame.hopLimit, 1, 'token-bearing frames leave with Hop Limit = the hop limit');
    assert.ok(
      fromService.filter((f) => f.payload === '').every((f) => f.hopLimit === 64),
      'bare segments leave with 64',
    );
    // The SYN-ACK advertises what fits a 1500-byte link under a 40-byte IPv6 header: 1440, not IPv4's 1460.
    assert.deepEqual([...new Set(fromService.filter((f) => f.mss !== undefined).map((f) => f.mss))], [1440]);
    const get = await inNamespace(namespace, 'curl', [
      '-g',
      '-6',
      '-sS',
      '--max-time',
      '10',
      '-w',
      '\n%{http_code}',
      '-H',
      `X-aws-ec2-metadata-token: ${token}`,
      `${BASE6}/latest/meta-data/instance-id`,
    ]);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /^i-[0-9a-f]+\n200$/);
    const counters = await appliance.counters();
    assert.ok((counters['ndp-advertisements'] ?? 0) >= 1, 'the kernel found the endpoint by neighbor discovery');
    assert.equal((counters['http-hop-limited-responses'] ?? 0) - (before['http-hop-limited-responses'] ?? 0), 1);
  });

  test('ping -6 is answered', async () => {
    const ping = await inNamespace(namespace, 'ping', ['-6', '-c', '1', '-W', '3', 'fd00:ec2::254']);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  });

  test("one router further, the kernel's ICMPv6 time-exceeded for the token response is logged as dying at hop 1", async () => {
    // [far ns] --veth fd00:ec2:1::/64-- [instance ns: forwards IPv6] --tap-- imds-hop (hop limit 1)
    const far = createNamespace('far6');
    const routerSide = uniqueName('vr');
    const farSide = uniqueName('vf');
    runSync('ip', [
      'link',
      'add',
      routerSide,
      'netns',
      namespace,
      'type',
      'veth',
      'peer',
      'name',
      farSide,
      'netns',
      far,
    ]);
    for (const [ns, device, address] of [
      [namespace, routerSide, 'fd00:ec2:1::1'],
      [far, farSide, 'fd00:ec2:1::2'],
    ] as const) {
      runSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=0']);
      runSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv6.conf.${device}.accept_dad=0`]);
      runSync('ip', ['-n', ns, '-6', 'address', 'add', `${address}/64`, 'dev', device, 'nodad']);
      runSync('ip', ['-n', ns, 'link', 'set', device, 'up']);
    }
    runSync('ip', ['netns', 'exec', namespace, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
    runSync('ip', ['-n', far, '-6', 'route', 'add', 'fd00:ec2::254/128', 'via', 'fd00:ec2:1::1']);

    const since = appliance.records.length;
    const before = await appliance.counters();
    // Metadata still reaches the far client (default hop limit); the token cannot (hop limit 1).
    const leaf = await inNamespace(far, 'curl', [
      '-g',
      '-6',
      '-sS',
      '--max-time',
      '10',
      `${BASE6}/latest/meta-data/instance-id`,
    ]);
    assert.equal(leaf.code, 0, leaf.stderr);
    const put = await inNamespace(far, 'curl', [
      '-g',
      '-6',
      '-sS',
      '--max-time',
      '3',
      '-X',
      'PUT',
      '-H',
      'X-aws-ec2-metadata-token-ttl-seconds: 60',
      `${BASE6}/latest/api/token`,
    ]);
    assert.notEqual(put.code, 0, `the far client must not get a token: ${put.stdout}`);
    assert.equal(put.stdout, '');

    const died = await appliance.waitFor(
      (r) => r.msg === 'token response died at hop 1: the hop limit stopped it at a router',
      5000,
      since,
    );
    assert.equal(died.router, 'fd00:ec2::253', 'the router is the instance namespace, answering from its tap address');
    assert.equal(died.client, 'fd00:ec2:1::2');
    assert.equal(died.sentHopLimit, 1);
    const after = await appliance.counters();
    assert.ok(
      sumCounters(after, 'token-responses-died-in-transit') > sumCounters(before, 'token-responses-died-in-transit'),
      'counted as a token response that died in transit',
    );
  });

  test('disabled: IPv6 requests time out and are counted; IPv4 keeps working', async () => {
    await setIpv6('disabled');
    const before = sumCounters(await appliance.counters(), 'frames-dropped-ipv6-disabled');
    const leaf = await inNamespace(namespace, 'curl', [
      '-g',
      '-6',
      '-sS',
      '--max-time',
      '3',
      `${BASE6}/latest/meta-data/instance-id`,
    ]);
    assert.equal(leaf.code, 28, `curl should time out (exit 28), got ${leaf.code}: ${leaf.stdout}${leaf.stderr}`);
    const after = sumCounters(await appliance.counters(), 'frames-dropped-ipv6-disabled');
    assert.ok(after > before, 'the dropped IPv6 frames are counted');
    const v4 = await inNamespace(namespace, 'curl', [
      '-sS',
      '--max-time',
      '10',
      'http://169.254.169.254/latest/meta-data/instance-id',
    ]);
    assert.equal(v4.code, 0, v4.stderr);
    await setIpv6('enabled');
    const again = await inNamespace(namespace, 'curl', [
      '-g',
      '-6',
      '-sS',
      '--max-time',
      '10',
      `${BASE6}/latest/meta-data/instance-id`,
    ]);
    assert.equal(again.code, 0, again.stderr);
  });
});

// One suite, run against both link backends. Each backend gets a topology with a client next to the appliance
// and a "far" client one router further, and the same cases run on both: real clients get metadata, the token
// response leaves with TTL = hop limit, and the far client gets no token with hop limit 1 but does with 2.
//
// tap:   [far ns] --veth-- [instance ns: forwards] --tap-- imds-hop          (client = the instance ns itself)
//          198.18.1.2        198.18.1.1                     fd00:ec2::253 (set by imds-hop on the tap)
// pcap:  [far ns] --veth-- [client ns: forwards] --veth-- [appliance ns: imds-hop captures on its veth end]
//          198.18.1.2        198.18.1.1  198.18.0.2          198.18.0.1 (owns no 169.254.169.254: stays silent)
//                                        fd00:ec2::253/64    (IPv6 off in the appliance ns: its kernel owns nothing)
// The IPv6 endpoint fd00:ec2::254 is reached on-link from the client on both.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  Appliance,
  REPO_ROOT,
  SERVICE_ADDRESS,
  cleanupAll,
  connectNamespaces,
  createNamespace,
  imdsHop,
  inNamespace,
  keepArtifact,
  runSync,
  skipUnlessRoot,
  sweepStaleNamespaces,
  temporaryDirectory,
  uniqueName,
} from './harness.ts';
import { clientKey, connectionsOpenedIn } from '../../src/lab/capture-assertions.ts';
import { payloadText, readIpv4Frames, readIpv6TcpFrames, startCapture, type CapturedFrame } from './capture.ts';
import { parseIpv4Address, parseQuotedDatagram } from '../../src/wire/index.ts';
import { defaultInstance } from '../../src/imds/instance.ts';

const BASE = `http://${SERVICE_ADDRESS}`;
const SERVICE_ADDRESS6 = 'fd00:ec2::254';
const BASE6 = `http://[${SERVICE_ADDRESS6}]`;
const SERVICE = parseIpv4Address(SERVICE_ADDRESS);
const TOKEN_RESPONSE_MARK = 'X-Aws-Ec2-Metadata-Token-Ttl-Seconds';
const INSTANCE = defaultInstance();

interface Topology {
  /** Namespace of the client next to the appliance. */
  client: string;
  /** Namespace one router beyond the client. */
  far: string;
  appliance: Appliance;
  /** Where to capture the appliance's own frames: its namespace and device. */
  captureAt: { namespace: string; device: string };
  /** Address of the appliance namespace's kernel on the link (pcap only): it must never speak for the service. */
  silentKernelAddress?: string;
}

function forwardFor(router: string, far: string, routerDevice: string, farDevice: string): void {
  connectNamespaces(
    { namespace: router, device: routerDevice, address: '198.18.1.1' },
    { namespace: far, device: farDevice, address: '198.18.1.2' },
  );
  runSync('ip', ['netns', 'exec', router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  runSync('ip', ['-n', far, 'route', 'add', `${SERVICE_ADDRESS}/32`, 'via', '198.18.1.1']);
}

const BACKENDS: Record<'tap' | 'pcap', () => Promise<Topology>> = {
  async tap() {
    const instance = createNamespace('inst');
    const far = createNamespace('far');
    forwardFor(instance, far, uniqueName('vr'), uniqueName('vf'));
    // imds-hop gives the tap fd00:ec2::253 when the namespace has IPv6 on; a new namespace may start with it off.
    runSync('ip', ['netns', 'exec', instance, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=0']);
    const appliance = await Appliance.start(instance, ['--log-level', 'info']);
    return { client: instance, far, appliance, captureAt: { namespace: instance, device: appliance.interfaceName } };
  },
  async pcap() {
    const service = createNamespace('svc');
    const client = createNamespace('cli');
    const far = createNamespace('far');
    const serviceDevice = uniqueName('vs');
    const clientDevice = uniqueName('vc');
    connectNamespaces(
      { namespace: service, device: serviceDevice, address: '198.18.0.1' },
      { namespace: client, device: clientDevice, address: '198.18.0.2' },
    );
    // The client reaches the service address on-link over the veth, as an instance reaches the real IMDS.
    runSync('ip', ['-n', client, 'route', 'add', `${SERVICE_ADDRESS}/32`, 'dev', clientDevice]);
    // And the IPv6 endpoint the same way: the client's kernel finds it by neighbor discovery on the veth.
    for (const setting of ['all.disable_ipv6=0', `${clientDevice}.disable_ipv6=0`, `${clientDevice}.accept_dad=0`]) {
      runSync('ip', ['netns', 'exec', client, 'sysctl', '-qw', `net.ipv6.conf.${setting}`]);
    }
    runSync('ip', ['-n', client, '-6', 'address', 'add', 'fd00:ec2::253/128', 'dev', clientDevice, 'nodad']);
    runSync('ip', ['-n', client, '-6', 'route', 'add', `${SERVICE_ADDRESS6}/128`, 'dev', clientDevice]);
    forwardFor(client, far, uniqueName('vr'), uniqueName('vf'));
    // The appliance's raw-socket replies to the far client are routed back through the client namespace.
    runSync('ip', ['-n', service, 'route', 'add', '198.18.1.0/24', 'via', '198.18.0.2']);
    const appliance = await Appliance.start(service, ['--backend', 'pcap', '--log-level', 'info'], serviceDevice);
    return {
      client,
      far,
      appliance,
      captureAt: { namespace: service, device: serviceDevice },
      silentKernelAddress: '198.18.0.1',
    };
  },
};

function tokenResponseFrames(frames: CapturedFrame[]): CapturedFrame[] {
  return frames.filter((f) => f.ip.src === SERVICE && payloadText(f).includes(TOKEN_RESPONSE_MARK));
}

/**
 * Frames of connections whose SYN this capture saw (a time-exceeded report by the packet it quotes), and every
 * other non-TCP frame. A previous step's dying token response is still retransmitted at that step's hop limit
 * until the send timeout; it belongs to that step, not to this capture.
 */
function ofThisCapture(frames: CapturedFrame[]): CapturedFrame[] {
  const opened = connectionsOpenedIn(frames);
  return frames.filter((f) => {
    if (f.icmp?.kind === 'time-exceeded') {
      // The router's report quotes the packet that died: it belongs to that packet's connection.
      const quoted = parseQuotedDatagram(f.icmp.original);
      return (
        !quoted.ok || quoted.value.src !== SERVICE || opened.has(clientKey(quoted.value.dst, quoted.value.dstPort))
      );
    }
    if (f.tcp === undefined) return true;
    return f.ip.src === SERVICE
      ? opened.has(clientKey(f.ip.dst, f.tcp.dstPort))
      : opened.has(clientKey(f.ip.src, f.tcp.srcPort));
  });
}

function putToken(namespace: string, maxSeconds: number) {
  return inNamespace(namespace, 'curl', [
    '-sS',
    '--max-time',
    String(maxSeconds),
    '-X',
    'PUT',
    `${BASE}/latest/api/token`,
    '-H',
    'X-aws-ec2-metadata-token-ttl-seconds: 21600',
  ]);
}

for (const backend of ['tap', 'pcap'] as const) {
  describe(`${backend} backend`, { skip: skipUnlessRoot }, () => {
    let topology: Topology;
    let workDir: string;

    before(async () => {
      sweepStaleNamespaces();
      workDir = temporaryDirectory();
      topology = await BACKENDS[backend]();
    });

    after(async () => {
      await topology?.appliance.stop();
      cleanupAll();
    });

    test('curl: v1 GET and the IMDSv2 recipe from the client next to the appliance', async () => {
      const v1 = await inNamespace(topology.client, 'curl', [
        '-sS',
        '--max-time',
        '10',
        `${BASE}/latest/meta-data/instance-id`,
      ]);
      assert.equal(v1.code, 0, v1.stderr);
      assert.equal(v1.stdout, INSTANCE.instanceId);
      const token = await putToken(topology.client, 10);
      assert.equal(token.code, 0, token.stderr);
      const v2 = await inNamespace(topology.client, 'curl', [
        '-sS',
        '--max-time',
        '10',
        '-H',
        `X-aws-ec2-metadata-token: ${token.stdout}`,
        `${BASE}/latest/meta-data/placement/region`,
      ]);
      assert.equal(v2.stdout, INSTANCE.region);
    });

    test('the AWS SDK for JavaScript gets role credentials', async () => {
      const result = await inNamespace(topology.client, process.execPath, [
        join(REPO_ROOT, 'test/integration/clients/smithy-credentials.mjs'),
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(JSON.parse(result.stdout.trim()).accessKeyId, /^ASIA/);
    });

    test('IPv6 endpoint: curl -6 gets a token and uses it; token frames leave with Hop Limit = the hop limit', async () => {
      const options = async (...args: string[]) => {
        const set = await imdsHop(['options', '--interface', topology.appliance.interfaceName, ...args]);
        assert.equal(set.code, 0, set.stderr);
      };
      await options('--hop-limit', '1', '--http-protocol-ipv6', 'enabled');
      try {
        const file = join(workDir, 'ipv6.pcap');
        const capture = await startCapture(topology.captureAt.namespace, topology.captureAt.device, file);
        const put = await inNamespace(topology.client, 'curl', [
          '-g',
          '-6',
          '-sS',
          '--max-time',
          '10',
          '-X',
          'PUT',
          `${BASE6}/latest/api/token`,
          '-H',
          'X-aws-ec2-metadata-token-ttl-seconds: 60',
        ]);
        const get = await inNamespace(topology.client, 'curl', [
          '-g',
          '-6',
          '-sS',
          '--max-time',
          '10',
          '-H',
          `X-aws-ec2-metadata-token: ${put.stdout}`,
          `${BASE6}/latest/meta-data/instance-id`,
        ]);
        await capture.stop();
        keepArtifact(file, `${backend}-ipv6.pcap`);
        assert.equal(put.code, 0, put.stderr);
        assert.ok(put.stdout.length >= 32, `token looks too short: ${put.stdout}`);
        assert.equal(get.code, 0, get.stderr);
        assert.equal(get.stdout, INSTANCE.instanceId);

        const fromService = (await readIpv6TcpFrames(file)).filter((f) => f.src === SERVICE_ADDRESS6);
        // By the token itself: a GET with a token also answers with the TTL header (the token's remaining life).
        const tokenFrames = fromService.filter((f) => f.payload.includes(put.stdout));
        assert.equal(tokenFrames.length, 1, 'one token response on the wire');
        assert.equal(tokenFrames[0]?.hopLimit, 1);
        const others = fromService.filter((f) => !tokenFrames.includes(f));
        assert.ok(
          others.length > 0 && others.every((f) => f.hopLimit === 64),
          'everything else leaves with Hop Limit 64',
        );
        assert.ok(
          others.some((f) => f.payload.endsWith(INSTANCE.instanceId)),
          'the metadata response is on the wire',
        );
      } finally {
        await options('--http-protocol-ipv6', 'disabled');
      }
    });

    for (const hopLimit of [1, 2]) {
      test(`hop limit ${hopLimit}: token frames leave with TTL ${hopLimit}; the far client ${hopLimit === 1 ? 'gets no token' : 'gets one'}`, async () => {
        const set = await imdsHop([
          'options',
          '--interface',
          topology.appliance.interfaceName,
          '--hop-limit',
          String(hopLimit),
        ]);
        assert.equal(set.code, 0, set.stderr);
        const file = join(workDir, `hop-${hopLimit}.pcap`);
        const capture = await startCapture(topology.captureAt.namespace, topology.captureAt.device, file);
        const near = await putToken(topology.client, 10);
        const far = await putToken(topology.far, 4);
        const v1Far = await inNamespace(topology.far, 'curl', [
          '-sS',
          '--max-time',
          '10',
          `${BASE}/latest/meta-data/instance-type`,
        ]);
        await capture.stop();
        keepArtifact(file, `${backend}-hop-limit-${hopLimit}.pcap`);

        assert.equal(near.code, 0, near.stderr);
        assert.equal(v1Far.stdout, INSTANCE.instanceType, 'v1 metadata (TTL 64) must cross the router');
        if (hopLimit === 1) {
          assert.notEqual(far.code, 0, 'the far client got a token through the router');
          assert.equal(far.stdout, '');
        } else {
          assert.equal(far.code, 0, far.stderr);
          assert.ok(far.stdout.length >= 32);
        }

        const frames = ofThisCapture((await readIpv4Frames(file)).frames);
        const tokenFrames = tokenResponseFrames(frames);
        assert.ok(tokenFrames.length >= 2, 'expected token responses for both clients on the wire');
        for (const frame of tokenFrames) assert.equal(frame.ip.ttl, hopLimit);
        const otherFromService = frames.filter((f) => f.ip.src === SERVICE && !tokenFrames.includes(f));
        assert.ok(otherFromService.length > 0);
        for (const frame of otherFromService) assert.equal(frame.ip.ttl, 64);
        const timeExceeded = frames.filter((f) => f.icmp?.kind === 'time-exceeded' && f.ip.dst === SERVICE);
        assert.equal(timeExceeded.length > 0, hopLimit === 1, 'ICMP time-exceeded from the router iff the token died');
        if (hopLimit === 1) {
          await topology.appliance.waitFor(
            (r) =>
              typeof r.msg === 'string' &&
              r.msg === 'token response died at hop 1: the hop limit stopped it at a router' &&
              r.tokenResponse === true,
            5_000,
          );
        }
        if (topology.silentKernelAddress) {
          const fromKernel = frames.filter(
            (f) => f.ip.src === parseIpv4Address(topology.silentKernelAddress as string),
          );
          assert.deepEqual(
            fromKernel.map((f) => `${f.icmp?.kind ?? ''}${f.tcp?.control ?? ''}`),
            [],
            'the appliance host kernel answered for the service',
          );
        }
      });
    }
  });
}

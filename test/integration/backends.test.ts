// One suite, run against both link backends. Each backend gets a topology with a client next to the appliance
// and a "far" client one router further, and the same cases run on both: real clients get metadata, the token
// response leaves with TTL = hop limit, and the far client gets no token with hop limit 1 but does with 2.
//
// tap:   [far ns] --veth-- [instance ns: forwards] --tap-- imds-hop          (client = the instance ns itself)
//          198.18.1.2        198.18.1.1
// pcap:  [far ns] --veth-- [client ns: forwards] --veth-- [appliance ns: imds-hop captures on its veth end]
//          198.18.1.2        198.18.1.1  198.18.0.2          198.18.0.1 (owns no 169.254.169.254: stays silent)
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
import { payloadText, readIpv4Frames, startCapture, type CapturedFrame } from './capture.ts';
import { parseIpv4Address } from '../../src/wire/index.ts';
import { defaultInstance } from '../../src/imds/instance.ts';

const BASE = `http://${SERVICE_ADDRESS}`;
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

function putToken(namespace: string, maxSeconds: number) {
  return inNamespace(namespace, 'curl', [
    '-sS', '--max-time', String(maxSeconds), '-X', 'PUT', `${BASE}/latest/api/token`,
    '-H', 'X-aws-ec2-metadata-token-ttl-seconds: 21600',
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
      const v1 = await inNamespace(topology.client, 'curl', ['-sS', '--max-time', '10', `${BASE}/latest/meta-data/instance-id`]);
      assert.equal(v1.code, 0, v1.stderr);
      assert.equal(v1.stdout, INSTANCE.instanceId);
      const token = await putToken(topology.client, 10);
      assert.equal(token.code, 0, token.stderr);
      const v2 = await inNamespace(topology.client, 'curl', [
        '-sS', '--max-time', '10', '-H', `X-aws-ec2-metadata-token: ${token.stdout}`, `${BASE}/latest/meta-data/placement/region`,
      ]);
      assert.equal(v2.stdout, INSTANCE.region);
    });

    test('the AWS SDK for JavaScript gets role credentials', async () => {
      const result = await inNamespace(topology.client, process.execPath, [join(REPO_ROOT, 'test/integration/clients/smithy-credentials.mjs')]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(JSON.parse(result.stdout.trim()).accessKeyId, /^ASIA/);
    });

    for (const hopLimit of [1, 2]) {
      test(`hop limit ${hopLimit}: token frames leave with TTL ${hopLimit}; the far client ${hopLimit === 1 ? 'gets no token' : 'gets one'}`, async () => {
        const set = await imdsHop(['options', '--interface', topology.appliance.interfaceName, '--hop-limit', String(hopLimit)]);
        assert.equal(set.code, 0, set.stderr);
        const file = join(workDir, `hop-${hopLimit}.pcap`);
        const capture = await startCapture(topology.captureAt.namespace, topology.captureAt.device, file);
        const near = await putToken(topology.client, 10);
        const far = await putToken(topology.far, 4);
        const v1Far = await inNamespace(topology.far, 'curl', ['-sS', '--max-time', '10', `${BASE}/latest/meta-data/instance-type`]);
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

        const { frames } = await readIpv4Frames(file);
        const tokenFrames = tokenResponseFrames(frames);
        assert.ok(tokenFrames.length >= 2, 'expected token responses for both clients on the wire');
        for (const frame of tokenFrames) assert.equal(frame.ip.ttl, hopLimit);
        const otherFromService = frames.filter((f) => f.ip.src === SERVICE && !tokenFrames.includes(f));
        assert.ok(otherFromService.length > 0);
        for (const frame of otherFromService) assert.equal(frame.ip.ttl, 64);
        const timeExceeded = frames.filter((f) => f.icmp?.kind === 'time-exceeded' && f.ip.dst === SERVICE);
        assert.equal(timeExceeded.length > 0, hopLimit === 1, 'ICMP time-exceeded from the router iff the token died');
        if (hopLimit === 1) {
          await topology.appliance.waitFor((r) => typeof r.msg === 'string' && r.msg === 'token response died at hop 1: the hop limit stopped it at a router' && r.tokenResponse === true, 5_000);
        }
        if (topology.silentKernelAddress) {
          const fromKernel = frames.filter((f) => f.ip.src === parseIpv4Address(topology.silentKernelAddress as string));
          assert.deepEqual(fromKernel.map((f) => `${f.icmp?.kind ?? ''}${f.tcp?.control ?? ''}`), [], 'the appliance host kernel answered for the service');
        }
      });
    }
  });
}

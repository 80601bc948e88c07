// The hop limit on the wire. A client namespace sits one router behind the instance namespace (which forwards
// for it, like a misconfigured instance or a container bridge). With hop limit 1 the token response leaves the
// appliance with TTL 1, dies in the instance's kernel and comes back as ICMP time-exceeded; with hop limit 2 it
// reaches the client with TTL 1. v1 GETs (TTL 64) get through either way.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  Appliance,
  SERVICE_ADDRESS,
  cleanupAll,
  connectNamespaces,
  createNamespace,
  inNamespace,
  runSync,
  skipUnlessRoot,
  sweepStaleNamespaces,
  keepArtifact,
  temporaryDirectory,
  uniqueName,
} from './harness.ts';
import { payloadText, readIpv4Frames, startCapture, type CapturedFrame } from './capture.ts';
import { parseIpv4Address } from '../../src/wire/index.ts';

const BASE = `http://${SERVICE_ADDRESS}`;
const INSTANCE_ADDRESS = '198.18.0.1';
const CLIENT_ADDRESS = '198.18.0.2';
const SERVICE = parseIpv4Address(SERVICE_ADDRESS);
const TOKEN_RESPONSE_MARK = 'X-Aws-Ec2-Metadata-Token-Ttl-Seconds';

interface Topology {
  instance: string;
  client: string;
  instanceVeth: string;
  clientVeth: string;
}

function buildTopology(): Topology {
  const instance = createNamespace('inst');
  const client = createNamespace('cli');
  const instanceVeth = uniqueName('vi');
  const clientVeth = uniqueName('vc');
  connectNamespaces(
    { namespace: instance, device: instanceVeth, address: INSTANCE_ADDRESS },
    { namespace: client, device: clientVeth, address: CLIENT_ADDRESS },
  );
  runSync('ip', ['netns', 'exec', instance, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  runSync('ip', ['-n', client, 'route', 'add', `${SERVICE_ADDRESS}/32`, 'via', INSTANCE_ADDRESS]);
  return { instance, client, instanceVeth, clientVeth };
}

function tokenResponseFrames(frames: CapturedFrame[]): CapturedFrame[] {
  return frames.filter((f) => f.ip.src === SERVICE && payloadText(f).includes(TOKEN_RESPONSE_MARK));
}

function putToken(namespace: string, maxSeconds: number) {
  return inNamespace(namespace, 'curl', [
    '-sS', '--max-time', String(maxSeconds), '-X', 'PUT', `${BASE}/latest/api/token`,
    '-H', 'X-aws-ec2-metadata-token-ttl-seconds: 60',
  ]);
}

for (const hopLimit of [1, 2]) {
  describe(`hop limit ${hopLimit} with a client one router away`, { skip: skipUnlessRoot }, () => {
    let topology: Topology;
    let appliance: Appliance;
    let workDir: string;

    before(async () => {
      sweepStaleNamespaces();
      workDir = temporaryDirectory();
      topology = buildTopology();
      appliance = await Appliance.start(topology.instance, ['--hop-limit', String(hopLimit)]);
    });

    after(async () => {
      await appliance?.stop();
      cleanupAll();
    });

    test('the instance itself gets a token (local delivery ignores TTL)', async () => {
      const result = await putToken(topology.instance, 10);
      assert.equal(result.code, 0, result.stderr);
      assert.ok(result.stdout.length >= 32);
    });

    test('the routed client gets v1 metadata (TTL 64 crosses the router)', async () => {
      const result = await inNamespace(topology.client, 'curl', ['-sS', '--max-time', '10', `${BASE}/latest/meta-data/instance-type`]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, 't3.micro');
    });

    test(
      hopLimit === 1
        ? 'the routed client never gets a token: TTL 1 on the tap, ICMP time-exceeded back'
        : 'the routed client gets a token: TTL 2 on the tap, TTL 1 at the client',
      async () => {
        const tapFile = join(workDir, 'tap.pcap');
        const clientFile = join(workDir, 'client.pcap');
        const tapCapture = await startCapture(topology.instance, appliance.interfaceName, tapFile);
        const clientCapture = await startCapture(topology.client, topology.clientVeth, clientFile);
        const result = await putToken(topology.client, 4);
        await new Promise((resolve) => setTimeout(resolve, 300)); // let the last frames reach the capture files
        await tapCapture.stop();
        await clientCapture.stop();

        keepArtifact(tapFile, `hop-limit-${hopLimit}-tap.pcap`);
        keepArtifact(clientFile, `hop-limit-${hopLimit}-client.pcap`);
        const tap = await readIpv4Frames(tapFile);
        const atClient = await readIpv4Frames(clientFile);
        const onTap = tokenResponseFrames(tap.frames);
        assert.ok(onTap.length >= 1, 'no token response frame on the tap');
        for (const frame of onTap) assert.equal(frame.ip.ttl, hopLimit, 'token response frame with the wrong TTL');
        // Everything else the appliance sent keeps the default TTL.
        const others = tap.frames.filter((f) => f.ip.src === SERVICE && !onTap.includes(f));
        assert.ok(others.length >= 1);
        for (const frame of others) assert.equal(frame.ip.ttl, 64);

        // The instance's kernel answers from its address on the tap, whatever interface the packet was headed for.
        const timeExceeded = tap.frames.filter((f) => f.icmp?.kind === 'time-exceeded' && f.ip.dst === SERVICE);
        if (hopLimit === 1) {
          assert.notEqual(result.code, 0, `the client got a token through the router: ${result.stdout}`);
          assert.equal(result.stdout, '');
          assert.ok(onTap.length >= 2, 'expected the token response to be retransmitted (and die again)');
          assert.ok(timeExceeded.length >= 1, 'the router sent no ICMP time-exceeded into the tap');
          assert.equal(tokenResponseFrames(atClient.frames).length, 0, 'token bytes reached the client side');
          await appliance.waitFor((r) => typeof r.msg === 'string' && r.msg.includes('TTL exhausted'), 5_000);
        } else {
          assert.equal(result.code, 0, result.stderr);
          assert.ok(result.stdout.length >= 32);
          assert.equal(timeExceeded.length, 0);
          const arrived = tokenResponseFrames(atClient.frames);
          assert.ok(arrived.length >= 1, 'no token response frame at the client');
          for (const frame of arrived) assert.equal(frame.ip.ttl, 1);
        }
      },
    );
  });
}

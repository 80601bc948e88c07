// Malformed input on the wire: garbage, truncated and checksum-broken frames written into the tap from the
// instance side. The appliance must drop and count each one and keep serving.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  Appliance,
  REPO_ROOT,
  SERVICE_ADDRESS,
  cleanupAll,
  createNamespace,
  inNamespace,
  skipUnlessRoot,
  sumCounters,
  sweepStaleNamespaces,
} from './harness.ts';
import { EtherType, encodeIcmpFrame, encodeTcpFrame, parseIpv4Address, parseMacAddress } from '../../src/wire/index.ts';

const APPLIANCE_MAC = '02:a9:fe:a9:fe:01';
const INJECTOR = join(REPO_ROOT, 'test/integration/clients/inject-frames.py');
const ETHERNET_HEADER = 14;

const applianceMac = parseMacAddress(APPLIANCE_MAC);
const injectorMac = parseMacAddress('02:00:00:00:00:99');
const hostAddr = parseIpv4Address('169.254.169.253');
const serviceAddr = parseIpv4Address(SERVICE_ADDRESS);

function synFrame(seq: number): Uint8Array {
  return encodeTcpFrame({
    srcMac: injectorMac,
    dstMac: applianceMac,
    srcAddr: hostAddr,
    dstAddr: serviceAddr,
    hopLimit: 64,
    identification: seq & 0xffff,
    segment: {
      srcPort: 40000 + (seq % 1000),
      dstPort: 80,
      seq,
      ack: undefined,
      control: 'syn',
      push: false,
      window: 65535,
      options: { mss: 1460 },
      payload: new Uint8Array(),
    },
  });
}

function echoFrame(sequence: number): Uint8Array {
  return encodeIcmpFrame({
    srcMac: injectorMac,
    dstMac: applianceMac,
    srcAddr: hostAddr,
    dstAddr: serviceAddr,
    hopLimit: 64,
    identification: sequence,
    message: { kind: 'echo-request', identifier: 7, sequence, data: new Uint8Array(16) },
  });
}

/** Each kind of damage, and the drop counter prefix it must land in. */
function damagedFrames(): Array<{ counter: string; frames: Uint8Array[] }> {
  const garbage = Array.from({ length: 20 }, () => {
    const frame = new Uint8Array(ETHERNET_HEADER + 20 + (randomBytes(1)[0] ?? 0));
    frame.set(applianceMac, 0);
    frame.set(injectorMac, 6);
    frame[12] = EtherType.IPV4 >> 8;
    frame[13] = EtherType.IPV4 & 0xff;
    // Random bytes behind an IPv4 EtherType, with a version nibble other than 4 so the refusal is certain.
    const body = randomBytes(frame.length - ETHERNET_HEADER);
    body[0] = 0x60 | ((body[0] ?? 0) & 0x0f);
    frame.set(body, ETHERNET_HEADER);
    return frame;
  });
  const truncated = Array.from({ length: 10 }, (_, i) => synFrame(1000 + i).slice(0, ETHERNET_HEADER + 20 + 8));
  const badIpChecksum = Array.from({ length: 10 }, (_, i) => {
    const frame = synFrame(2000 + i);
    frame[ETHERNET_HEADER + 10] = (frame[ETHERNET_HEADER + 10] ?? 0) ^ 0xff;
    return frame;
  });
  const badTcpChecksum = Array.from({ length: 10 }, (_, i) => {
    const frame = synFrame(3000 + i);
    frame[ETHERNET_HEADER + 20 + 16] = (frame[ETHERNET_HEADER + 20 + 16] ?? 0) ^ 0xff;
    return frame;
  });
  const badIcmpChecksum = Array.from({ length: 10 }, (_, i) => {
    const frame = echoFrame(i);
    frame[ETHERNET_HEADER + 20 + 2] = (frame[ETHERNET_HEADER + 20 + 2] ?? 0) ^ 0xff;
    return frame;
  });
  return [
    { counter: 'frames-dropped-ipv4-bad-version', frames: garbage },
    { counter: 'frames-dropped-ipv4-truncated', frames: truncated },
    { counter: 'frames-dropped-ipv4-bad-checksum', frames: badIpChecksum },
    { counter: 'frames-dropped-tcp-bad-checksum', frames: badTcpChecksum },
    { counter: 'frames-dropped-icmp-bad-checksum', frames: badIcmpChecksum },
  ];
}

describe('malformed frames injected into the tap', { skip: skipUnlessRoot }, () => {
  let namespace: string;
  let appliance: Appliance;

  before(async () => {
    sweepStaleNamespaces();
    namespace = createNamespace('bad');
    appliance = await Appliance.start(namespace, ['--mac', APPLIANCE_MAC, '--log-level', 'info']);
  });

  after(async () => {
    await appliance?.stop();
    cleanupAll();
  });

  test('each damaged frame is dropped and counted, and the appliance keeps serving', async () => {
    const before = await appliance.counters();
    const kinds = damagedFrames();
    const hex = kinds.flatMap((k) => k.frames.map((f) => Buffer.from(f).toString('hex'))).join('\n');
    const injected = await inNamespace(namespace, 'sh', [
      '-c',
      `python3 ${INJECTOR} ${appliance.interfaceName} <<'EOF'\n${hex}\nEOF`,
    ]);
    assert.equal(injected.code, 0, injected.stderr);
    assert.equal(
      Number(injected.stdout.trim()),
      kinds.reduce((t, k) => t + k.frames.length, 0),
    );

    // A request after the injection proves the appliance survived and that the frames were read before it.
    const served = await inNamespace(namespace, 'curl', [
      '-sS',
      '--max-time',
      '10',
      `http://${SERVICE_ADDRESS}/latest/meta-data/ami-id`,
    ]);
    assert.equal(served.code, 0, served.stderr);
    assert.match(served.stdout, /^ami-[0-9a-f]+$/);

    const after = await appliance.counters();
    for (const kind of kinds) {
      const counted = sumCounters(after, kind.counter) - sumCounters(before, kind.counter);
      assert.ok(counted >= kind.frames.length, `${kind.counter}: counted ${counted} of ${kind.frames.length} injected`);
    }
    // None of the damaged SYNs opened a connection: only curl's did.
    assert.equal((after['connections-accepted'] ?? 0) - (before['connections-accepted'] ?? 0), 1);
  });
});

// The Host's IPv6 endpoint on an in-memory link: neighbor discovery, echo, and HTTP over TCP/IPv6 whose token
// responses leave with Hop Limit = the hop limit; switched off, IPv6 gets no answer and is counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EtherType,
  Ipv6NextHeader,
  encodeIcmpv6Frame,
  encodeIpv6Packet,
  encodeEthernet,
  encodeTcpIpv6Frame,
  ipv6MulticastMac,
  destinationMac,
  parseEthernet,
  sourceMac,
  parseIcmpv6,
  parseIpv6,
  parseIpv6Address,
  parseTcpIpv6,
  solicitedNodeAddress,
  type Ipv6Packet,
} from '../../src/wire/index.ts';
import type { TcpSegment } from '../../src/wire/tcp-segment.ts';
import {
  FramePeer,
  HOP_LIMIT,
  PEER_MAC,
  SERVICE_MAC,
  firstDataPacket,
  recordingLogger,
  startTestHost,
} from './host-fixture.ts';
import type { Logger } from 'pino';
import { Ipv6Peers } from '../../src/appliance/ipv6-peers.ts';

const serviceMac = SERVICE_MAC;
const peerMac = PEER_MAC;
const service6 = parseIpv6Address('fd00:ec2::254');
const peer6 = parseIpv6Address('fd00:ec2::253');

class Peer extends FramePeer {
  async nextIp(): Promise<Ipv6Packet & { packet: Uint8Array }> {
    const frame = await this.next();
    const eth = parseEthernet(frame);
    assert.ok(eth.ok);
    assert.deepEqual([...destinationMac(frame)], [...peerMac]);
    assert.deepEqual([...sourceMac(frame)], [...serviceMac]);
    assert.equal(eth.value.etherType, EtherType.IPV6);
    const ip = parseIpv6(eth.value.payload);
    assert.ok(ip.ok);
    assert.deepEqual([...ip.value.dst], [...peer6]);
    return { ...ip.value, packet: frame.slice(14) };
  }
  async nextTcp(): Promise<{ hopLimit: number; segment: TcpSegment; packet: Uint8Array }> {
    const ip = await this.nextIp();
    assert.equal(ip.nextHeader, Ipv6NextHeader.TCP);
    const segment = parseTcpIpv6(ip.payload, ip.src, ip.dst);
    assert.ok(segment.ok);
    return { hopLimit: ip.hopLimit, segment: segment.value, packet: ip.packet };
  }
  sendTcp(segment: Partial<TcpSegment> & Pick<TcpSegment, 'seq'>) {
    this.send(
      encodeTcpIpv6Frame({
        srcMac: peerMac,
        dstMac: serviceMac,
        srcAddr: peer6,
        dstAddr: service6,
        hopLimit: 64,
        segment: {
          srcPort: 40000,
          dstPort: 80,
          ack: undefined,
          control: 'none',
          push: false,
          window: 65535,
          options: {},
          payload: new Uint8Array(0),
          ...segment,
        },
      }),
    );
  }
  /** To the target's solicited-node group, or unicast to the service (as the kernel's reachability probes). */
  sendSolicitation(target = service6, hopLimit = 255, unicast = false) {
    const group = solicitedNodeAddress(target);
    this.send(
      encodeIcmpv6Frame({
        srcMac: peerMac,
        dstMac: unicast ? serviceMac : ipv6MulticastMac(group),
        srcAddr: peer6,
        dstAddr: unicast ? service6 : group,
        hopLimit,
        message: { kind: 'neighbor-solicitation', target, sourceLinkAddress: peerMac },
      }),
    );
  }
}

// These tests send several requests over one connection: keep-alive, explicitly (EC2 itself closes).
function startHost(enabled = true, log?: Logger, hopLimit?: number) {
  const { host, engine, peerSide } = startTestHost({
    mss: 1440,
    connection: 'keep-alive',
    ipv6: { serviceAddress: service6, enabled },
    ...(log ? { log } : {}),
    ...(hopLimit !== undefined ? { hopLimit } : {}),
  });
  return { host, engine, peer: new Peer(peerSide), stop: () => host.stop() };
}

async function connect(peer: Peer): Promise<{ seq: number; ack: number }> {
  peer.sendTcp({ seq: 1000, control: 'syn', options: { mss: 1440 } });
  const synAck = await peer.nextTcp();
  assert.equal(synAck.segment.control, 'syn');
  assert.equal(synAck.segment.ack, 1001);
  assert.equal(synAck.hopLimit, 64);
  const ack = (synAck.segment.seq + 1) >>> 0;
  peer.sendTcp({ seq: 1001, ack });
  return { seq: 1001, ack };
}

async function exchange(peer: Peer, state: { seq: number; ack: number }, request: string, done: RegExp) {
  const bytes = new TextEncoder().encode(request);
  peer.sendTcp({ seq: state.seq, ack: state.ack, push: true, payload: bytes });
  state.seq += bytes.length;
  const segments: Array<{ hopLimit: number; segment: TcpSegment }> = [];
  let text = '';
  while (!done.test(text)) {
    const received = await peer.nextTcp();
    if (received.segment.payload.length === 0) continue;
    // On a loaded machine our ACK may come after the retransmission timer: a repeat of bytes already taken is no news.
    if (((received.segment.seq - state.ack) | 0) < 0) continue;
    segments.push(received);
    text += Buffer.from(received.segment.payload).toString('latin1');
    state.ack = (state.ack + received.segment.payload.length) >>> 0;
  }
  peer.sendTcp({ seq: state.seq, ack: state.ack });
  return { text, segments };
}

test('a neighbor solicitation for the endpoint gets a solicited, override advertisement from the appliance MAC', async () => {
  const { host, peer, stop } = startHost();
  try {
    peer.sendSolicitation(parseIpv6Address('fd00:ec2::1')); // another target's group: not for us
    peer.sendSolicitation(parseIpv6Address('fd00:ec2::1'), 255, true); // another target: ignored
    peer.sendSolicitation(service6, 64); // not from this link: ignored
    peer.sendSolicitation();
    const ip = await peer.nextIp();
    assert.equal(ip.hopLimit, 255);
    assert.deepEqual([...ip.src], [...service6]);
    const na = parseIcmpv6(ip.payload, ip.src, ip.dst);
    assert.ok(na.ok && na.value.kind === 'neighbor-advertisement');
    assert.equal(na.value.solicited, true);
    assert.equal(na.value.override, true);
    assert.equal(na.value.router, false);
    assert.deepEqual([...na.value.target], [...service6]);
    assert.deepEqual([...na.value.targetLinkAddress!], [...serviceMac]);
    const counters = host.counterSnapshot();
    assert.equal(counters['ndp-advertisements'], 1);
    assert.equal(counters['frames-dropped-ndp-other-target'], 1);
    assert.equal(counters['frames-dropped-ndp-bad-hop-limit'], 1);
    assert.equal(counters['frames-dropped-not-for-us'], 1);
    await assert.rejects(peer.next(100), /no frame/);
    peer.sendSolicitation(service6, 255, true);
    const probe = await peer.nextIp();
    assert.equal(probe.nextHeader, Ipv6NextHeader.ICMPV6);
    assert.equal(host.counterSnapshot()['ndp-advertisements'], 2);
  } finally {
    stop();
  }
});

test('ICMPv6 echo is answered with Hop Limit 64 and the same data', async () => {
  const { host, peer, stop } = startHost();
  try {
    const data = new Uint8Array([1, 2, 3, 4, 5]);
    peer.send(
      encodeIcmpv6Frame({
        srcMac: peerMac,
        dstMac: serviceMac,
        srcAddr: peer6,
        dstAddr: service6,
        hopLimit: 64,
        message: { kind: 'echo-request', identifier: 77, sequence: 3, data },
      }),
    );
    const ip = await peer.nextIp();
    assert.equal(ip.hopLimit, 64);
    const reply = parseIcmpv6(ip.payload, ip.src, ip.dst);
    assert.ok(reply.ok && reply.value.kind === 'echo-reply');
    assert.equal(reply.value.identifier, 77);
    assert.equal(reply.value.sequence, 3);
    assert.deepEqual([...reply.value.data], [...data]);
    assert.equal(host.counterSnapshot()['icmpv6-echo-replies'], 1);
  } finally {
    stop();
  }
});

test('over IPv6, token responses carry Hop Limit = hop limit and metadata responses 64', async () => {
  const { host, peer, stop } = startHost();
  try {
    const state = await connect(peer);
    const token = await exchange(
      peer,
      state,
      'PUT /latest/api/token HTTP/1.1\r\nHost: [fd00:ec2::254]\r\nX-aws-ec2-metadata-token-ttl-seconds: 21600\r\n\r\n',
      /\r\n\r\nAQAEA[A-Za-z0-9_-]{49}==$/,
    );
    assert.match(token.text, /^HTTP\/1\.1 200 /);
    assert.ok(token.segments.length > 0);
    for (const s of token.segments)
      assert.equal(s.hopLimit, HOP_LIMIT, 'every token-bearing segment leaves with the hop limit');
    const value = token.text.split('\r\n\r\n')[1]!;
    const meta = await exchange(
      peer,
      state,
      `GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: [fd00:ec2::254]\r\nX-aws-ec2-metadata-token: ${value}\r\n\r\n`,
      /i-0123456789abcdef0$/,
    );
    assert.match(meta.text, /^HTTP\/1\.1 200 /);
    assert.ok(meta.segments.every((s) => s.hopLimit === 64));
    assert.equal(host.counterSnapshot()['connections-accepted'], 1);
  } finally {
    stop();
  }
});

/** What a router sends back: the packet as it reached it (hop limit run down to 1), cut to fit 1280 bytes. */
function sendTimeExceeded(peer: Peer, packet: Uint8Array): void {
  const original = packet.slice(0, 1232);
  original[7] = 1;
  peer.send(
    encodeIcmpv6Frame({
      srcMac: peerMac,
      dstMac: serviceMac,
      srcAddr: parseIpv6Address('fd00:ec2::1'),
      dstAddr: service6,
      hopLimit: 64,
      message: { kind: 'time-exceeded', code: 0, original },
    }),
  );
}

/**
 * A token response, then a metadata response, each let expire by a router, then a quote of a packet that was
 * never ours: what the host counted and logged.
 */
async function responsesDieInTransit(hopLimit?: number) {
  const { log, records } = recordingLogger();
  const { host, peer, stop } = startHost(true, log, hopLimit);
  try {
    const first = await connect(peer);
    const tokenPacket = await firstDataPacket(
      peer,
      first,
      'PUT /latest/api/token HTTP/1.1\r\nHost: [fd00:ec2::254]\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\n\r\n',
    );
    const metadataPacket = await firstDataPacket(
      peer,
      first,
      'GET /latest/meta-data/ HTTP/1.1\r\nHost: [fd00:ec2::254]\r\n\r\n',
    );
    sendTimeExceeded(peer, tokenPacket);
    sendTimeExceeded(peer, metadataPacket);
    const foreign = tokenPacket.slice();
    foreign.set(peer6, 8);
    sendTimeExceeded(peer, foreign);
    await new Promise((resolve) => setTimeout(resolve, 20));
    return {
      counters: host.counterSnapshot(),
      records,
      reports: records.filter((r) => r.icmp === 'time-exceeded'),
      tokenPacket,
      metadataPacket,
    };
  } finally {
    stop();
  }
}

test("a router's ICMPv6 time-exceeded quoting a token response is logged as the hop limit stopping it, and counted", async () => {
  const { counters, records, reports, tokenPacket } = await responsesDieInTransit();
  assert.equal(counters['icmpv6-time-exceeded-received'], 3);
  assert.equal(counters['token-responses-died-in-transit'], 1);
  // The quote of a packet that was never ours is counted, not reported.
  assert.equal(reports.length, 2, JSON.stringify(records));
  assert.equal(reports[0]?.msg, `token response died at hop ${HOP_LIMIT}: the hop limit stopped it at a router`);
  assert.deepEqual(
    {
      router: reports[0]?.router,
      client: reports[0]?.client,
      clientPort: reports[0]?.clientPort,
      sentHopLimit: reports[0]?.sentHopLimit,
      tokenResponse: reports[0]?.tokenResponse,
    },
    { router: 'fd00:ec2::1', client: 'fd00:ec2::253', clientPort: 40000, sentHopLimit: HOP_LIMIT, tokenResponse: true },
  );
  assert.equal(reports[1]?.msg, 'response packet died in transit: TTL exhausted at a router');
  assert.equal(reports[1]?.tokenResponse, false);
  const tokenSegment = parseTcpIpv6(tokenPacket.subarray(40), service6, peer6);
  assert.ok(tokenSegment.ok);
  const token = /\r\n\r\n(AQAEA[A-Za-z0-9_-]{49}==)$/.exec(
    Buffer.from(tokenSegment.value.payload).toString('latin1'),
  )?.[1];
  assert.ok(token, 'the quoted segment carries the token');
  assert.ok(!JSON.stringify(records).includes(token), 'no token in the log');
});

test('at hop limit 64, the default, an ICMPv6 time-exceeded quoting a token response still reports a token', async () => {
  const { counters, reports, tokenPacket, metadataPacket } = await responsesDieInTransit(64);
  assert.deepEqual(
    [tokenPacket[7], metadataPacket[7]],
    [64, 64],
    'token and metadata responses left with the same Hop Limit',
  );
  assert.equal(counters['token-responses-died-in-transit'], 1);
  assert.deepEqual(
    reports.map((r) => [r.msg, r.tokenResponse, r.sentHopLimit]),
    [
      ['token response died at hop 64: the hop limit stopped it at a router', true, 64],
      ['response packet died in transit: TTL exhausted at a router', false, undefined],
    ],
  );
});

test('with httpProtocolIpv6 disabled nothing IPv6 is answered, and every frame is counted; enabling is live', async () => {
  const { host, engine, peer, stop } = startHost(false);
  try {
    peer.sendSolicitation();
    peer.sendTcp({ seq: 1000, control: 'syn', options: { mss: 1440 } });
    await assert.rejects(peer.next(150), /no frame/);
    assert.equal(host.counterSnapshot()['frames-dropped-ipv6-disabled'], 2);
    engine.setOptions({ httpProtocolIpv6: 'enabled' });
    peer.sendSolicitation();
    const na = await peer.nextIp();
    assert.equal(na.nextHeader, Ipv6NextHeader.ICMPV6);
  } finally {
    stop();
  }
});

test('extension headers, router solicitations, other destinations and multicast groups are dropped and counted', async () => {
  const { host, peer, stop } = startHost();
  try {
    const hopByHop = encodeIpv6Packet({
      src: peer6,
      dst: service6,
      nextHeader: 0,
      hopLimit: 1,
      payload: new Uint8Array(8),
    });
    peer.send(encodeEthernet({ dst: serviceMac, src: peerMac, etherType: EtherType.IPV6, payload: hopByHop }));
    const allRouters = parseIpv6Address('ff02::2');
    peer.send(
      encodeIcmpv6Frame({
        srcMac: peerMac,
        dstMac: ipv6MulticastMac(allRouters),
        srcAddr: peer6,
        dstAddr: allRouters,
        hopLimit: 255,
        message: { kind: 'echo-request', identifier: 1, sequence: 1, data: new Uint8Array(0) },
      }),
    );
    const elsewhere = encodeIpv6Packet({
      src: peer6,
      dst: parseIpv6Address('fd00:ec2::1'),
      nextHeader: 6,
      hopLimit: 64,
      payload: new Uint8Array(20),
    });
    peer.send(encodeEthernet({ dst: serviceMac, src: peerMac, etherType: EtherType.IPV6, payload: elsewhere }));
    peer.send(
      encodeEthernet({ dst: serviceMac, src: peerMac, etherType: EtherType.IPV6, payload: hopByHop.subarray(0, 30) }),
    );
    await assert.rejects(peer.next(150), /no frame/);
    const counters = host.counterSnapshot();
    assert.equal(counters['frames-dropped-ipv6-extension-header'], 1);
    assert.equal(counters['frames-dropped-not-for-us'], 1);
    assert.equal(counters['frames-dropped-ipv6-not-for-us'], 1);
    assert.equal(counters['frames-dropped-ipv6-truncated'], 1);
  } finally {
    stop();
  }
});

test('IPv6 peers get ids in 1..0xFFFFFF; the least recently seen is forgotten when the table is full', () => {
  const peers = new Ipv6Peers(2);
  const a = parseIpv6Address('fd00::a');
  const b = parseIpv6Address('fd00::b');
  const c = parseIpv6Address('fd00::c');
  const idA = peers.seen(a, peerMac);
  const idB = peers.seen(b, peerMac);
  assert.ok(idA >= 1 && idA <= 0xffffff && idB !== idA);
  assert.equal(peers.seen(a, serviceMac), idA, 'same address, same id');
  assert.deepEqual([...peers.lookup(idA)!.mac], [...serviceMac], 'the MAC follows the latest frame');
  const idC = peers.seen(c, peerMac);
  assert.equal(peers.size, 2);
  assert.equal(peers.lookup(idB), undefined, 'b was least recently seen');
  assert.deepEqual([...peers.lookup(idC)!.address], [...c]);
  assert.ok(peers.lookup(idA));
  assert.notEqual(peers.seen(b, peerMac), idB, 'a forgotten id is not handed out again soon');
});

// The Host wired to an in-memory link: a scripted peer speaks raw frames to it, as the instance kernel would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EtherType,
  IpProtocol,
  encodeArpFrame,
  encodeIcmpFrame,
  encodeTcpFrame,
  parseArp,
  destinationMac,
  parseEthernet,
  parseIcmp,
  parseIpv4,
  parseIpv4Address,
  parseTcp,
  BROADCAST_MAC,
} from '../../src/wire/index.ts';
import type { TcpSegment } from '../../src/wire/tcp-segment.ts';
import {
  FramePeer,
  HOP_LIMIT,
  PEER_MAC,
  SERVICE_ADDR,
  SERVICE_MAC,
  firstDataPacket,
  recordingLogger,
  startTestHost,
} from './host-fixture.ts';
import type { Logger } from 'pino';

const serviceMac = SERVICE_MAC;
const peerMac = PEER_MAC;
const serviceAddr = SERVICE_ADDR;
const peerAddr = parseIpv4Address('169.254.169.253');

interface ReceivedIp {
  ttl: number;
  src: number;
  dst: number;
  protocol: number;
  payload: Uint8Array;
}

class Peer extends FramePeer {
  async nextIp(): Promise<ReceivedIp & { packet: Uint8Array }> {
    const frame = await this.next();
    const eth = parseEthernet(frame);
    assert.ok(eth.ok);
    assert.deepEqual([...destinationMac(frame)], [...peerMac]);
    assert.equal(eth.value.etherType, EtherType.IPV4);
    const ip = parseIpv4(eth.value.payload);
    assert.ok(ip.ok);
    return { ...ip.value, packet: eth.value.payload.slice() };
  }
  async nextTcp(): Promise<{ ttl: number; segment: TcpSegment; packet: Uint8Array }> {
    const ip = await this.nextIp();
    assert.equal(ip.protocol, IpProtocol.TCP);
    const segment = parseTcp(ip.payload, ip.src, ip.dst);
    assert.ok(segment.ok);
    return { ttl: ip.ttl, segment: segment.value, packet: ip.packet };
  }
  sendTcp(segment: Partial<TcpSegment> & Pick<TcpSegment, 'seq'>) {
    this.send(
      encodeTcpFrame({
        srcMac: peerMac,
        dstMac: serviceMac,
        srcAddr: peerAddr,
        dstAddr: serviceAddr,
        hopLimit: 64,
        identification: 1,
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
}

// These tests send several requests over one connection: keep-alive, explicitly (EC2 itself closes).
function startHost(log?: Logger, connection: 'close' | 'keep-alive' = 'keep-alive') {
  const { host, peerSide } = startTestHost({ mss: 1460, connection, ...(log ? { log } : {}) });
  return { host, peer: new Peer(peerSide), stop: () => host.stop() };
}

/** Handshake from the peer; returns the sequence numbers to continue with. */
async function connect(peer: Peer): Promise<{ seq: number; ack: number }> {
  const iss = 1000;
  peer.sendTcp({ seq: iss, control: 'syn', options: { mss: 1460 } });
  const synAck = await peer.nextTcp();
  assert.equal(synAck.segment.control, 'syn');
  assert.equal(synAck.segment.ack, iss + 1);
  assert.equal(synAck.ttl, 64);
  const ack = (synAck.segment.seq + 1) >>> 0;
  peer.sendTcp({ seq: iss + 1, ack });
  return { seq: iss + 1, ack };
}

/** Sends one request and collects response segments until `bytes` of payload arrived. */
async function exchange(peer: Peer, state: { seq: number; ack: number }, request: string, expectBody: RegExp) {
  const bytes = new TextEncoder().encode(request);
  peer.sendTcp({ seq: state.seq, ack: state.ack, push: true, payload: bytes });
  state.seq += bytes.length;
  const segments: Array<{ ttl: number; segment: TcpSegment }> = [];
  const all: TcpSegment[] = [];
  let text = '';
  while (!expectBody.test(text)) {
    const received = await peer.nextTcp();
    all.push(received.segment);
    if (received.segment.payload.length === 0) continue;
    // On a loaded machine our ACK may come after the retransmission timer: a repeat of bytes already taken is no news.
    if (((received.segment.seq - state.ack) | 0) < 0) continue;
    segments.push(received);
    text += Buffer.from(received.segment.payload).toString('latin1');
    state.ack = (state.ack + received.segment.payload.length) >>> 0;
  }
  peer.sendTcp({ seq: state.seq, ack: state.ack });
  return { text, segments, all };
}

test('ARP who-has for the service address is answered with the appliance MAC; others are ignored', async () => {
  const { host, peer, stop } = startHost();
  try {
    for (const target of ['169.254.169.1', '169.254.169.254']) {
      peer.send(
        encodeArpFrame({
          srcMac: peerMac,
          dstMac: BROADCAST_MAC,
          packet: {
            operation: 'request',
            senderMac: peerMac,
            senderIp: peerAddr,
            targetMac: new Uint8Array(6),
            targetIp: parseIpv4Address(target)!,
          },
        }),
      );
    }
    const eth = parseEthernet(await peer.next());
    assert.ok(eth.ok);
    assert.equal(eth.value.etherType, EtherType.ARP);
    const arp = parseArp(eth.value.payload);
    assert.ok(arp.ok);
    assert.equal(arp.value.operation, 'reply');
    assert.equal(arp.value.senderIp, serviceAddr);
    assert.deepEqual([...arp.value.senderMac], [...serviceMac]);
    assert.equal(host.counterSnapshot()['arp-ignored'], 1);
    assert.equal(host.counterSnapshot()['arp-replies'], 1);
  } finally {
    stop();
  }
});

test('ICMP echo is answered with TTL 64 and the same payload', async () => {
  const { peer, stop } = startHost();
  try {
    const data = new Uint8Array([1, 2, 3, 4, 5]);
    peer.send(
      encodeIcmpFrame({
        srcMac: peerMac,
        dstMac: serviceMac,
        srcAddr: peerAddr,
        dstAddr: serviceAddr,
        hopLimit: 64,
        identification: 9,
        message: { kind: 'echo-request', identifier: 77, sequence: 3, data },
      }),
    );
    const ip = await peer.nextIp();
    assert.equal(ip.protocol, IpProtocol.ICMP);
    assert.equal(ip.ttl, 64);
    const icmp = parseIcmp(ip.payload);
    assert.ok(icmp.ok && icmp.value.kind === 'echo-reply');
    assert.equal(icmp.value.identifier, 77);
    assert.deepEqual([...icmp.value.data], [...data]);
  } finally {
    stop();
  }
});

test('token responses carry TTL = hop limit, metadata responses TTL 64, on one keep-alive connection', async () => {
  const { host, peer, stop } = startHost();
  try {
    const state = await connect(peer);
    const meta = await exchange(
      peer,
      state,
      'GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n',
      /i-0123456789abcdef0$/,
    );
    assert.match(meta.text, /^HTTP\/1\.1 200 /);
    assert.ok(meta.segments.every((s) => s.ttl === 64));
    const token = await exchange(
      peer,
      state,
      'PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\nX-aws-ec2-metadata-token-ttl-seconds: 21600\r\n\r\n',
      /\r\n\r\nAQAEA[A-Za-z0-9_-]{49}==$/,
    );
    assert.match(token.text, /^HTTP\/1\.1 200 /);
    assert.match(token.text, /X-Aws-Ec2-Metadata-Token-Ttl-Seconds: 21600/i);
    assert.ok(token.segments.length > 0);
    for (const s of token.segments)
      assert.equal(s.ttl, HOP_LIMIT, 'every token-bearing segment leaves with the hop limit');
    const after = await exchange(peer, state, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', /latest$/);
    assert.ok(after.segments.every((s) => s.ttl === 64));
    assert.equal(host.counterSnapshot()['connections-accepted'], 1);
  } finally {
    stop();
  }
});

/** RFC 792: a router returns the IP header and the first 8 bytes of data, as the packet reached it (TTL run down). */
function sendTimeExceeded(peer: Peer, packet: Uint8Array): void {
  const original = packet.slice(0, 28);
  original[8] = 1;
  peer.send(
    encodeIcmpFrame({
      srcMac: peerMac,
      dstMac: serviceMac,
      srcAddr: parseIpv4Address('169.254.0.1'),
      dstAddr: serviceAddr,
      hopLimit: 64,
      identification: 9,
      message: { kind: 'time-exceeded', code: 0, original },
    }),
  );
}

/** A token response, then a metadata response, each let expire by a router: what the host counted and logged. */
async function responsesDieInTransit(hopLimit: number) {
  const { log, records } = recordingLogger();
  const { host, peerSide } = startTestHost({ mss: 1460, connection: 'keep-alive', hopLimit, log });
  const peer = new Peer(peerSide);
  try {
    const state = await connect(peer);
    const tokenPacket = await firstDataPacket(
      peer,
      state,
      'PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\n\r\n',
    );
    const metadataPacket = await firstDataPacket(
      peer,
      state,
      'GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n',
    );
    sendTimeExceeded(peer, tokenPacket);
    sendTimeExceeded(peer, metadataPacket);
    await new Promise((resolve) => setTimeout(resolve, 20));
    return {
      counters: host.counterSnapshot(),
      reports: records.filter((r) => r.icmp === 'time-exceeded'),
      sentTtls: [tokenPacket[8], metadataPacket[8]],
    };
  } finally {
    host.stop();
  }
}

test("a router's ICMP time-exceeded quoting a token response is logged as dying at the hop limit, and counted", async () => {
  const { counters, reports } = await responsesDieInTransit(HOP_LIMIT);
  assert.equal(counters['icmp-time-exceeded-received'], 2);
  assert.equal(counters['token-responses-died-in-transit'], 1);
  assert.equal(reports[0]?.msg, `token response died at hop ${HOP_LIMIT}: the hop limit stopped it at a router`);
  assert.deepEqual(
    [reports[0]?.router, reports[0]?.client, reports[0]?.clientPort, reports[0]?.sentHopLimit],
    ['169.254.0.1', '169.254.169.253', 40000, HOP_LIMIT],
  );
  assert.equal(reports[1]?.msg, 'response packet died in transit at hop 64: TTL exhausted at a router');
  assert.equal(reports[1]?.tokenResponse, false);
});

test('at hop limit 64, the default TTL, a dying token response is still reported as one: the bytes carry the tag', async () => {
  const { counters, reports, sentTtls } = await responsesDieInTransit(64);
  assert.deepEqual(sentTtls, [64, 64], 'token and metadata responses left with the same TTL');
  assert.equal(counters['token-responses-died-in-transit'], 1);
  assert.deepEqual(
    reports.map((r) => [r.msg, r.tokenResponse, r.sentHopLimit]),
    [
      ['token response died at hop 64: the hop limit stopped it at a router', true, 64],
      ['response packet died in transit at hop 64: TTL exhausted at a router', false, 64],
    ],
  );
});

test('garbage, truncated and checksum-broken frames are dropped and counted; service continues', async () => {
  const { host, peer, stop } = startHost();
  try {
    peer.send(new Uint8Array([1, 2, 3]));
    const good = encodeIcmpFrame({
      srcMac: peerMac,
      dstMac: serviceMac,
      srcAddr: peerAddr,
      dstAddr: serviceAddr,
      hopLimit: 64,
      identification: 9,
      message: { kind: 'echo-request', identifier: 1, sequence: 1, data: new Uint8Array(8) },
    });
    const badIpChecksum = good.slice();
    badIpChecksum[14 + 10] ^= 0xff;
    peer.send(badIpChecksum);
    peer.send(good.slice(0, 14 + 12));
    const state = await connect(peer);
    const meta = await exchange(peer, state, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', /latest$/);
    assert.match(meta.text, /^HTTP\/1\.1 200 /);
    const counters = host.counterSnapshot();
    const dropped = Object.entries(counters).filter(([k]) => k.startsWith('frames-dropped-'));
    assert.equal(
      dropped.reduce((sum, [, v]) => sum + v, 0),
      3,
      JSON.stringify(counters),
    );
  } finally {
    stop();
  }
});

test('a malformed HTTP request gets 400 and the connection is closed with FIN', async () => {
  const { peer, stop } = startHost();
  try {
    const state = await connect(peer);
    const reply = await exchange(peer, state, 'GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n', /\r\n\r\n$/);
    assert.match(reply.text, /^HTTP\/1\.1 400 /);
    assert.match(reply.text, /Connection: close/i);
    let fin = reply.all.some((segment) => segment.control === 'fin');
    for (let i = 0; i < 5 && !fin; i++) fin = (await peer.nextTcp()).segment.control === 'fin';
    assert.ok(fin, 'the host closes its side after a framing error');
  } finally {
    stop();
  }
});

test("by default (as EC2) a response says Connection: close, in EC2's header order, and the host sends FIN", async () => {
  const { peer, stop } = startHost(undefined, 'close');
  try {
    const state = await connect(peer);
    const reply = await exchange(
      peer,
      state,
      'GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n',
      /i-0123456789abcdef0$/,
    );
    assert.match(
      reply.text,
      /^HTTP\/1\.1 200 OK\r\nContent-Type: text\/plain\r\nAccept-Ranges: none\r\nLast-Modified: [^\r]+\r\nContent-Length: 19\r\nDate: [^\r]+ GMT\r\nServer: EC2ws\r\nConnection: close\r\n\r\n/,
    );
    let fin = reply.all.some((segment) => segment.control === 'fin');
    for (let i = 0; i < 5 && !fin; i++) fin = (await peer.nextTcp()).segment.control === 'fin';
    assert.ok(fin, 'the host closes its side after the response');
  } finally {
    stop();
  }
});

test("the peer's FIN is acknowledged before our FIN leaves, and nothing stale follows our FIN", async () => {
  const { host, peer, stop } = startHost();
  try {
    const state = await connect(peer);
    await exchange(peer, state, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', /latest$/);
    peer.sendTcp({ seq: state.seq, ack: state.ack, control: 'fin' });
    const first = (await peer.nextTcp()).segment;
    const second = (await peer.nextTcp()).segment;
    assert.equal(first.control, 'none');
    assert.equal(first.ack, state.seq + 1, 'the FIN is acknowledged');
    assert.equal(second.control, 'fin');
    assert.equal(second.seq, state.ack);
    // Our FIN is acknowledged: the connection ends, and no segment may follow (the kernel would answer it).
    peer.sendTcp({ seq: state.seq + 1, ack: (state.ack + 1) >>> 0 });
    await assert.rejects(peer.next(200), /no frame/);
    assert.equal(host.counterSnapshot()['connections-closed-normal'], 1);
    assert.equal(host.counterSnapshot()['tcp-rst-sent-no-connection'], undefined);
  } finally {
    stop();
  }
});

test('caller tracking: named from the SYN, requests counted for the caller, the fallback after a dead token logged', async () => {
  const { CallerTracking } = await import('../../src/appliance/caller-tracking.ts');
  const { log, records } = recordingLogger();
  const { host, peer, stop } = startHost(log);
  const asked: string[] = [];
  const tracking = new CallerTracking(
    'local',
    {
      start: async () => ({ method: 'fd-search', reason: 'scripted' }),
      stop: () => undefined,
      counters: {},
      localSocket: async (local) => {
        asked.push(`${local.address.join('.')}:${local.port}`);
        return {
          socket: { ok: true, value: { inode: 7, cookie: 70n, uid: 1000, cgroupId: 1n, state: 2 } },
          process: {
            pid: 321,
            command: 'python3',
            executable: '/usr/bin/python3',
            argv: ['python3', 'app.py'],
            uid: 1000,
            cgroupText: '0::/\n',
            netnsLink: 'net:[1]',
          },
        };
      },
      conntrackOriginal: async () => ({ ok: false, reason: 'not-found' }),
      netnsName: async () => undefined,
      netnsOwningAddress: async () => undefined,
      cgroupPathById: async () => undefined,
    },
    log,
  );
  host.connectionObserver = tracking;
  try {
    const state = await connect(peer);
    assert.deepEqual(asked, ['169.254.169.253:40000'], 'named once, starting at the SYN');
    const tokenPacket = await firstDataPacket(
      peer,
      state,
      'PUT /latest/api/token HTTP/1.1\r\nHost: x\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\n\r\n',
    );
    sendTimeExceeded(peer, tokenPacket);
    await exchange(
      peer,
      state,
      'GET /latest/meta-data/iam/security-credentials/imds-hop-instance-role HTTP/1.1\r\nHost: x\r\n\r\n',
      /"Expiration" : "[^"]+"\s*}$/,
    );
    const [caller] = tracking.snapshot().callers;
    assert.equal(caller?.identity.name, 'python3 app.py');
    assert.deepEqual(caller?.pids, [321]);
    assert.deepEqual(
      [caller?.tokensIssued, caller?.v1, caller?.credentials['1.0'], caller?.fallbacksToV1],
      [1, 1, 1, 1],
    );
    const messages = records.map((r) => r.msg);
    assert.ok(
      messages.includes(
        `python3 app.py fell back to IMDSv1 after its token died at hop ${HOP_LIMIT} — raise the hop limit to ${HOP_LIMIT + 1} or run it on the instance`,
      ),
      messages.join('\n'),
    );
    assert.ok(messages.includes('python3 app.py used IMDSv1: its first request without a token'));
    assert.ok(messages.includes('python3 app.py fetched role credentials without a token (IMDSv1)'));
  } finally {
    stop();
  }
});

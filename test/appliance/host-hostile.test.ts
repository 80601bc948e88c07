// The Host under hostile input: faults in one request or frame, slow requests, spoofed ICMP errors and frames
// that try to teach it a neighbour's MAC address.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EtherType,
  IpProtocol,
  encodeArpFrame,
  encodeIcmpFrame,
  encodeTcpFrame,
  destinationMac,
  parseEthernet,
  parseIpv4,
  parseIpv4Address,
  parseTcp,
  BROADCAST_MAC,
} from '../../src/wire/index.ts';
import type { TcpSegment } from '../../src/wire/tcp-segment.ts';
import {
  FramePeer,
  PEER_MAC,
  SERVICE_ADDR,
  SERVICE_MAC,
  recordingLogger,
  startTestHost,
  type TestHostOptions,
} from './host-fixture.ts';

const peerAddr = parseIpv4Address('169.254.169.253');
const otherMac = new Uint8Array([2, 0, 0, 0, 0, 0x66]);

class Peer extends FramePeer {
  /** The destination MAC of every TCP segment received. */
  readonly macsSeen: string[] = [];

  /** The next TCP segment and the MAC it was sent to. */
  async nextTcp(): Promise<{ segment: TcpSegment; dstMac: Uint8Array }> {
    for (;;) {
      const frame = await this.next();
      const eth = parseEthernet(frame);
      assert.ok(eth.ok);
      if (eth.value.etherType !== EtherType.IPV4) continue;
      const ip = parseIpv4(eth.value.payload);
      assert.ok(ip.ok);
      if (ip.value.protocol !== IpProtocol.TCP) continue;
      const segment = parseTcp(ip.value.payload, ip.value.src, ip.value.dst);
      assert.ok(segment.ok);
      this.macsSeen.push(Buffer.from(destinationMac(frame)).toString('hex'));
      return { segment: segment.value, dstMac: destinationMac(frame).slice() };
    }
  }

  tcpFrame(segment: Partial<TcpSegment> & Pick<TcpSegment, 'seq'>, srcMac = PEER_MAC): Uint8Array {
    return encodeTcpFrame({
      srcMac,
      dstMac: SERVICE_MAC,
      srcAddr: peerAddr,
      dstAddr: SERVICE_ADDR,
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
    });
  }

  sendTcp(segment: Partial<TcpSegment> & Pick<TcpSegment, 'seq'>, srcMac = PEER_MAC): void {
    this.send(this.tcpFrame(segment, srcMac));
  }

  async connect(): Promise<{ seq: number; ack: number }> {
    this.sendTcp({ seq: 1000, control: 'syn', options: { mss: 1460 } });
    const synAck = await this.nextTcp();
    assert.equal(synAck.segment.control, 'syn');
    const ack = (synAck.segment.seq + 1) >>> 0;
    this.sendTcp({ seq: 1001, ack });
    return { seq: 1001, ack };
  }

  /** Sends bytes and reads response text until `until` matches. */
  async request(state: { seq: number; ack: number }, text: string, until: RegExp): Promise<string> {
    const bytes = new TextEncoder().encode(text);
    if (bytes.length > 0) this.sendTcp({ seq: state.seq, ack: state.ack, push: true, payload: bytes });
    state.seq += bytes.length;
    let received = '';
    while (!until.test(received)) {
      const { segment } = await this.nextTcp();
      received += Buffer.from(segment.payload).toString('latin1');
      state.ack = (state.ack + segment.payload.length + (segment.control === 'fin' ? 1 : 0)) >>> 0;
      if (segment.control === 'fin') received += '<FIN>';
    }
    return received;
  }
}

function start(options: Partial<TestHostOptions> = {}) {
  // These tests hold one connection for several requests: persistent connections (EC2's default closes).
  const { host, peerSide } = startTestHost({ mss: 1460, connection: 'keep-alive', ...options });
  return { host, peer: new Peer(peerSide), peerSide, stop: () => host.stop() };
}

const GET_ID = 'GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: x\r\n\r\n';

describe('fault isolation', () => {
  test('an exception while answering one request gets that request a 500; the next on the same connection is answered', async () => {
    let calls = 0;
    const { host, peer, stop } = start({
      wrapEngine: (engine) => ({
        handle: (request, wallMs) => {
          calls += 1;
          if (calls === 1) throw new RangeError('Invalid time value');
          return engine.handle(request, wallMs);
        },
      }),
    });
    try {
      const state = await peer.connect();
      assert.match(await peer.request(state, GET_ID, /\r\n\r\n$/), /^HTTP\/1\.1 500 /);
      assert.match(await peer.request(state, GET_ID, /i-0123456789abcdef0$/), /^HTTP\/1\.1 200 /);
      assert.equal(host.counterSnapshot()['request-handler-exceptions'], 1);
    } finally {
      stop();
    }
  });

  test('an exception while handling one frame drops that frame only: the frames after it, in the same batch too, are served', async () => {
    const { log, records } = recordingLogger();
    const { host, peer, stop } = start({ log });
    try {
      // The host's first transmission throws: the ARP reply to the first request never leaves.
      const arp = (i: number) =>
        encodeArpFrame({
          srcMac: PEER_MAC,
          dstMac: BROADCAST_MAC,
          packet: {
            operation: 'request',
            senderMac: PEER_MAC,
            senderIp: peerAddr + i,
            targetMac: new Uint8Array(6),
            targetIp: SERVICE_ADDR,
          },
        });
      const original = Object.getPrototypeOf(host).transmit as (frame: Uint8Array) => void;
      let sends = 0;
      (host as unknown as { transmit: (frame: Uint8Array) => void }).transmit = function (
        this: unknown,
        frame: Uint8Array,
      ) {
        sends += 1;
        if (sends === 1) throw new Error('injected fault');
        original.call(this, frame);
      };
      peer.send(arp(0));
      peer.send(arp(1));
      const eth = parseEthernet(await peer.next());
      assert.ok(eth.ok && eth.value.etherType === EtherType.ARP);
      assert.equal(host.counterSnapshot()['frame-handler-exceptions'], 1);
      assert.ok(records.some((r) => r.msg === 'exception while handling a frame: frame dropped, data path continues'));
      const state = await peer.connect();
      assert.match(await peer.request(state, GET_ID, /i-0123456789abcdef0$/), /^HTTP\/1\.1 200 /);
    } finally {
      stop();
    }
  });
});

describe('request-header timeout', () => {
  test('a request trickled byte by byte gets 408 and a FIN once its time from the first byte is up', async () => {
    const { host, peer, stop } = start({ configure: (config) => (config.requestHeaderTimeoutMs = 300) });
    try {
      const state = await peer.connect();
      const started = performance.now();
      // Each byte would renew an idle timer; the header deadline runs from the first one.
      for (const byte of 'GET /late') {
        peer.sendTcp({ seq: state.seq, ack: state.ack, payload: new TextEncoder().encode(byte) });
        state.seq += 1;
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
      const answer = await peer.request(state, '', /<FIN>$/);
      assert.match(answer, /^HTTP\/1\.1 408 /);
      assert.match(answer, /Connection: close/i);
      assert.ok(performance.now() - started >= 300);
      assert.equal(host.counterSnapshot()['requests-header-timeout'], 1);
    } finally {
      stop();
    }
  });

  test('complete requests on a keep-alive connection never meet the timeout, however long the connection lives', async () => {
    const { host, peer, stop } = start({ configure: (config) => (config.requestHeaderTimeoutMs = 100) });
    try {
      const state = await peer.connect();
      for (let i = 0; i < 3; i += 1) {
        assert.match(await peer.request(state, GET_ID, /i-0123456789abcdef0$/), /^HTTP\/1\.1 200 /);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      assert.equal(host.counterSnapshot()['requests-header-timeout'], undefined);
    } finally {
      stop();
    }
  });
});

describe('ICMP errors and log floods', () => {
  test('errors quoting segments we never sent are counted, not logged; malformed requests log at a bounded rate', async () => {
    const { log, records } = recordingLogger();
    // A slow refill, so a loaded machine cannot let an extra line through mid-test.
    const { host, peer, stop } = start({
      log,
      configure: (config) => (config.logRateLimit = { burst: 10, intervalMs: 600_000 }),
    });
    try {
      for (let i = 0; i < 2_000; i += 1) {
        const original = new Uint8Array(28);
        original[0] = 0x45;
        original[8] = 1;
        original[9] = IpProtocol.TCP;
        original.set([169, 254, 169, 254], 12);
        original.set([169, 254, 0, (i % 200) + 1], 16);
        original.set([0, 80, 0x9c, 0x40, i >> 8, i & 0xff, 0, 0], 20);
        peer.send(
          encodeIcmpFrame({
            srcMac: PEER_MAC,
            dstMac: SERVICE_MAC,
            srcAddr: parseIpv4Address('169.254.0.1'),
            dstAddr: SERVICE_ADDR,
            hopLimit: 64,
            identification: i,
            message: { kind: 'time-exceeded', code: 0, original },
          }),
        );
      }
      // Malformed requests: each on its own connection, each answered 400, their log lines limited.
      for (let i = 0; i < 30; i += 1) {
        peer.sendTcp({ seq: 5000, control: 'syn', srcPort: 50000 + i, options: { mss: 1460 } } as TcpSegment);
        const synAck = await peer.nextTcp();
        const ack = (synAck.segment.seq + 1) >>> 0;
        peer.sendTcp({
          seq: 5001,
          ack,
          srcPort: 50000 + i,
          payload: new TextEncoder().encode('BAD REQUEST\r\n\r\n'),
        } as TcpSegment);
        const reply = await peer.request({ seq: 5001 + 15, ack }, '', /\r\n\r\n/);
        assert.match(reply, /^HTTP\/1\.1 400 /);
      }
      const counters = host.counterSnapshot();
      assert.equal(counters['icmp-errors-unmatched'], 2_000);
      assert.equal(counters['token-responses-died-in-transit'], undefined);
      assert.equal(records.filter((r) => /died|refused on the way/.test(String(r.msg))).length, 0);
      const malformedLines = records.filter((r) => r.msg === 'malformed HTTP request').length;
      assert.equal(malformedLines, 10, 'the burst, then nothing');
      assert.equal(counters['log-lines-suppressed'], 30 - malformedLines);
    } finally {
      stop();
    }
  });
});

describe('neighbour learning', () => {
  test('a frame failing its checksum, or a segment for no connection, cannot move where replies go', async () => {
    const { peer, stop } = start();
    try {
      const state = await peer.connect();
      // From another MAC: a checksum-broken segment, and a stray ACK for a connection that does not exist.
      const broken = peer.tcpFrame({ seq: state.seq, ack: state.ack }, otherMac);
      broken[14 + 20 + 16] ^= 0xff;
      peer.send(broken);
      peer.sendTcp({ seq: 1, ack: 1, srcPort: 41000 }, otherMac);
      const reply = await peer.request(state, GET_ID, /i-0123456789abcdef0$/);
      assert.match(reply, /^HTTP\/1\.1 200 /);
      // Every segment, the answer included, went to the MAC that opened the connection.
      assert.ok(peer.macsSeen.length >= 2);
      assert.deepEqual(new Set(peer.macsSeen), new Set([Buffer.from(PEER_MAC).toString('hex')]));
    } finally {
      stop();
    }
  });
});

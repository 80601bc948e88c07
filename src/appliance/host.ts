// One served link: answers ARP for the service address and ICMP echo, demultiplexes IPv4/TCP into the TCP
// stack, runs one HTTP session per connection, and transmits what the stack decides. The only clock reads and
// the only timer of the packet path live here, at the edge.
import type { Logger } from 'pino';
import type { FrameLink } from '../link/index.ts';
import {
  BROADCAST_MAC,
  EtherType,
  IpProtocol,
  encodeArpFrame,
  encodeIcmpFrame,
  encodeTcpFrame,
  encodeIcmpv6Frame,
  encodeTcpIpv6Frame,
  formatIpv4Address,
  formatMacAddress,
  ipv6Equals,
  ipv6MulticastMac,
  isIpv6ExtensionHeader,
  isUnspecifiedIpv6,
  macEquals,
  parseArp,
  parseEthernet,
  parseIcmp,
  parseIcmpv6,
  parseIpv4,
  parseIpv6,
  parseQuotedDatagram,
  parseQuotedIpv6Datagram,
  formatIpv6Address,
  parseTcp,
  parseTcpIpv6,
  solicitedNodeAddress,
  Ipv6NextHeader,
  ND_HOP_LIMIT,
  type Ipv4Packet,
  type Ipv6Packet,
} from '../wire/index.ts';
import type { TcpSegment } from '../wire/tcp-segment.ts';
import { TcpStack, type ConnectionId, type Endpoints, type SendTag, type TcpAction, type TcpConfig } from '../tcp/index.ts';
import type { HttpLimits } from '../http/index.ts';
import type { ImdsRequest, ImdsResponse } from '../imds/index.ts';
import { Counters } from './counters.ts';
import { HttpSession, type ConnectionPolicy, type SessionOutput, type SessionResponse } from './http-session.ts';
import type { FaultInjector, RequestPeer } from './fault-injector.ts';
import { ResponsePacer } from './response-pacer.ts';
import { IPV6_LOCAL_ID, Ipv6Peers } from './ipv6-peers.ts';
import { Ipv6SentHopLimits } from './ipv6-sent-hop-limits.ts';
import { Ipv4SentPackets } from './ipv4-sent-packets.ts';
import { RateLimitedLog, type RateLimit } from './rate-limited-log.ts';
import { INTERNAL_ERROR_RESPONSE, guardFrames } from './fault-guard.ts';

/** IPv6 token-response segments remembered for ICMPv6 errors; far more than are in flight at once. */
const IPV6_SENT_HOP_LIMIT_RECORDS = 4096;

/** What an ICMP or ICMPv6 error told us about one of our response packets, for the log. */
interface RefusedResponse {
  icmp: 'time-exceeded' | 'destination-unreachable';
  code: number;
  router: string;
  client: string;
  clientPort: number | undefined;
  /** The TTL / Hop Limit the packet left with, when known. */
  sentHopLimit: number | undefined;
  /** Read from the tag the packet's bytes carried when it left, never inferred from its hop limit. */
  tokenResponse: boolean;
}

export interface HostIpv6Config {
  /** The IPv6 endpoint, e.g. fd00:ec2::254. */
  serviceAddress: Uint8Array;
  /** Read per packet: when false every IPv6 frame is dropped and counted, as if the endpoint were off. */
  enabled: () => boolean;
}

export interface HostConfig {
  mac: Uint8Array;
  serviceAddress: number;
  /** Its defaultHopLimit is the hop limit of every packet that is not a token response, ICMP replies included. */
  tcp: TcpConfig;
  http: Partial<HttpLimits>;
  /** Close after every response as EC2 does (default), or keep connections alive. */
  connection?: ConnectionPolicy;
  /** Remote addresses whose MAC we remember for replies; bounds memory under spoofed sources. */
  maxNeighbors: number;
  /**
   * Accept TCP checksums a capture sees unfinished (sender used checksum offload). Only for links that observe
   * another host's traffic (pcap); a tap receives finished checksums.
   */
  acceptOffloadedChecksums?: boolean;
  /** Serve the IPv6 endpoint too; without it IPv6 frames are dropped as an unsupported EtherType. */
  ipv6?: HostIpv6Config;
  /** Faults on demand: packet allowance, connection accounting, request faults. Off when absent. */
  faults?: FaultInjector;
  /** A request not complete this long after its first byte gets 408 and the connection closes. */
  requestHeaderTimeoutMs?: number;
  /** Log lines hostile traffic can trigger (ICMP errors, malformed requests, faults), per kind. */
  logRateLimit?: RateLimit;
}

/** nginx's client_header_timeout is 60 s; a real client sends its whole request in one segment. */
export const DEFAULT_REQUEST_HEADER_TIMEOUT_MS = 10_000;

export interface Clock {
  /** Monotonic milliseconds for protocol timers. */
  monotonicMs(): number;
  /** Wall-clock milliseconds for token expiry and Date headers. */
  wallMs(): number;
}

/** A connection's endpoints as seen on the link, for naming its caller (caller-tracking.ts). */
export interface ObservedConnection {
  clientAddress: Uint8Array;
  clientPort: number;
  serviceAddress: Uint8Array;
  servicePort: number;
  clientMac: Uint8Array | undefined;
}

/** Told about connections and requests by the Host; must return at once (its work is asynchronous). */
export interface ConnectionObserver {
  /** A SYN: naming the caller may start before the handshake ends, while a short-lived client still lives. */
  connecting(connection: ObservedConnection): void;
  opened(id: ConnectionId, connection: ObservedConnection): void;
  answered(id: ConnectionId, target: string, response: ImdsResponse): void;
  closed(id: ConnectionId): void;
  tokenDied(client: string, clientPort: number, hop: number): void;
}

export interface ServiceEngine {
  handle(request: ImdsRequest, wallMs: number): ImdsResponse;
}

export class Host {
  readonly counters = new Counters();
  private readonly tcp: TcpStack;
  private readonly sessions = new Map<ConnectionId, HttpSession>();
  /** Reply to the link-layer source a remote address was last seen from (the instance kernel, or a router). */
  private readonly neighbors = new Map<number, Uint8Array>();
  /** IPv6 peers as the synthetic ids the TCP stack knows them by, with their MACs. */
  private readonly ipv6Peers: Ipv6Peers;
  private readonly ipv6SentHopLimits = new Ipv6SentHopLimits(IPV6_SENT_HOP_LIMIT_RECORDS);
  private readonly ipv6SolicitedNode: Uint8Array | undefined;
  private readonly ipv6SolicitedNodeMac: Uint8Array | undefined;
  /** What each IP identification last left as: an ICMP error quotes the id, so we know what died and where. */
  private readonly ipv4Sent = new Ipv4SentPackets();
  private timer: NodeJS.Timeout | undefined;
  private timerDeadline: number | undefined;
  private stopped = false;
  private readonly limitedLog: RateLimitedLog;
  private readonly requestHeaderTimeoutMs: number;
  /** Shared by every HTTP session: no closures allocated per connection. A fault in it answers 500, nothing more. */
  private readonly handleRequest = (request: ImdsRequest, connectionId: number): SessionResponse => {
    try {
      return this.config.faults
        ? this.config.faults.handle(request, connectionId, this.peerOf, this.clock.monotonicMs(), this.clock.wallMs())
        : this.engine.handle(request, this.clock.wallMs());
    } catch (error) {
      this.counters.increment('request-handler-exceptions');
      this.limitedLog.error('request-handler', { err: error, method: request.method }, 'exception while answering a request: 500');
      return INTERNAL_ERROR_RESPONSE;
    }
  };
  /** Responses a fault holds back or cuts short leave through here, in order, on event-loop timers. */
  private readonly pacer = new ResponsePacer({
    send: (id, bytes, tag, thenClose) => this.sendOnConnection(id, bytes, tag, thenClose, this.clock.monotonicMs()),
    close: (id) => this.apply(this.tcp.close(id, this.clock.monotonicMs()), this.clock.monotonicMs()),
    abort: (id) => this.apply(this.tcp.abort(id, this.clock.monotonicMs()), this.clock.monotonicMs()),
    settled: () => this.armTimer(),
    overflow: (_id, what) => this.counters.increment(`fault-responses-held-over-limit-${what}`),
  });
  private readonly dateHeader = (): string => {
    const second = Math.floor(this.clock.wallMs() / 1000);
    if (second !== this.dateSecond) {
      this.dateSecond = second;
      this.dateText = new Date(second * 1000).toUTCString();
    }
    return this.dateText;
  };
  private dateSecond = Number.NaN;
  private dateText = '';
  /** Caller attribution, when enabled. */
  connectionObserver: ConnectionObserver | undefined;

  constructor(
    private readonly config: HostConfig,
    private readonly link: FrameLink,
    private readonly engine: ServiceEngine,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.tcp = new TcpStack(config.tcp);
    this.ipv6Peers = new Ipv6Peers(config.maxNeighbors);
    this.limitedLog = new RateLimitedLog(log, () => clock.monotonicMs(), () => this.counters.increment('log-lines-suppressed'), config.logRateLimit);
    this.requestHeaderTimeoutMs = config.requestHeaderTimeoutMs ?? DEFAULT_REQUEST_HEADER_TIMEOUT_MS;
    if (config.ipv6) {
      this.ipv6SolicitedNode = solicitedNodeAddress(config.ipv6.serviceAddress);
      this.ipv6SolicitedNodeMac = ipv6MulticastMac(this.ipv6SolicitedNode);
    }
  }

  start(): void {
    const onFault = (error: unknown) => {
      this.counters.increment('frame-handler-exceptions');
      this.limitedLog.error('frame-handler', { err: error }, 'exception while handling a frame: frame dropped, data path continues');
    };
    this.link.onFrames(
      guardFrames((frame, now) => this.handleFrame(frame, now), () => this.clock.monotonicMs(), () => this.stopped, () => this.armTimer(), onFault),
    );
  }

  stop(): void {
    this.stopped = true;
    this.pacer.stop();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Counters of this host and of its TCP stack, in one flat record. */
  counterSnapshot(): Record<string, number> {
    const tcpCounters = Object.fromEntries(Object.entries(this.tcp.counters).map(([k, v]) => [`tcp-${k}`, v]));
    return {
      ...this.counters.snapshot(),
      ...this.config.faults?.counters.snapshot(),
      ...tcpCounters,
      'tcp-connections-open': this.tcp.connectionCount(),
      'tcp-connections-half-open': this.tcp.halfOpenCount(),
      'tcp-connections-time-wait': this.tcp.timeWaitCount(),
    };
  }

  private handleFrame(frame: Uint8Array, now: number): void {
    this.counters.increment('frames-received');
    const ethernet = parseEthernet(frame);
    if (!ethernet.ok) return this.drop(`ethernet-${ethernet.reason}`);
    const { dst, src, etherType, payload } = ethernet.value;
    if (
      !macEquals(dst, this.config.mac) &&
      !macEquals(dst, BROADCAST_MAC) &&
      !(this.ipv6SolicitedNodeMac && etherType === EtherType.IPV6 && macEquals(dst, this.ipv6SolicitedNodeMac))
    ) {
      return this.drop('not-for-us');
    }
    if (etherType === EtherType.ARP) return this.handleArp(payload, src);
    if (etherType === EtherType.IPV6 && this.config.ipv6) return this.handleIpv6(this.config.ipv6, payload, src, now);
    if (etherType !== EtherType.IPV4) return this.drop('unsupported-ethertype');
    const ip = parseIpv4(payload);
    if (!ip.ok) return this.drop(`ipv4-${ip.reason}`);
    if (ip.value.dst !== this.config.serviceAddress) return this.drop('ipv4-not-for-us');
    if (this.config.faults && !this.config.faults.admitPacket(ip.value.src, now)) return;
    if (ip.value.protocol === IpProtocol.TCP) return this.handleTcp(ip.value, src, now);
    if (ip.value.protocol === IpProtocol.ICMP) return this.handleIcmp(ip.value, src);
    this.drop('unsupported-ip-protocol');
  }

  private handleIpv6(v6: HostIpv6Config, payload: Uint8Array, srcMac: Uint8Array, now: number): void {
    if (!v6.enabled()) return this.drop('ipv6-disabled');
    const parsed = parseIpv6(payload);
    if (!parsed.ok) return this.drop(`ipv6-${parsed.reason}`);
    const ip = parsed.value;
    const toService = ipv6Equals(ip.dst, v6.serviceAddress);
    // The solicited-node group carries only neighbor solicitations for the service address.
    if (!toService && !(this.ipv6SolicitedNode && ipv6Equals(ip.dst, this.ipv6SolicitedNode))) return this.drop('ipv6-not-for-us');
    if (ip.src[0] === 0xff) return this.drop('ipv6-multicast-source');
    if (isIpv6ExtensionHeader(ip.nextHeader)) return this.drop('ipv6-extension-header');
    if (toService && this.config.faults && !this.config.faults.admitIpv6Packet(ip.src, now)) return;
    if (ip.nextHeader === Ipv6NextHeader.ICMPV6) return this.handleIcmpv6(v6, ip, toService, srcMac);
    if (!toService) return this.drop('ipv6-not-for-us');
    if (ip.nextHeader === Ipv6NextHeader.TCP) return this.handleTcpIpv6(ip, srcMac, now);
    this.drop('ipv6-unsupported-next-header');
  }

  private handleIcmpv6(v6: HostIpv6Config, ip: Ipv6Packet, toService: boolean, srcMac: Uint8Array): void {
    const icmp = parseIcmpv6(ip.payload, ip.src, ip.dst);
    if (!icmp.ok) return this.drop(`icmpv6-${icmp.reason}`);
    const message = icmp.value;
    if (message.kind === 'neighbor-solicitation') {
      // RFC 4861 §7.1.1: hop limit 255 proves the solicitation never crossed a router.
      if (ip.hopLimit !== ND_HOP_LIMIT) return this.drop('ndp-bad-hop-limit');
      if (!ipv6Equals(message.target, v6.serviceAddress)) return this.drop('ndp-other-target');
      // Duplicate address detection by someone else: we never claim addresses by DAD, so stay quiet.
      if (isUnspecifiedIpv6(ip.src)) return this.drop('ndp-dad');
      this.transmit(
        encodeIcmpv6Frame({
          srcMac: this.config.mac,
          dstMac: message.sourceLinkAddress ?? srcMac,
          srcAddr: v6.serviceAddress,
          dstAddr: ip.src,
          hopLimit: ND_HOP_LIMIT,
          message: {
            kind: 'neighbor-advertisement',
            router: false,
            solicited: true,
            override: true,
            target: v6.serviceAddress,
            targetLinkAddress: this.config.mac,
          },
        }),
      );
      this.counters.increment('ndp-advertisements');
      return;
    }
    if (message.kind === 'echo-request' && toService && !isUnspecifiedIpv6(ip.src)) {
      this.transmit(
        encodeIcmpv6Frame({
          srcMac: this.config.mac,
          dstMac: srcMac,
          srcAddr: v6.serviceAddress,
          dstAddr: ip.src,
          hopLimit: this.tcp.defaultHopLimit,
          message: { kind: 'echo-reply', identifier: message.identifier, sequence: message.sequence, data: message.data },
        }),
      );
      this.counters.increment('icmpv6-echo-replies');
      return;
    }
    if ((message.kind === 'time-exceeded' || message.kind === 'destination-unreachable') && toService) {
      this.counters.increment(`icmpv6-${message.kind}-received`);
      const quoted = parseQuotedIpv6Datagram(message.original);
      if (quoted.ok && ipv6Equals(quoted.value.src, v6.serviceAddress)) {
        const { dst, srcPort, dstPort, tcpSeq } = quoted.value;
        const peer = this.ipv6Peers.find(dst);
        if (!this.quotesOurSegment(IPV6_LOCAL_ID, peer?.id, srcPort, dstPort, tcpSeq)) return;
        const sentHopLimit =
          peer && dstPort !== undefined && tcpSeq !== undefined ? this.ipv6SentHopLimits.lookup(peer.id, dstPort, tcpSeq) : undefined;
        this.reportRefusedResponse({
          icmp: message.kind,
          code: message.code,
          router: formatIpv6Address(ip.src),
          client: formatIpv6Address(dst),
          clientPort: dstPort,
          // Only segments tagged as token responses are recorded.
          sentHopLimit,
          tokenResponse: sentHopLimit !== undefined,
        });
      }
      return;
    }
    // Router solicitations, MLD, advertisements: nothing a metadata endpoint answers.
    this.drop(message.kind === 'other' ? `icmpv6-type-${message.type}` : `icmpv6-${message.kind}`);
  }

  private handleTcpIpv6(ip: Ipv6Packet, srcMac: Uint8Array, now: number): void {
    if (isUnspecifiedIpv6(ip.src)) return this.drop('ipv6-unspecified-source');
    const segment = parseTcpIpv6(ip.payload, ip.src, ip.dst, { acceptOffloadedChecksum: this.config.acceptOffloadedChecksums === true });
    if (!segment.ok) return this.drop(`tcp-${segment.reason}`);
    // The peer table learns (and may evict for) only segments that passed every check and belong to us.
    const known = this.ipv6Peers.find(ip.src);
    if (known === undefined && !this.isSynToUs(segment.value)) return this.drop('tcp-unknown-peer');
    const peerId = known?.id ?? this.ipv6Peers.seen(ip.src, srcMac);
    const actions = this.tcp.receive(peerId, IPV6_LOCAL_ID, segment.value, now);
    if (known !== undefined && this.mayLearnNeighbor(peerId, IPV6_LOCAL_ID, segment.value)) this.ipv6Peers.seen(ip.src, srcMac);
    if (this.connectionObserver && segment.value.control === 'syn' && segment.value.ack === undefined) {
      this.connectionObserver.connecting({ clientAddress: ip.src, clientPort: segment.value.srcPort, serviceAddress: ip.dst, servicePort: segment.value.dstPort, clientMac: srcMac });
    }
    this.apply(actions, now);
  }

  private drop(reason: string): void {
    this.counters.increment(`frames-dropped-${reason}`);
  }

  private handleArp(payload: Uint8Array, srcMac: Uint8Array): void {
    const arp = parseArp(payload);
    if (!arp.ok) return this.drop(`arp-${arp.reason}`);
    const packet = arp.value;
    if (packet.operation !== 'request' || packet.targetIp !== this.config.serviceAddress) {
      this.counters.increment('arp-ignored');
      return;
    }
    this.transmit(
      encodeArpFrame({
        srcMac: this.config.mac,
        dstMac: srcMac,
        packet: {
          operation: 'reply',
          senderMac: this.config.mac,
          senderIp: this.config.serviceAddress,
          targetMac: packet.senderMac,
          targetIp: packet.senderIp,
        },
      }),
    );
    this.counters.increment('arp-replies');
  }

  private handleIcmp(ip: Ipv4Packet, srcMac: Uint8Array): void {
    const icmp = parseIcmp(ip.payload);
    if (!icmp.ok) return this.drop(`icmp-${icmp.reason}`);
    const message = icmp.value;
    if (message.kind === 'echo-request') {
      this.transmit(
        encodeIcmpFrame({
          srcMac: this.config.mac,
          dstMac: srcMac,
          srcAddr: this.config.serviceAddress,
          dstAddr: ip.src,
          hopLimit: this.tcp.defaultHopLimit,
          identification: this.ipv4Sent.next(this.tcp.defaultHopLimit, false),
          message: { kind: 'echo-reply', identifier: message.identifier, sequence: message.sequence, data: message.data },
        }),
      );
      this.counters.increment('icmp-echo-replies');
      return;
    }
    if (message.kind === 'time-exceeded' || message.kind === 'destination-unreachable') {
      const quoted = parseQuotedDatagram(message.original);
      this.counters.increment(`icmp-${message.kind}-received`);
      if (quoted.ok && quoted.value.src === this.config.serviceAddress) {
        const { dst, srcPort, dstPort, tcpSeq } = quoted.value;
        if (!this.quotesOurSegment(this.config.serviceAddress, dst, srcPort, dstPort, tcpSeq)) return;
        // A router on the way to the client refused one of our packets. A packet sent with TTL t that expires
        // dies at hop t; for a token response that is the hop limit doing its job.
        const sent = this.ipv4Sent.lookup(quoted.value.identification);
        this.reportRefusedResponse({
          icmp: message.kind,
          code: message.code,
          router: formatIpv4Address(ip.src),
          client: formatIpv4Address(quoted.value.dst),
          clientPort: quoted.value.dstPort,
          sentHopLimit: sent?.hopLimit,
          tokenResponse: sent?.tokenResponse === true,
        });
      }
      return;
    }
    this.counters.increment('icmp-ignored');
  }

  /** Logs (and counts, for a token) one of our packets that a router refused or let expire on the way. */
  private reportRefusedResponse(refused: RefusedResponse): void {
    if (refused.icmp === 'time-exceeded' && refused.tokenResponse) {
      this.counters.increment('token-responses-died-in-transit');
      if (refused.clientPort !== undefined && refused.sentHopLimit !== undefined) {
        this.connectionObserver?.tokenDied(refused.client, refused.clientPort, refused.sentHopLimit);
      }
    }
    this.limitedLog.warn(
      'icmp-error',
      { ...refused },
      refused.icmp !== 'time-exceeded'
        ? 'response packet refused on the way to the client'
        : refused.tokenResponse
          ? `token response died at hop ${refused.sentHopLimit}: the hop limit stopped it at a router`
          : `response packet died in transit${refused.sentHopLimit ? ` at hop ${refused.sentHopLimit}` : ''}: TTL exhausted at a router`,
    );
  }

  private handleTcp(ip: Ipv4Packet, srcMac: Uint8Array, now: number): void {
    const segment = parseTcp(ip.payload, ip.src, ip.dst, { acceptOffloadedChecksum: this.config.acceptOffloadedChecksums === true });
    if (!segment.ok) return this.drop(`tcp-${segment.reason}`);
    const actions = this.tcp.receive(ip.src, ip.dst, segment.value, now);
    // After receive: a SYN-cookie ACK has opened its connection by now.
    if (this.mayLearnNeighbor(ip.src, ip.dst, segment.value)) this.rememberNeighbor(ip.src, srcMac);
    if (this.connectionObserver && segment.value.control === 'syn' && segment.value.ack === undefined) {
      this.connectionObserver.connecting(this.observed(ip.src, segment.value.srcPort, ip.dst, segment.value.dstPort));
    }
    this.apply(actions, now);
  }

  private isSynToUs(segment: TcpSegment): boolean {
    return segment.control === 'syn' && segment.ack === undefined && this.config.tcp.listenPorts.includes(segment.dstPort);
  }

  /**
   * A neighbour's MAC is learned only from a segment that passed every check and is ours: one of a connection we
   * hold, or a SYN to a port we serve. Anything else (a stray ACK, a RST, a closed port) teaches nothing.
   */
  private mayLearnNeighbor(remote: number, local: number, segment: TcpSegment): boolean {
    return this.isSynToUs(segment) || this.tcp.hasConnection(local, segment.dstPort, remote, segment.srcPort);
  }

  /** RFC 5927 4.1: an ICMP error counts only if it quotes a segment we sent and the peer has not acknowledged. */
  private quotesOurSegment(local: number, remote: number | undefined, localPort?: number, remotePort?: number, seq?: number): boolean {
    const matched =
      remote !== undefined &&
      localPort !== undefined &&
      remotePort !== undefined &&
      seq !== undefined &&
      this.tcp.sentSequenceMatches(local, localPort, remote, remotePort, seq);
    if (!matched) this.counters.increment('icmp-errors-unmatched');
    return matched;
  }

  /** Carries out what the TCP stack decided; application events may produce more actions. */
  private apply(actions: TcpAction[], now: number): void {
    // The stack's segments go out before the application reacts to the same step: otherwise a segment decided
    // earlier (the ACK of a FIN) would leave after one decided later (our FIN) and reach the peer as stale.
    for (const action of actions) {
      if (action.kind === 'transmit') this.transmitSegment(action);
    }
    for (const action of actions) {
      switch (action.kind) {
        case 'transmit':
          break;
        case 'accepted':
          // The HTTP session is created by the first bytes (deliver): an idle connection costs none.
          this.counters.increment('connections-accepted');
          this.config.faults?.connectionOpened(action.id, action.endpoints.remoteAddr);
          if (this.connectionObserver) this.observeOpened(action.id, action.endpoints);
          break;
        case 'data':
          this.deliver(action.id, action.bytes, now);
          break;
        case 'peer-closed':
          // Every request was answered when it arrived (or a fault holds its answer: close after it), so our side is done too.
          if (this.pacer.closeWhenDone(action.id)) break;
          this.apply(this.tcp.close(action.id, now), now);
          break;
        case 'closed':
          this.sessions.delete(action.id);
          this.pacer.forget(action.id);
          this.config.faults?.connectionClosed(action.id);
          this.connectionObserver?.closed(action.id);
          this.counters.increment(`connections-closed-${action.reason}`);
          break;
        case 'application-deadline': {
          const expired = this.sessions.get(action.id)?.expire();
          if (expired?.errorCode !== undefined) this.respond(action.id, expired, now);
          break;
        }
      }
    }
  }

  private deliver(id: ConnectionId, bytes: Uint8Array, now: number): void {
    let session = this.sessions.get(id);
    if (!session) {
      session = new HttpSession(this.config.http, this.handleRequest, this.dateHeader, this.config.connection, id);
      this.sessions.set(id, session);
    }
    this.respond(id, session.receive(bytes, now), now);
    this.tcp.setApplicationDeadline(id, session.requestDeadline(this.requestHeaderTimeoutMs));
  }

  private respond(id: ConnectionId, output: SessionOutput, now: number): void {
    const debug = this.log.isLevelEnabled('debug');
    for (const { request, response } of output.requests) {
      if (response.status === 0) continue; // a fault answered with silence, RST or FIN: counted by the injector
      this.counters.increment(`http-responses-${response.status}`);
      if (response.hopLimit !== undefined) this.counters.increment('http-hop-limited-responses');
      if (debug) this.log.debug({ method: request.method, path: request.target, status: response.status }, 'request');
      this.connectionObserver?.answered(id, request.target, response);
    }
    if (output.errorCode) {
      this.counters.increment(`http-errors-${output.errorCode}`);
      if (output.errorCode === 'request-timeout') this.counters.increment('requests-header-timeout');
      this.limitedLog.info('malformed-http', { code: output.errorCode }, 'malformed HTTP request');
    }
    const chunks = output.chunks;
    if (this.pacer.needs(id, chunks)) return this.pacer.deliver(id, chunks, output.close);
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i] as (typeof chunks)[number];
      // Closing after the last response: our FIN rides on its last segment instead of a segment of its own.
      const thenClose = output.close && i === chunks.length - 1;
      if (!this.sendOnConnection(id, chunk.bytes, chunk, thenClose, now)) return;
    }
    if (output.close && chunks.length === 0) this.apply(this.tcp.close(id, now), now);
  }

  /** Queues tagged response bytes; false when the connection refused them (then it is reset) or is gone. */
  private sendOnConnection(id: ConnectionId, bytes: Uint8Array, tag: SendTag, thenClose: boolean, now: number): boolean {
    const sent = this.tcp.send(id, bytes, tag, now, thenClose);
    if (!sent.ok) {
      // The peer is not reading (send buffer full) or the connection is going away: give up on it.
      this.counters.increment(`http-send-refused-${sent.reason}`);
      this.apply(this.tcp.abort(id, now), now);
      return false;
    }
    this.apply(sent.actions, now);
    return true;
  }

  /** Who is on the other end of a connection, for fault rules that match on the source. */
  private readonly peerOf = (id: ConnectionId): RequestPeer | undefined => {
    const endpoints = this.tcp.inspect(id)?.endpoints;
    if (!endpoints) return undefined;
    if (endpoints.localAddr === IPV6_LOCAL_ID && this.config.ipv6) {
      const peer = this.ipv6Peers.lookup(endpoints.remoteAddr);
      return peer && { address: formatIpv6Address(peer.address), mac: formatMacAddress(peer.mac) };
    }
    const mac = this.neighbors.get(endpoints.remoteAddr);
    return { address: formatIpv4Address(endpoints.remoteAddr), mac: mac && formatMacAddress(mac) };
  };

  private observeOpened(id: ConnectionId, endpoints: Endpoints): void {
    const observer = this.connectionObserver as ConnectionObserver;
    if (endpoints.localAddr === IPV6_LOCAL_ID && this.config.ipv6) {
      const peer = this.ipv6Peers.lookup(endpoints.remoteAddr);
      if (!peer) return;
      const { serviceAddress } = this.config.ipv6;
      observer.opened(id, { clientAddress: peer.address, clientPort: endpoints.remotePort, serviceAddress, servicePort: endpoints.localPort, clientMac: peer.mac });
      return;
    }
    observer.opened(id, this.observed(endpoints.remoteAddr, endpoints.remotePort, endpoints.localAddr, endpoints.localPort));
  }

  private observed(clientAddress: number, clientPort: number, serviceAddress: number, servicePort: number): ObservedConnection {
    const v4 = (address: number) => new Uint8Array([address >>> 24, (address >>> 16) & 0xff, (address >>> 8) & 0xff, address & 0xff]);
    return { clientAddress: v4(clientAddress), clientPort, serviceAddress: v4(serviceAddress), servicePort, clientMac: this.neighbors.get(clientAddress) };
  }

  private transmitSegment(action: Extract<TcpAction, { kind: 'transmit' }>): void {
    if (action.localAddr === IPV6_LOCAL_ID && this.config.ipv6) return this.transmitSegmentIpv6(this.config.ipv6, action);
    const dstMac = this.neighbors.get(action.remoteAddr);
    if (!dstMac) {
      this.counters.increment('transmit-no-neighbor');
      return;
    }
    this.transmit(
      encodeTcpFrame({
        srcMac: this.config.mac,
        dstMac,
        srcAddr: action.localAddr,
        dstAddr: action.remoteAddr,
        hopLimit: action.hopLimit,
        identification: this.ipv4Sent.next(action.hopLimit, action.tokenResponse),
        segment: action.segment,
      }),
    );
  }

  /** The Hop Limit is the one the stack tagged these bytes with: the hop limit for token responses, as over IPv4. */
  private transmitSegmentIpv6(v6: HostIpv6Config, action: Extract<TcpAction, { kind: 'transmit' }>): void {
    const peer = this.ipv6Peers.lookup(action.remoteAddr);
    if (!peer) {
      this.counters.increment('transmit-no-neighbor');
      return;
    }
    if (action.tokenResponse) this.ipv6SentHopLimits.record(peer.id, action.segment.dstPort, action.segment.seq, action.hopLimit);
    this.transmit(
      encodeTcpIpv6Frame({
        srcMac: this.config.mac,
        dstMac: peer.mac,
        srcAddr: v6.serviceAddress,
        dstAddr: peer.address,
        hopLimit: action.hopLimit,
        segment: action.segment,
      }),
    );
  }

  private transmit(frame: Uint8Array): void {
    if (this.link.send(frame)) this.counters.increment('frames-sent');
    else this.counters.increment('frames-send-failed');
  }

  private rememberNeighbor(address: number, mac: Uint8Array): void {
    const known = this.neighbors.get(address);
    if (known && macEquals(known, mac)) return;
    this.neighbors.delete(address); // re-insert so Map order is least-recently-learned first
    if (this.neighbors.size >= this.config.maxNeighbors) {
      const oldest = this.neighbors.keys().next().value;
      if (oldest !== undefined) this.neighbors.delete(oldest);
    }
    this.neighbors.set(address, mac.slice());
  }

  private armTimer(): void {
    if (this.stopped) return;
    const deadline = this.tcp.nextDeadline();
    if (deadline === undefined) return;
    if (this.timer && this.timerDeadline !== undefined && this.timerDeadline <= deadline) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDeadline = deadline;
    const delay = Math.max(0, deadline - this.clock.monotonicMs());
    this.timer = setTimeout(() => this.onTimer(), delay);
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerDeadline = undefined;
    if (this.stopped) return;
    const now = this.clock.monotonicMs();
    try {
      this.apply(this.tcp.poll(now), now);
    } catch (error) {
      this.counters.increment('timer-handler-exceptions');
      this.limitedLog.error('timer-handler', { err: error }, 'exception while running timers: data path continues');
    }
    this.armTimer();
  }
}

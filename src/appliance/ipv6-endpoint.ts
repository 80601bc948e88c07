// The service address over IPv6 (fd00:ec2::254): neighbour discovery for it, ICMPv6 echo and errors about our
// packets, and TCP into the stack. The stack keys connections by 32-bit addresses, so IPv6 peers go by the
// synthetic ids of Ipv6Peers; token-response segments are remembered (IPv6 has no identification field) so an
// ICMPv6 time-exceeded quoting one can say a token died, and at which hop.
import {
  Ipv6NextHeader,
  ND_HOP_LIMIT,
  encodeIcmpv6Frame,
  encodeTcpIpv6FrameInto,
  tcpIpv6FrameLength,
  formatIpv6Address,
  formatMacAddress,
  ipv6Equals,
  ipv6MulticastMac,
  isIpv6ExtensionHeader,
  isUnspecifiedIpv6,
  macEquals,
  parseIcmpv6,
  parseIpv6,
  parseQuotedIpv6Datagram,
  parseTcpIpv6,
  solicitedNodeAddress,
  type Ipv6Packet,
} from '../wire/index.ts';
import type { Endpoints, TcpAction, TcpStack } from '../tcp/index.ts';
import type { ConnectionObserver, ObservedConnection } from './connection-observer.ts';
import type { RequestPeer } from './fault-injector.ts';
import type { HostPort } from './host-port.ts';
import type { IcmpErrorReports } from './icmp-error-reports.ts';
import { FrameScratch } from './frame-scratch.ts';
import { IPV6_LOCAL_ID, Ipv6Peers } from './ipv6-peers.ts';
import { Ipv6SentHopLimits } from './ipv6-sent-hop-limits.ts';
import type { EndpointContext, EndpointLinkConfig } from './endpoint-context.ts';

/** IPv6 token-response segments remembered for ICMPv6 errors; far more than are in flight at once. */
const IPV6_SENT_HOP_LIMIT_RECORDS = 4096;

export interface HostIpv6Config {
  /** The IPv6 endpoint, e.g. fd00:ec2::254. */
  serviceAddress: Uint8Array;
  /** Read per packet: when false every IPv6 frame is dropped and counted, as if the endpoint were off. */
  enabled: () => boolean;
}

interface Ipv6EndpointConfig extends HostIpv6Config, EndpointLinkConfig<Uint8Array> {}

const NO_ACTIONS: readonly TcpAction[] = [];

export class Ipv6Endpoint {
  /** IPv6 peers as the synthetic ids the TCP stack knows them by, with their MACs. */
  private readonly peers: Ipv6Peers;
  private readonly sentHopLimits = new Ipv6SentHopLimits(IPV6_SENT_HOP_LIMIT_RECORDS);
  private readonly scratch = new FrameScratch();
  private readonly solicitedNode: Uint8Array;
  /** Frames to this multicast MAC are ours too: neighbour solicitations for the service address. */
  private readonly solicitedNodeMac: Uint8Array;

  private readonly port: HostPort;
  private readonly tcp: TcpStack;
  private readonly errors: IcmpErrorReports;
  private readonly observer: () => ConnectionObserver | undefined;

  constructor(
    private readonly config: Ipv6EndpointConfig,
    context: EndpointContext,
  ) {
    ({ port: this.port, tcp: this.tcp, errors: this.errors, observer: this.observer } = context);
    this.peers = new Ipv6Peers(config.maxNeighbors);
    this.solicitedNode = solicitedNodeAddress(config.serviceAddress);
    this.solicitedNodeMac = ipv6MulticastMac(this.solicitedNode);
  }

  isSolicitedNodeMac(mac: Uint8Array): boolean {
    return macEquals(mac, this.solicitedNodeMac);
  }

  /** One IPv6 packet; returns what the TCP stack decided, for the Host to carry out. */
  receive(payload: Uint8Array, srcMac: Uint8Array, now: number): readonly TcpAction[] {
    if (!this.config.enabled()) return this.dropped('ipv6-disabled');
    const parsed = parseIpv6(payload);
    if (!parsed.ok) return this.dropped(`ipv6-${parsed.reason}`);
    const ip = parsed.value;
    const toService = ipv6Equals(ip.dst, this.config.serviceAddress);
    // The solicited-node group carries only neighbor solicitations for the service address.
    if (!toService && !ipv6Equals(ip.dst, this.solicitedNode)) return this.dropped('ipv6-not-for-us');
    if (ip.src[0] === 0xff) return this.dropped('ipv6-multicast-source');
    if (isIpv6ExtensionHeader(ip.nextHeader)) return this.dropped('ipv6-extension-header');
    if (toService && this.config.admit && !this.config.admit(ip.src, now)) return NO_ACTIONS;
    if (ip.nextHeader === Ipv6NextHeader.ICMPV6) {
      this.receiveIcmpv6(ip, toService, srcMac);
      return NO_ACTIONS;
    }
    if (!toService) return this.dropped('ipv6-not-for-us');
    if (ip.nextHeader === Ipv6NextHeader.TCP) return this.receiveTcp(ip, srcMac, now);
    return this.dropped('ipv6-unsupported-next-header');
  }

  /** The Hop Limit is the one the stack tagged these bytes with: the hop limit for token responses, as over IPv4. */
  transmitSegment(action: Extract<TcpAction, { kind: 'transmit' }>): void {
    const peer = this.peers.lookup(action.remoteAddr);
    if (!peer) {
      this.port.count('transmit-no-neighbor');
      return;
    }
    if (action.tokenResponse)
      this.sentHopLimits.record(peer.id, action.segment.dstPort, action.segment.seq, action.hopLimit);
    this.port.transmit(
      this.scratch.frame(tcpIpv6FrameLength(action.segment), encodeTcpIpv6FrameInto, {
        srcMac: this.config.mac,
        dstMac: peer.mac,
        srcAddr: this.config.serviceAddress,
        dstAddr: peer.address,
        hopLimit: action.hopLimit,
        segment: action.segment,
      }),
    );
  }

  /** Who is on the other end of a connection, for fault rules that match on the source. */
  peer(remoteId: number): RequestPeer | undefined {
    const peer = this.peers.lookup(remoteId);
    return peer && { address: formatIpv6Address(peer.address), mac: formatMacAddress(peer.mac) };
  }

  /** A connection's endpoints as caller attribution sees them; undefined once its peer was forgotten. */
  observed(endpoints: Endpoints): ObservedConnection | undefined {
    const peer = this.peers.lookup(endpoints.remoteAddr);
    if (!peer) return undefined;
    return {
      clientAddress: peer.address,
      clientPort: endpoints.remotePort,
      serviceAddress: this.config.serviceAddress,
      servicePort: endpoints.localPort,
      clientMac: peer.mac,
    };
  }

  private receiveIcmpv6(ip: Ipv6Packet, toService: boolean, srcMac: Uint8Array): void {
    const icmp = parseIcmpv6(ip.payload, ip.src, ip.dst);
    if (!icmp.ok) return this.port.drop(`icmpv6-${icmp.reason}`);
    const message = icmp.value;
    const serviceAddress = this.config.serviceAddress;
    if (message.kind === 'neighbor-solicitation') {
      // RFC 4861 §7.1.1: hop limit 255 proves the solicitation never crossed a router.
      if (ip.hopLimit !== ND_HOP_LIMIT) return this.port.drop('ndp-bad-hop-limit');
      if (!ipv6Equals(message.target, serviceAddress)) return this.port.drop('ndp-other-target');
      // Duplicate address detection by someone else: we never claim addresses by DAD, so stay quiet.
      if (isUnspecifiedIpv6(ip.src)) return this.port.drop('ndp-dad');
      this.port.transmit(
        encodeIcmpv6Frame({
          srcMac: this.config.mac,
          dstMac: message.sourceLinkAddress ?? srcMac,
          srcAddr: serviceAddress,
          dstAddr: ip.src,
          hopLimit: ND_HOP_LIMIT,
          message: {
            kind: 'neighbor-advertisement',
            router: false,
            solicited: true,
            override: true,
            target: serviceAddress,
            targetLinkAddress: this.config.mac,
          },
        }),
      );
      this.port.count('ndp-advertisements');
      return;
    }
    if (message.kind === 'echo-request' && toService && !isUnspecifiedIpv6(ip.src)) {
      this.port.transmit(
        encodeIcmpv6Frame({
          srcMac: this.config.mac,
          dstMac: srcMac,
          srcAddr: serviceAddress,
          dstAddr: ip.src,
          hopLimit: this.tcp.defaultHopLimit,
          message: {
            kind: 'echo-reply',
            identifier: message.identifier,
            sequence: message.sequence,
            data: message.data,
          },
        }),
      );
      this.port.count('icmpv6-echo-replies');
      return;
    }
    if ((message.kind === 'time-exceeded' || message.kind === 'destination-unreachable') && toService) {
      this.port.count(`icmpv6-${message.kind}-received`);
      const quoted = parseQuotedIpv6Datagram(message.original);
      if (quoted.ok && ipv6Equals(quoted.value.src, serviceAddress)) {
        const { dst, srcPort, dstPort, tcpSeq } = quoted.value;
        const peer = this.peers.find(dst);
        if (!this.errors.quotesOurSegment(IPV6_LOCAL_ID, peer?.id, srcPort, dstPort, tcpSeq)) return;
        const sentHopLimit =
          peer && dstPort !== undefined && tcpSeq !== undefined
            ? this.sentHopLimits.lookup(peer.id, dstPort, tcpSeq)
            : undefined;
        this.errors.report({
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
    this.port.drop(message.kind === 'other' ? `icmpv6-type-${message.type}` : `icmpv6-${message.kind}`);
  }

  private receiveTcp(ip: Ipv6Packet, srcMac: Uint8Array, now: number): readonly TcpAction[] {
    if (isUnspecifiedIpv6(ip.src)) return this.dropped('ipv6-unspecified-source');
    const segment = parseTcpIpv6(ip.payload, ip.src, ip.dst, {
      acceptOffloadedChecksum: this.config.acceptOffloadedChecksums,
    });
    if (!segment.ok) return this.dropped(`tcp-${segment.reason}`);
    // The peer table learns (and may evict for) only segments that passed every check and belong to us.
    const known = this.peers.find(ip.src);
    if (known === undefined && !this.tcp.isSynToListener(segment.value)) return this.dropped('tcp-unknown-peer');
    const peerId = known?.id ?? this.peers.seen(ip.src, srcMac);
    const actions = this.tcp.receive(peerId, IPV6_LOCAL_ID, segment.value, now);
    if (known !== undefined && this.tcp.isOurs(IPV6_LOCAL_ID, peerId, segment.value)) this.peers.seen(ip.src, srcMac);
    const observer = this.observer();
    if (observer && segment.value.control === 'syn' && segment.value.ack === undefined) {
      observer.connecting({
        clientAddress: ip.src,
        clientPort: segment.value.srcPort,
        serviceAddress: ip.dst,
        servicePort: segment.value.dstPort,
        clientMac: srcMac,
      });
    }
    return actions;
  }

  private dropped(reason: string): readonly TcpAction[] {
    this.port.drop(reason);
    return NO_ACTIONS;
  }
}

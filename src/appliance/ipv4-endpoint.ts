// The service address over IPv4: ARP for it, ICMP echo, ICMP errors about our packets, and TCP into the stack.
// It remembers who to answer at which MAC (learned only from segments that are ours) and, per IP identification,
// what each packet it sent was, so an ICMP error quoting one can say what died.
import {
  IpProtocol,
  encodeArpFrame,
  encodeIcmpFrame,
  encodeTcpFrameInto,
  tcpFrameLength,
  formatIpv4Address,
  formatMacAddress,
  macEquals,
  parseArp,
  parseIcmp,
  parseIpv4,
  parseQuotedDatagram,
  parseTcp,
  type Ipv4Packet,
} from '../wire/index.ts';
import type { Endpoints, TcpAction, TcpStack } from '../tcp/index.ts';
import type { ConnectionObserver, ObservedConnection } from './connection-observer.ts';
import type { RequestPeer } from './fault-injector.ts';
import type { HostPort } from './host-port.ts';
import type { IcmpErrorReports } from './icmp-error-reports.ts';
import { FrameScratch } from './frame-scratch.ts';
import { Ipv4SentPackets } from './ipv4-sent-packets.ts';
import type { EndpointContext, EndpointLinkConfig } from './endpoint-context.ts';

interface Ipv4EndpointConfig extends EndpointLinkConfig<number> {
  serviceAddress: number;
}

const NO_ACTIONS: readonly TcpAction[] = [];

export class Ipv4Endpoint {
  /** Reply to the link-layer source a remote address was last seen from (the instance kernel, or a router). */
  private readonly neighbors = new Map<number, Uint8Array>();
  /** Addresses as the caller tracking reads them (never written): two per new connection, mostly the same few. */
  private readonly addressBytes = new Map<number, Uint8Array>();
  private readonly scratch = new FrameScratch();
  /** What each IP identification last left as: an ICMP error quotes the id, so we know what died and where. */
  private readonly sent = new Ipv4SentPackets();

  private readonly port: HostPort;
  private readonly tcp: TcpStack;
  private readonly errors: IcmpErrorReports;
  private readonly observer: () => ConnectionObserver | undefined;

  constructor(
    private readonly config: Ipv4EndpointConfig,
    context: EndpointContext,
  ) {
    ({ port: this.port, tcp: this.tcp, errors: this.errors, observer: this.observer } = context);
  }

  receiveArp(payload: Uint8Array, srcMac: Uint8Array): void {
    const arp = parseArp(payload);
    if (!arp.ok) return this.port.drop(`arp-${arp.reason}`);
    const packet = arp.value;
    if (packet.operation !== 'request' || packet.targetIp !== this.config.serviceAddress) {
      this.port.count('arp-ignored');
      return;
    }
    this.port.transmit(
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
    this.port.count('arp-replies');
  }

  /** One IPv4 packet; returns what the TCP stack decided, for the Host to carry out. */
  receive(payload: Uint8Array, srcMac: Uint8Array, now: number): readonly TcpAction[] {
    const ip = parseIpv4(payload);
    if (!ip.ok) return this.dropped(`ipv4-${ip.reason}`);
    if (ip.value.dst !== this.config.serviceAddress) return this.dropped('ipv4-not-for-us');
    if (this.config.admit && !this.config.admit(ip.value.src, now)) return NO_ACTIONS;
    if (ip.value.protocol === IpProtocol.TCP) return this.receiveTcp(ip.value, srcMac, now);
    if (ip.value.protocol === IpProtocol.ICMP) {
      this.receiveIcmp(ip.value, srcMac);
      return NO_ACTIONS;
    }
    return this.dropped('unsupported-ip-protocol');
  }

  /** A segment of a connection to the IPv4 service address, framed for its neighbour. */
  transmitSegment(action: Extract<TcpAction, { kind: 'transmit' }>): void {
    const dstMac = this.neighbors.get(action.remoteAddr);
    if (!dstMac) {
      this.port.count('transmit-no-neighbor');
      return;
    }
    this.port.transmit(
      this.scratch.frame(tcpFrameLength(action.segment), encodeTcpFrameInto, {
        srcMac: this.config.mac,
        dstMac,
        srcAddr: action.localAddr,
        dstAddr: action.remoteAddr,
        hopLimit: action.hopLimit,
        identification: this.sent.next(action.hopLimit, action.tokenResponse),
        segment: action.segment,
      }),
    );
  }

  /** Who is on the other end of a connection, for fault rules that match on the source. */
  peer(remoteAddr: number): RequestPeer {
    const mac = this.neighbors.get(remoteAddr);
    return { address: formatIpv4Address(remoteAddr), mac: mac && formatMacAddress(mac) };
  }

  /** A connection's endpoints as caller attribution sees them. */
  observed(endpoints: Endpoints): ObservedConnection {
    return this.observedConnection(
      endpoints.remoteAddr,
      endpoints.remotePort,
      endpoints.localAddr,
      endpoints.localPort,
    );
  }

  private receiveTcp(ip: Ipv4Packet, srcMac: Uint8Array, now: number): readonly TcpAction[] {
    const segment = parseTcp(ip.payload, ip.src, ip.dst, {
      acceptOffloadedChecksum: this.config.acceptOffloadedChecksums,
    });
    if (!segment.ok) return this.dropped(`tcp-${segment.reason}`);
    const actions = this.tcp.receive(ip.src, ip.dst, segment.value, now);
    // After receive: a SYN-cookie ACK has opened its connection by now. A neighbour already known at this MAC
    // (nearly every segment) has nothing to learn, so the table is not asked again.
    if (!this.knowsNeighbor(ip.src, srcMac) && this.tcp.isOurs(ip.dst, ip.src, segment.value))
      this.learnNeighbor(ip.src, srcMac);
    const observer = this.observer();
    if (observer && segment.value.control === 'syn' && segment.value.ack === undefined) {
      observer.connecting(this.observedConnection(ip.src, segment.value.srcPort, ip.dst, segment.value.dstPort));
    }
    return actions;
  }

  private receiveIcmp(ip: Ipv4Packet, srcMac: Uint8Array): void {
    const icmp = parseIcmp(ip.payload);
    if (!icmp.ok) return this.port.drop(`icmp-${icmp.reason}`);
    const message = icmp.value;
    if (message.kind === 'echo-request') {
      const hopLimit = this.tcp.defaultHopLimit;
      this.port.transmit(
        encodeIcmpFrame({
          srcMac: this.config.mac,
          dstMac: srcMac,
          srcAddr: this.config.serviceAddress,
          dstAddr: ip.src,
          hopLimit,
          identification: this.sent.next(hopLimit, false),
          message: {
            kind: 'echo-reply',
            identifier: message.identifier,
            sequence: message.sequence,
            data: message.data,
          },
        }),
      );
      this.port.count('icmp-echo-replies');
      return;
    }
    if (message.kind === 'time-exceeded' || message.kind === 'destination-unreachable') {
      const quoted = parseQuotedDatagram(message.original);
      this.port.count(`icmp-${message.kind}-received`);
      if (quoted.ok && quoted.value.src === this.config.serviceAddress) {
        const { dst, srcPort, dstPort, tcpSeq } = quoted.value;
        if (!this.errors.quotesOurSegment(this.config.serviceAddress, dst, srcPort, dstPort, tcpSeq)) return;
        // A router on the way to the client refused one of our packets. A packet sent with TTL t that expires
        // dies at hop t; for a token response that is the hop limit doing its job.
        const sent = this.sent.lookup(quoted.value.identification);
        this.errors.report({
          icmp: message.kind,
          code: message.code,
          router: formatIpv4Address(ip.src),
          client: formatIpv4Address(dst),
          clientPort: dstPort,
          sentHopLimit: sent?.hopLimit,
          tokenResponse: sent?.tokenResponse === true,
        });
      }
      return;
    }
    this.port.count('icmp-ignored');
  }

  private dropped(reason: string): readonly TcpAction[] {
    this.port.drop(reason);
    return NO_ACTIONS;
  }

  private observedConnection(
    clientAddress: number,
    clientPort: number,
    serviceAddress: number,
    servicePort: number,
  ): ObservedConnection {
    return {
      clientAddress: this.bytesOf(clientAddress),
      clientPort,
      serviceAddress: this.bytesOf(serviceAddress),
      servicePort,
      clientMac: this.neighbors.get(clientAddress),
    };
  }

  private bytesOf(address: number): Uint8Array {
    let bytes = this.addressBytes.get(address);
    if (bytes) return bytes;
    if (this.addressBytes.size >= this.config.maxNeighbors) this.addressBytes.clear();
    bytes = new Uint8Array([address >>> 24, (address >>> 16) & 0xff, (address >>> 8) & 0xff, address & 0xff]);
    this.addressBytes.set(address, bytes);
    return bytes;
  }

  private knowsNeighbor(address: number, mac: Uint8Array): boolean {
    const known = this.neighbors.get(address);
    return known !== undefined && macEquals(known, mac);
  }

  /** A neighbour not known at this MAC (knowsNeighbor said so): remembered at it, the least recently learned evicted. */
  private learnNeighbor(address: number, mac: Uint8Array): void {
    this.neighbors.delete(address); // re-insert so Map order is least-recently-learned first
    if (this.neighbors.size >= this.config.maxNeighbors) {
      const oldest = this.neighbors.keys().next().value;
      if (oldest !== undefined) this.neighbors.delete(oldest);
    }
    this.neighbors.set(address, mac.slice());
  }
}

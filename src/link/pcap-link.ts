// A FrameLink on an interface the appliance does not own: libpcap (the `cap` package) captures what is addressed
// to the service, IPv4 replies leave through a raw socket with IP_HDRINCL (so our header, TTL included, goes out
// exactly as built), and ARP replies and every IPv6 frame (neighbor advertisements, echo replies, TCP) are
// injected whole with libpcap, addressed to the MAC the peer was seen from. The appliance answers from its own
// MAC, which the kernel of that host does not own: the capture is promiscuous, and the kernel drops those frames
// as other-host traffic, so it sends no RST or ICMP of its own for the service addresses.
import { existsSync } from 'node:fs';
import {
  EtherType,
  formatIpv4Address,
  ipv6MulticastMac,
  parseIpv6Address,
  solicitedNodeAddress,
} from '../wire/index.ts';
import { loadCap, loadNativePackage, type CapHandle } from './cap-package.ts';
import { LinkError, type FrameLink, type FramesHandler } from './frame-link.ts';

interface RawSocket {
  send(
    buffer: Buffer,
    offset: number,
    length: number,
    address: string,
    before: (() => void) | null,
    after: (error: Error | null, bytes: number) => void,
  ): void;
  setOption(level: number, option: number, value: Buffer | number, length?: number): void;
  on(event: 'error', listener: (error: Error) => void): void;
  close(): void;
}

interface RawSocketModule {
  createSocket(options: { protocol: number; addressFamily?: number }): RawSocket;
  AddressFamily: { IPv4: number };
  SocketLevel: { SOL_SOCKET: number; IPPROTO_IP: number };
  SocketOption: { IP_HDRINCL: number; SO_BINDTODEVICE?: number };
}

interface PcapLinkOptions {
  interfaceName: string;
  /** The service address whose traffic is captured, e.g. 169.254.169.254. */
  serviceAddress: string;
  serviceMac: Uint8Array;
  /** The IPv6 endpoint (e.g. fd00:ec2::254) to capture too; whether it answers is the Host's decision. */
  ipv6ServiceAddress?: string;
}

/** IPPROTO_RAW: a send-only raw socket that implies IP_HDRINCL and receives nothing. */
const IPPROTO_RAW = 255;
const ETHERNET_HEADER = 14;
const CAPTURE_BUFFER_BYTES = 4 << 20;
const SNAP_BYTES = 65_535;

/** Handles whose open failed; see openPcapLink. Bounded by the number of failed opens, one per start-up. */
const failedCaptures: CapHandle[] = [];

function macText(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/**
 * What reaches the appliance: ARP requests for the service address and IPv4 to it (TCP 80 and ICMP); with an
 * IPv6 endpoint, ICMPv6 to its solicited-node group (neighbor solicitations) and TCP 80 / ICMPv6 to it.
 */
function captureFilter(serviceAddress: string, serviceMac: Uint8Array, ipv6ServiceAddress?: string): string {
  const addressHex = `0x${Buffer.from(serviceAddress.split('.').map(Number)).toString('hex')}`;
  const mac = macText(serviceMac);
  let filter =
    `(arp and arp[6:2] = 1 and arp[24:4] = ${addressHex}) or ` +
    `(ether dst ${mac} and ip dst host ${serviceAddress} and (tcp dst port 80 or icmp))`;
  if (ipv6ServiceAddress !== undefined) {
    const groupMac = macText(ipv6MulticastMac(solicitedNodeAddress(parseIpv6Address(ipv6ServiceAddress))));
    filter +=
      ` or (ether dst ${groupMac} and icmp6)` +
      ` or (ether dst ${mac} and ip6 dst host ${ipv6ServiceAddress} and (tcp dst port 80 or icmp6))`;
  }
  return filter;
}

export function openPcapLink(options: PcapLinkOptions): FrameLink {
  const { interfaceName } = options;
  if (!existsSync(`/sys/class/net/${interfaceName}`)) {
    throw new LinkError('INTERFACE_MISSING', `interface "${interfaceName}" does not exist in this network namespace`);
  }
  const { Cap } = loadCap();
  const raw = loadNativePackage<RawSocketModule>(
    'raw-socket',
    'RAW_SOCKET_MISSING',
    'rebuild it with "npm rebuild raw-socket"',
  );

  const capture = new Cap();
  const captureBuffer = Buffer.alloc(SNAP_BYTES);
  const filter = captureFilter(options.serviceAddress, options.serviceMac, options.ipv6ServiceAddress);
  try {
    const linkType = capture.open(interfaceName, filter, CAPTURE_BUFFER_BYTES, captureBuffer);
    if (linkType !== 'ETHERNET') {
      capture.close();
      throw new LinkError('UNSUPPORTED_LINK', `interface "${interfaceName}" is ${linkType}, not Ethernet`);
    }
  } catch (error) {
    if (error instanceof LinkError) throw error;
    // cap's close() (also run by its destructor) stops a poll handle that a failed open never started, and
    // crashes the process: keep the half-open handle reachable so the garbage collector never destroys it.
    failedCaptures.push(capture);
    const message = (error as Error).message;
    // libpcap's compile errors ("can't parse filter expression: syntax error", "invalid IPv4 address …").
    if (/filter|syntax|expression|invalid .*address/i.test(message)) {
      throw new LinkError('BPF_COMPILE_FAILED', `libpcap refused the capture filter "${filter}": ${message}`, {
        cause: error,
      });
    }
    if (/permission|not permitted|EPERM/i.test(message)) {
      throw new LinkError('NOT_PERMITTED', `cannot capture on "${interfaceName}": needs root (CAP_NET_RAW)`, {
        cause: error,
      });
    }
    throw new LinkError('PCAP_OPEN_FAILED', `cannot capture on "${interfaceName}": ${message}`, { cause: error });
  }
  capture.setMinBytes?.(0);

  let socket: RawSocket;
  try {
    socket = raw.createSocket({ protocol: IPPROTO_RAW, addressFamily: raw.AddressFamily.IPv4 });
    const bindToDevice = raw.SocketOption.SO_BINDTODEVICE;
    if (bindToDevice !== undefined) {
      const name = Buffer.from(`${interfaceName}\0`);
      socket.setOption(raw.SocketLevel.SOL_SOCKET, bindToDevice, name, name.length);
    }
  } catch (error) {
    capture.close();
    const message = (error as Error).message;
    if (/permitted|EPERM|EACCES/i.test(message)) {
      throw new LinkError('NOT_PERMITTED', 'cannot open a raw IP socket: needs root (CAP_NET_RAW)', { cause: error });
    }
    throw new LinkError('RAW_SOCKET_FAILED', `cannot open a raw IP socket: ${message}`, { cause: error });
  }
  return new PcapLink(interfaceName, capture, captureBuffer, socket);
}

class PcapLink implements FrameLink {
  private handler: FramesHandler | undefined;
  private closed = false;
  /** Send failures reported asynchronously by the raw socket (the caller's count covers only synchronous ones). */
  private asyncSendFailures = 0;

  constructor(
    readonly name: string,
    private readonly capture: CapHandle,
    private readonly captureBuffer: Buffer,
    private readonly socket: RawSocket,
  ) {
    socket.on('error', () => {
      this.asyncSendFailures += 1;
    });
  }

  send(frame: Uint8Array): boolean {
    if (this.closed || frame.length < ETHERNET_HEADER) return false;
    const etherType = (frame[12]! << 8) | frame[13]!;
    try {
      if (etherType === EtherType.ARP || etherType === EtherType.IPV6) {
        // Whole frames, as built: the kernel has no IPv6 route or neighbor entry to lend, and needs none.
        const copy = Buffer.from(frame);
        this.capture.send(copy, copy.length);
        return true;
      }
      if (etherType !== EtherType.IPV4 || frame.length < ETHERNET_HEADER + 20) return false;
      const packet = Buffer.from(frame.buffer, frame.byteOffset + ETHERNET_HEADER, frame.length - ETHERNET_HEADER);
      const destination = formatIpv4Address(packet.readUInt32BE(16));
      // The kernel resolves the next hop's MAC and keeps our IP header as built: TTL, DF and checksum.
      this.socket.send(Buffer.from(packet), 0, packet.length, destination, null, (error) => {
        if (error) this.asyncSendFailures += 1;
      });
      return true;
    } catch {
      return false;
    }
  }

  counters(): Record<string, number> {
    return { 'link-send-failures': this.asyncSendFailures };
  }

  onFrames(handler: FramesHandler): void {
    if (this.handler) throw new Error('onFrames handler already registered');
    this.handler = handler;
    this.capture.on('packet', (bytes) => {
      if (this.closed) return;
      // cap reuses one buffer for every packet: hand out a copy.
      handler([Uint8Array.prototype.slice.call(this.captureBuffer, 0, bytes)]);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.capture.close();
    this.socket.close();
  }
}

// TCP header codec (RFC 9293 §3.1) with the options we negotiate: MSS, window scale, SACK-permitted and
// timestamps (RFC 7323). Flag soup stays here; the TcpSegment record cannot express meaningless combinations.
import { finishChecksum, pseudoHeaderSum, sumWords } from './checksum.ts';
import { ETHERNET_HEADER_LENGTH, EtherType, writeEthernetHeader } from './ethernet.ts';
import { IPV4_HEADER_LENGTH, IpProtocol, readU32, writeIpv4Header, type Ipv4FrameAddressing } from './ipv4.ts';
import {
  IPV6_HEADER_LENGTH,
  Ipv6NextHeader,
  ipv6PseudoHeaderSum,
  writeIpv6Header,
  type Ipv6FrameAddressing,
} from './ipv6.ts';
import { fail, ok, type ParseResult } from './result.ts';
import type { TcpControl, TcpOptions, TcpSegment } from './tcp-segment.ts';

const TCP_HEADER_LENGTH = 20;
/** Data Offset is 4 bits of 32-bit words. */
const TCP_MAX_HEADER_LENGTH = 60;

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;

const OPT_EOL = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
const OPT_WINDOW_SCALE = 3;
const OPT_SACK_PERMITTED = 4;
const OPT_TIMESTAMP = 8;

function parseOptions(bytes: Uint8Array, end: number): TcpOptions | undefined {
  const options: TcpOptions = {};
  let i = TCP_HEADER_LENGTH;
  while (i < end) {
    const kind = bytes[i];
    if (kind === OPT_EOL) break;
    if (kind === OPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) return undefined;
    const length = bytes[i + 1];
    if (length < 2 || i + length > end) return undefined;
    switch (kind) {
      case OPT_MSS:
        if (length !== 4) return undefined;
        options.mss = (bytes[i + 2] << 8) | bytes[i + 3];
        break;
      case OPT_WINDOW_SCALE:
        if (length !== 3) return undefined;
        options.windowScale = bytes[i + 2];
        break;
      case OPT_SACK_PERMITTED:
        if (length !== 2) return undefined;
        options.sackPermitted = true;
        break;
      case OPT_TIMESTAMP:
        if (length !== 10) return undefined;
        options.timestamp = { value: readU32(bytes, i + 2), echo: readU32(bytes, i + 6) };
        break;
      default:
        break; // unknown (e.g. SACK blocks, TCP-AO): skipped by its length
    }
    i += length;
  }
  return options;
}

interface TcpParseOptions {
  /**
   * Accept a segment whose checksum field still holds the folded pseudo-header sum: what a capture sees of a
   * frame sent with checksum offload (CHECKSUM_PARTIAL, e.g. across a veth) before the NIC would finish it.
   */
  acceptOffloadedChecksum?: boolean;
}

/** The segment's addresses are needed for the pseudo-header checksum. */
export function parseTcp(
  bytes: Uint8Array,
  srcAddr: number,
  dstAddr: number,
  checks: TcpParseOptions = {},
): ParseResult<TcpSegment> {
  return parseTcpWithPseudoHeader(
    bytes,
    pseudoHeaderSum(srcAddr, dstAddr, IpProtocol.TCP, bytes.length & 0xffff),
    checks,
  );
}

/** TCP over IPv6: the same segment, its checksum over the RFC 8200 §8.1 pseudo-header. */
export function parseTcpIpv6(
  bytes: Uint8Array,
  srcAddr: Uint8Array,
  dstAddr: Uint8Array,
  checks: TcpParseOptions = {},
): ParseResult<TcpSegment> {
  if (srcAddr.length !== 16 || dstAddr.length !== 16) return fail('bad-address');
  return parseTcpWithPseudoHeader(
    bytes,
    ipv6PseudoHeaderSum(srcAddr, dstAddr, Ipv6NextHeader.TCP, bytes.length & 0xffff),
    checks,
  );
}

function parseTcpWithPseudoHeader(
  bytes: Uint8Array,
  pseudoHeader: number,
  checks: TcpParseOptions,
): ParseResult<TcpSegment> {
  if (bytes.length < TCP_HEADER_LENGTH) return fail('truncated');
  if (bytes.length > 0xffff) return fail('too-long');
  if (finishChecksum(sumWords(bytes, 0, bytes.length, pseudoHeader)) !== 0) {
    const field = (bytes[16] << 8) | bytes[17];
    const offloaded = checks.acceptOffloadedChecksum === true && field === (~finishChecksum(pseudoHeader) & 0xffff);
    if (!offloaded) return fail('bad-checksum');
  }
  const headerLength = (bytes[12] >>> 4) * 4;
  if (headerLength < TCP_HEADER_LENGTH || headerLength > bytes.length) return fail('bad-header-length');
  const flags = bytes[13];
  const control = controlOf(flags);
  if (control === undefined) return fail('bad-flags');
  const options = parseOptions(bytes, headerLength);
  if (!options) return fail('bad-option');
  return ok({
    srcPort: (bytes[0] << 8) | bytes[1],
    dstPort: (bytes[2] << 8) | bytes[3],
    seq: readU32(bytes, 4),
    ack: flags & ACK ? readU32(bytes, 8) : undefined,
    control,
    push: (flags & PSH) !== 0,
    window: (bytes[14] << 8) | bytes[15],
    options,
    payload: bytes.subarray(headerLength),
  });
}

/** At most one of SYN/FIN/RST, and a segment must carry ACK or one of them (a bare segment is a scan). */
function controlOf(flags: number): TcpControl | undefined {
  const syn = (flags & SYN) !== 0;
  const fin = (flags & FIN) !== 0;
  const rst = (flags & RST) !== 0;
  if (Number(syn) + Number(fin) + Number(rst) > 1) return undefined;
  if (rst) return 'rst';
  if (syn) return 'syn';
  if (fin) return 'fin';
  return flags & ACK ? 'none' : undefined;
}

function flagsOf(segment: TcpSegment): number {
  let flags = segment.ack !== undefined ? ACK : 0;
  if (segment.push) flags |= PSH;
  if (segment.control === 'syn') flags |= SYN;
  else if (segment.control === 'fin') flags |= FIN;
  else if (segment.control === 'rst') flags |= RST;
  return flags;
}

/**
 * Option bytes in Linux's layout (MSS, SACK-permitted riding in the timestamp's NOP slot, NOP + window scale),
 * which is already 32-bit aligned, so a Linux SYN re-emits byte for byte.
 */
function tcpOptionsLength(options: TcpOptions): number {
  let length = 0;
  if (options.mss !== undefined) length += 4;
  if (options.timestamp) length += 12;
  else if (options.sackPermitted) length += 4;
  if (options.windowScale !== undefined) length += 4;
  return length;
}

function tcpLength(segment: TcpSegment): number {
  return TCP_HEADER_LENGTH + tcpOptionsLength(segment.options) + segment.payload.length;
}

function writeOptions(view: DataView, offset: number, options: TcpOptions): void {
  let o = offset;
  if (options.mss !== undefined) {
    view.setUint16(o, (OPT_MSS << 8) | 4);
    view.setUint16(o + 2, options.mss & 0xffff);
    o += 4;
  }
  if (options.timestamp) {
    view.setUint16(o, options.sackPermitted ? (OPT_SACK_PERMITTED << 8) | 2 : (OPT_NOP << 8) | OPT_NOP);
    view.setUint16(o + 2, (OPT_TIMESTAMP << 8) | 10);
    view.setUint32(o + 4, options.timestamp.value >>> 0);
    view.setUint32(o + 8, options.timestamp.echo >>> 0);
    o += 12;
  } else if (options.sackPermitted) {
    view.setUint32(o, (OPT_NOP << 24) | (OPT_NOP << 16) | (OPT_SACK_PERMITTED << 8) | 2);
    o += 4;
  }
  if (options.windowScale !== undefined) {
    view.setUint32(o, ((OPT_NOP << 24) | (OPT_WINDOW_SCALE << 16) | (3 << 8) | (options.windowScale & 0xff)) >>> 0);
  }
}

/** Writes header, options and payload at offset with the checksum; returns the bytes written. */
function writeTcp(
  buffer: Uint8Array,
  view: DataView,
  offset: number,
  segment: TcpSegment,
  srcAddr: number,
  dstAddr: number,
): number {
  return writeTcpWithPseudoHeader(buffer, view, offset, segment, pseudoHeaderSum(srcAddr, dstAddr, IpProtocol.TCP, 0));
}

/** writeTcp for IPv6 addresses. */
function writeTcpIpv6(
  buffer: Uint8Array,
  view: DataView,
  offset: number,
  segment: TcpSegment,
  srcAddr: Uint8Array,
  dstAddr: Uint8Array,
): number {
  return writeTcpWithPseudoHeader(
    buffer,
    view,
    offset,
    segment,
    ipv6PseudoHeaderSum(srcAddr, dstAddr, Ipv6NextHeader.TCP, 0),
  );
}

/** Both pseudo-header sums are additive in the length, so the caller's sum excludes it and we add it here. */
function writeTcpWithPseudoHeader(
  buffer: Uint8Array,
  view: DataView,
  offset: number,
  segment: TcpSegment,
  pseudoHeaderWithoutLength: number,
): number {
  const headerLength = TCP_HEADER_LENGTH + tcpOptionsLength(segment.options);
  if (headerLength > TCP_MAX_HEADER_LENGTH) throw new Error('TCP options exceed 40 bytes'); // unreachable: at most 20
  const length = headerLength + segment.payload.length;
  view.setUint16(offset, segment.srcPort);
  view.setUint16(offset + 2, segment.dstPort);
  view.setUint32(offset + 4, segment.seq >>> 0);
  view.setUint32(offset + 8, segment.ack === undefined ? 0 : segment.ack >>> 0);
  view.setUint8(offset + 12, (headerLength / 4) << 4);
  view.setUint8(offset + 13, flagsOf(segment));
  view.setUint16(offset + 14, segment.window);
  view.setUint16(offset + 16, 0);
  view.setUint16(offset + 18, 0); // urgent pointer: never sent
  writeOptions(view, offset + TCP_HEADER_LENGTH, segment.options);
  buffer.set(segment.payload, offset + headerLength);
  const sum = sumWords(buffer, offset, offset + length, pseudoHeaderWithoutLength + (length & 0xffff));
  view.setUint16(offset + 16, finishChecksum(sum));
  return length;
}

export function emitTcp(segment: TcpSegment, srcAddr: number, dstAddr: number): Uint8Array {
  const out = new Uint8Array(tcpLength(segment));
  writeTcp(out, new DataView(out.buffer), 0, segment, srcAddr, dstAddr);
  return out;
}

export function emitTcpIpv6(segment: TcpSegment, srcAddr: Uint8Array, dstAddr: Uint8Array): Uint8Array {
  const out = new Uint8Array(tcpLength(segment));
  writeTcpIpv6(out, new DataView(out.buffer), 0, segment, srcAddr, dstAddr);
  return out;
}

interface TcpFrameArgs extends Ipv4FrameAddressing {
  segment: TcpSegment;
}

/** The bytes encodeTcpFrameInto writes for `segment`. */
export function tcpFrameLength(segment: TcpSegment): number {
  return ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH + tcpLength(segment);
}

/** Ethernet + IPv4 (DF) + TCP in a buffer of the exact size. */
export function encodeTcpFrame(args: TcpFrameArgs): Uint8Array {
  const frame = new Uint8Array(tcpFrameLength(args.segment));
  encodeTcpFrameInto(frame, new DataView(frame.buffer), args);
  return frame;
}

/**
 * The hot path: the frame written at the start of `frame` (tcpFrameLength bytes at least; `view` over the same
 * bytes from the same start), so a sender can reuse one buffer. Returns the frame's length.
 */
export function encodeTcpFrameInto(frame: Uint8Array, view: DataView, args: TcpFrameArgs): number {
  const length = tcpLength(args.segment);
  writeEthernetHeader(frame, 0, args.dstMac, args.srcMac, EtherType.IPV4);
  writeIpv4Header(
    view,
    ETHERNET_HEADER_LENGTH,
    {
      src: args.srcAddr,
      dst: args.dstAddr,
      protocol: IpProtocol.TCP,
      ttl: args.hopLimit,
      identification: args.identification,
      dontFragment: true,
    },
    length,
  );
  writeTcp(frame, view, ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH, args.segment, args.srcAddr, args.dstAddr);
  return ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH + length;
}

interface TcpIpv6FrameArgs extends Ipv6FrameAddressing {
  segment: TcpSegment;
}

/** The bytes encodeTcpIpv6FrameInto writes for `segment`. */
export function tcpIpv6FrameLength(segment: TcpSegment): number {
  return ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH + tcpLength(segment);
}

/** encodeTcpFrame over IPv6: Ethernet + IPv6 (Hop Limit chosen per segment, like the IPv4 TTL) + TCP. */
export function encodeTcpIpv6Frame(args: TcpIpv6FrameArgs): Uint8Array {
  const frame = new Uint8Array(tcpIpv6FrameLength(args.segment));
  encodeTcpIpv6FrameInto(frame, new DataView(frame.buffer), args);
  return frame;
}

/** encodeTcpFrameInto over IPv6. */
export function encodeTcpIpv6FrameInto(frame: Uint8Array, view: DataView, args: TcpIpv6FrameArgs): number {
  const length = tcpLength(args.segment);
  writeEthernetHeader(frame, 0, args.dstMac, args.srcMac, EtherType.IPV6);
  writeIpv6Header(
    frame,
    ETHERNET_HEADER_LENGTH,
    { src: args.srcAddr, dst: args.dstAddr, nextHeader: Ipv6NextHeader.TCP, hopLimit: args.hopLimit },
    length,
  );
  writeTcpIpv6(frame, view, ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH, args.segment, args.srcAddr, args.dstAddr);
  return ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH + length;
}

// ICMPv6 (RFC 4443) echo and the errors that tell us a response died on the way, and the neighbor discovery (RFC 4861) a node needs to be found on a link: neighbor
// solicitation and advertisement with their link-layer address options. The checksum covers the IPv6
// pseudo-header, so parse and emit take the packet's addresses.
import { finishChecksum, sumWords } from './checksum.ts';
import { ETHERNET_HEADER_LENGTH, EtherType, writeEthernetHeader } from './ethernet.ts';
import {
  IPV6_HEADER_LENGTH,
  Ipv6NextHeader,
  ipv6PseudoHeaderSum,
  writeIpv6Header,
  type Ipv6FrameAddressing,
} from './ipv6.ts';
import {
  ICMP_FIXED_HEADER_LENGTH,
  echoOrErrorLength,
  readEcho,
  readError,
  writeEchoOrError,
  type IcmpEcho,
  type IcmpError,
} from './icmp-echo-error.ts';
import { fail, ok, type ParseResult } from './result.ts';

const ICMPV6_HEADER_LENGTH = ICMP_FIXED_HEADER_LENGTH;
const TYPE_DESTINATION_UNREACHABLE = 1;
const TYPE_TIME_EXCEEDED = 3;
const TYPE_ECHO_REQUEST = 128;
const TYPE_ECHO_REPLY = 129;
const TYPE_NEIGHBOR_SOLICITATION = 135;
const TYPE_NEIGHBOR_ADVERTISEMENT = 136;
/** Type, code, checksum, 4 bytes reserved or flags, then the 16-byte target address. */
const ND_FIXED_LENGTH = 24;
const OPTION_SOURCE_LINK_ADDRESS = 1;
const OPTION_TARGET_LINK_ADDRESS = 2;
const NA_ROUTER = 0x80;
const NA_SOLICITED = 0x40;
const NA_OVERRIDE = 0x20;

/** Every ND message must arrive with, and leave with, hop limit 255: proof it never crossed a router. */
export const ND_HOP_LIMIT = 255;

export type Icmpv6Message =
  | IcmpEcho
  | IcmpError
  | { kind: 'neighbor-solicitation'; target: Uint8Array; sourceLinkAddress?: Uint8Array }
  | {
      kind: 'neighbor-advertisement';
      router: boolean;
      solicited: boolean;
      override: boolean;
      target: Uint8Array;
      targetLinkAddress?: Uint8Array;
    }
  | { kind: 'other'; type: number; code: number };

export type EncodableIcmpv6Message = Exclude<Icmpv6Message, { kind: 'other' }>;

/** Walks ND options; returns the 6-byte link-layer address of the wanted type, null when malformed. */
function findLinkAddress(bytes: Uint8Array, start: number, wanted: number): Uint8Array | undefined | null {
  let found: Uint8Array | undefined;
  for (let i = start; i < bytes.length;) {
    if (i + 2 > bytes.length) return null;
    const length = bytes[i + 1] * 8;
    // A zero length would loop forever; RFC 4861 §4.6 says drop the packet.
    if (length === 0 || i + length > bytes.length) return null;
    if (bytes[i] === wanted && length >= 8) found = bytes.subarray(i + 2, i + 8);
    i += length;
  }
  return found;
}

export function parseIcmpv6(bytes: Uint8Array, src: Uint8Array, dst: Uint8Array): ParseResult<Icmpv6Message> {
  if (bytes.length < ICMPV6_HEADER_LENGTH) return fail('truncated');
  if (bytes.length > 0xffff) return fail('too-long');
  if (src.length !== 16 || dst.length !== 16) return fail('bad-address');
  const pseudo = ipv6PseudoHeaderSum(src, dst, Ipv6NextHeader.ICMPV6, bytes.length);
  if (finishChecksum(sumWords(bytes, 0, bytes.length, pseudo)) !== 0) return fail('bad-checksum');
  const type = bytes[0];
  const code = bytes[1];
  switch (type) {
    case TYPE_ECHO_REQUEST:
    case TYPE_ECHO_REPLY:
      return ok(readEcho(bytes, type === TYPE_ECHO_REQUEST ? 'echo-request' : 'echo-reply'));
    case TYPE_TIME_EXCEEDED:
    case TYPE_DESTINATION_UNREACHABLE:
      return ok(readError(bytes, type === TYPE_TIME_EXCEEDED ? 'time-exceeded' : 'destination-unreachable'));
    case TYPE_NEIGHBOR_SOLICITATION: {
      if (code !== 0) return fail('bad-code');
      if (bytes.length < ND_FIXED_LENGTH) return fail('truncated');
      const sourceLinkAddress = findLinkAddress(bytes, ND_FIXED_LENGTH, OPTION_SOURCE_LINK_ADDRESS);
      if (sourceLinkAddress === null) return fail('bad-option');
      return ok({
        kind: 'neighbor-solicitation',
        target: bytes.subarray(8, 24),
        ...(sourceLinkAddress ? { sourceLinkAddress } : {}),
      });
    }
    case TYPE_NEIGHBOR_ADVERTISEMENT: {
      if (code !== 0) return fail('bad-code');
      if (bytes.length < ND_FIXED_LENGTH) return fail('truncated');
      const targetLinkAddress = findLinkAddress(bytes, ND_FIXED_LENGTH, OPTION_TARGET_LINK_ADDRESS);
      if (targetLinkAddress === null) return fail('bad-option');
      const flags = bytes[4];
      return ok({
        kind: 'neighbor-advertisement',
        router: (flags & NA_ROUTER) !== 0,
        solicited: (flags & NA_SOLICITED) !== 0,
        override: (flags & NA_OVERRIDE) !== 0,
        target: bytes.subarray(8, 24),
        ...(targetLinkAddress ? { targetLinkAddress } : {}),
      });
    }
    default:
      return ok({ kind: 'other', type, code });
  }
}

function linkAddressOf(message: EncodableIcmpv6Message): Uint8Array | undefined {
  if (message.kind === 'neighbor-solicitation') return message.sourceLinkAddress;
  if (message.kind === 'neighbor-advertisement') return message.targetLinkAddress;
  return undefined;
}

function icmpv6Length(message: EncodableIcmpv6Message): number {
  if (message.kind !== 'neighbor-solicitation' && message.kind !== 'neighbor-advertisement')
    return echoOrErrorLength(message);
  return ND_FIXED_LENGTH + (linkAddressOf(message) ? 8 : 0);
}

/** Writes the message with its checksum at offset; returns the number of bytes written. */
function writeIcmpv6(
  buffer: Uint8Array,
  offset: number,
  message: EncodableIcmpv6Message,
  src: Uint8Array,
  dst: Uint8Array,
): number {
  const length = icmpv6Length(message);
  buffer.fill(0, offset, offset + Math.min(length, ND_FIXED_LENGTH));
  switch (message.kind) {
    case 'echo-request':
    case 'echo-reply':
      writeEchoOrError(buffer, offset, message, message.kind === 'echo-request' ? TYPE_ECHO_REQUEST : TYPE_ECHO_REPLY);
      break;
    case 'time-exceeded':
    case 'destination-unreachable':
      writeEchoOrError(
        buffer,
        offset,
        message,
        message.kind === 'time-exceeded' ? TYPE_TIME_EXCEEDED : TYPE_DESTINATION_UNREACHABLE,
      );
      break;
    case 'neighbor-solicitation':
    case 'neighbor-advertisement': {
      const solicitation = message.kind === 'neighbor-solicitation';
      buffer[offset] = solicitation ? TYPE_NEIGHBOR_SOLICITATION : TYPE_NEIGHBOR_ADVERTISEMENT;
      if (!solicitation) {
        buffer[offset + 4] =
          (message.router ? NA_ROUTER : 0) |
          (message.solicited ? NA_SOLICITED : 0) |
          (message.override ? NA_OVERRIDE : 0);
      }
      buffer.set(message.target.subarray(0, 16), offset + 8);
      const linkAddress = linkAddressOf(message);
      if (linkAddress) {
        buffer[offset + ND_FIXED_LENGTH] = solicitation ? OPTION_SOURCE_LINK_ADDRESS : OPTION_TARGET_LINK_ADDRESS;
        buffer[offset + ND_FIXED_LENGTH + 1] = 1; // in units of 8 bytes
        buffer.set(linkAddress.subarray(0, 6), offset + ND_FIXED_LENGTH + 2);
      }
      break;
    }
  }
  buffer[offset + 2] = 0;
  buffer[offset + 3] = 0;
  const sum = sumWords(buffer, offset, offset + length, ipv6PseudoHeaderSum(src, dst, Ipv6NextHeader.ICMPV6, length));
  const checksum = finishChecksum(sum);
  buffer[offset + 2] = checksum >>> 8;
  buffer[offset + 3] = checksum & 0xff;
  return length;
}

export function encodeIcmpv6(message: EncodableIcmpv6Message, src: Uint8Array, dst: Uint8Array): Uint8Array {
  const out = new Uint8Array(icmpv6Length(message));
  writeIcmpv6(out, 0, message, src, dst);
  return out;
}

interface Icmpv6FrameArgs extends Ipv6FrameAddressing {
  message: EncodableIcmpv6Message;
}

/** Ethernet + IPv6 + ICMPv6 in one allocation. */
export function encodeIcmpv6Frame(args: Icmpv6FrameArgs): Uint8Array {
  const length = icmpv6Length(args.message);
  const frame = new Uint8Array(ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH + length);
  writeEthernetHeader(frame, 0, args.dstMac, args.srcMac, EtherType.IPV6);
  writeIpv6Header(
    frame,
    ETHERNET_HEADER_LENGTH,
    { src: args.srcAddr, dst: args.dstAddr, nextHeader: Ipv6NextHeader.ICMPV6, hopLimit: args.hopLimit },
    length,
  );
  writeIcmpv6(frame, ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH, args.message, args.srcAddr, args.dstAddr);
  return frame;
}

// IPv6 (RFC 8200) fixed header. Extension headers are never walked: nothing we serve needs them, so a packet
// whose first next header is not TCP or ICMPv6 is the caller's to drop and count.
import { readQuotedTransport, type QuotedTransport } from './bytes.ts';
import { fail, ok, type ParseResult } from './result.ts';

export const IPV6_HEADER_LENGTH = 40;
const IPV6_ADDRESS_LENGTH = 16;
export const Ipv6NextHeader = { TCP: 6, ICMPV6: 58 } as const;

/** Next-header values that are extension headers (RFC 8200 §4, RFC 7045): hop-by-hop, routing, fragment, ... */
const EXTENSION_HEADERS = new Set([0, 43, 44, 50, 51, 60, 135, 139, 140, 253, 254]);

export function isIpv6ExtensionHeader(nextHeader: number): boolean {
  return EXTENSION_HEADERS.has(nextHeader);
}

export interface Ipv6Packet {
  src: Uint8Array;
  dst: Uint8Array;
  nextHeader: number;
  hopLimit: number;
  trafficClass: number;
  flowLabel: number;
  /** Exactly Payload Length bytes; Ethernet padding past it is cut off. */
  payload: Uint8Array;
}

interface Ipv6HeaderFields {
  src: Uint8Array;
  dst: Uint8Array;
  nextHeader: number;
  hopLimit: number;
  trafficClass?: number;
  flowLabel?: number;
}

export function parseIpv6(bytes: Uint8Array): ParseResult<Ipv6Packet> {
  if (bytes.length < IPV6_HEADER_LENGTH) return fail('truncated');
  if (bytes[0] >>> 4 !== 6) return fail('bad-version');
  const payloadLength = (bytes[4] << 8) | bytes[5];
  // Payload Length 0 with a hop-by-hop jumbo option is a jumbogram; it is never valid on Ethernet anyway.
  if (IPV6_HEADER_LENGTH + payloadLength > bytes.length) return fail('truncated');
  return ok({
    src: bytes.subarray(8, 24),
    dst: bytes.subarray(24, 40),
    nextHeader: bytes[6],
    hopLimit: bytes[7],
    trafficClass: ((bytes[0] & 0x0f) << 4) | (bytes[1] >>> 4),
    flowLabel: ((bytes[1] & 0x0f) << 16) | (bytes[2] << 8) | bytes[3],
    payload: bytes.subarray(IPV6_HEADER_LENGTH, IPV6_HEADER_LENGTH + payloadLength),
  });
}

/** The start of one of our packets as an ICMPv6 error quotes it (RFC 4443 §3.1, §3.3). */
/** tcpSeq lets the sender find which of its TCP segments this was: IPv6 has no identification field. */
interface QuotedIpv6Datagram extends QuotedTransport {
  src: Uint8Array;
  dst: Uint8Array;
  nextHeader: number;
  /** As the packet reached the node that quotes it, not as it left: a router quotes the hop limit it refused. */
  hopLimit: number;
}

/** Reads the quoted header; the quote may be cut anywhere after it, so the Payload Length is not checked. */
export function parseQuotedIpv6Datagram(original: Uint8Array): ParseResult<QuotedIpv6Datagram> {
  if (original.length < IPV6_HEADER_LENGTH) return fail('truncated');
  if (original[0] >>> 4 !== 6) return fail('bad-version');
  const nextHeader = original[6];
  return ok({
    src: original.subarray(8, 24),
    dst: original.subarray(24, 40),
    nextHeader,
    hopLimit: original[7],
    // Only TCP: the appliance sends nothing else an error could quote with ports.
    ...(nextHeader === Ipv6NextHeader.TCP ? readQuotedTransport(original.subarray(IPV6_HEADER_LENGTH), true) : {}),
  });
}

/** Writes the 40-byte header at offset; payloadLength sets Payload Length. */
export function writeIpv6Header(
  buffer: Uint8Array,
  offset: number,
  fields: Ipv6HeaderFields,
  payloadLength: number,
): void {
  const trafficClass = (fields.trafficClass ?? 0) & 0xff;
  const flowLabel = (fields.flowLabel ?? 0) & 0xfffff;
  buffer[offset] = 0x60 | (trafficClass >>> 4);
  buffer[offset + 1] = ((trafficClass & 0x0f) << 4) | (flowLabel >>> 16);
  buffer[offset + 2] = (flowLabel >>> 8) & 0xff;
  buffer[offset + 3] = flowLabel & 0xff;
  buffer[offset + 4] = (payloadLength >>> 8) & 0xff;
  buffer[offset + 5] = payloadLength & 0xff;
  buffer[offset + 6] = fields.nextHeader & 0xff;
  buffer[offset + 7] = fields.hopLimit & 0xff;
  buffer.set(fields.src.subarray(0, 16), offset + 8);
  buffer.set(fields.dst.subarray(0, 16), offset + 24);
}

export function encodeIpv6Packet(fields: Ipv6HeaderFields & { payload: Uint8Array }): Uint8Array {
  const out = new Uint8Array(IPV6_HEADER_LENGTH + fields.payload.length);
  writeIpv6Header(out, 0, fields, fields.payload.length);
  out.set(fields.payload, IPV6_HEADER_LENGTH);
  return out;
}

/** Who a whole Ethernet + IPv6 frame goes between, and the hop limit the sender chooses per packet. */
export interface Ipv6FrameAddressing {
  srcMac: Uint8Array;
  dstMac: Uint8Array;
  srcAddr: Uint8Array;
  dstAddr: Uint8Array;
  hopLimit: number;
}

/**
 * Unfolded sum of the RFC 8200 §8.1 pseudo-header (source, destination, 32-bit upper-layer length, next header).
 * Additive like the IPv4 one: the sum with length 0 plus the length is the sum with that length.
 */
export function ipv6PseudoHeaderSum(src: Uint8Array, dst: Uint8Array, nextHeader: number, length: number): number {
  let sum = 0;
  for (let i = 0; i < IPV6_ADDRESS_LENGTH; i += 2) sum += ((src[i] << 8) | src[i + 1]) + ((dst[i] << 8) | dst[i + 1]);
  return sum + (length >>> 16) + (length & 0xffff) + (nextHeader & 0xff);
}

/** ff02::1:ffXX:XXXX, where a node listens for neighbor solicitations of address (RFC 4291 §2.7.1). */
export function solicitedNodeAddress(address: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out.set([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff]);
  out.set(address.subarray(13, 16), 13);
  return out;
}

/** 33:33 + the low 32 bits of a multicast address (RFC 2464 §7). */
export function ipv6MulticastMac(address: Uint8Array): Uint8Array {
  return Uint8Array.from([0x33, 0x33, address[12], address[13], address[14], address[15]]);
}

export function ipv6Equals(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== 16 || b.length !== 16) return false;
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function isUnspecifiedIpv6(address: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (address[i] !== 0) return false;
  return true;
}

const HEXTET = /^[0-9a-f]{1,4}$/i;

/** Parses operator-supplied text such as 'fd00:ec2::254' (no embedded IPv4, no zone); throws on bad text. */
export function parseIpv6Address(text: string): Uint8Array {
  const bad = (why: string) => new Error(`invalid IPv6 address '${text}': ${why}`);
  const halves = text.split('::');
  if (halves.length > 2) throw bad("more than one '::'");
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) throw bad('expected eight groups');
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const out = new Uint8Array(16);
  all.forEach((group, i) => {
    if (!HEXTET.test(group)) throw bad(`'${group}' is not a group of 1 to 4 hex digits`);
    const value = parseInt(group, 16);
    out[i * 2] = value >>> 8;
    out[i * 2 + 1] = value & 0xff;
  });
  return out;
}

/** RFC 5952 text: lower case, leading zeros dropped, the longest run (two or more) of zero groups as '::'. */
export function formatIpv6Address(address: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((address[i] ?? 0) << 8) | (address[i + 1] ?? 0));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const text = (from: number, to: number) =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':');
  if (bestStart < 0) return text(0, 8);
  return `${text(0, bestStart)}::${text(bestStart + bestLength, 8)}`;
}

// IPv4 (RFC 791). We never reassemble: fragments are dropped, since nothing we serve needs them.
import { finishChecksum, sumWords } from './checksum.ts';
import { readQuotedTransport, readU32, type QuotedTransport } from './bytes.ts';
import { fail, ok, type ParseResult } from './result.ts';

export const IpProtocol = { ICMP: 1, TCP: 6, UDP: 17 } as const;

export const IPV4_HEADER_LENGTH = 20;
const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const FRAGMENT_OFFSET_MASK = 0x1fff;

export interface Ipv4Packet {
  src: number;
  dst: number;
  protocol: number;
  ttl: number;
  identification: number;
  dontFragment: boolean;
  dscpEcn: number;
  /** Header length in bytes (IHL × 4), options included. */
  headerLength: number;
  payload: Uint8Array;
}

/** Fields needed to write a header without options. */
interface Ipv4HeaderFields {
  src: number;
  dst: number;
  protocol: number;
  ttl: number;
  identification: number;
  dontFragment?: boolean;
  dscpEcn?: number;
}

export { readU32 };

export function parseIpv4(bytes: Uint8Array): ParseResult<Ipv4Packet> {
  if (bytes.length < IPV4_HEADER_LENGTH) return fail('truncated');
  if (bytes[0] >>> 4 !== 4) return fail('bad-version');
  const headerLength = (bytes[0] & 0x0f) * 4;
  if (headerLength < IPV4_HEADER_LENGTH) return fail('bad-header-length');
  if (headerLength > bytes.length) return fail('truncated');
  const totalLength = (bytes[2] << 8) | bytes[3];
  if (totalLength < headerLength) return fail('bad-total-length');
  if (totalLength > bytes.length) return fail('truncated');
  // A correct header, checksum field included, sums to 0xffff, so the finished value is zero.
  if (finishChecksum(sumWords(bytes, 0, headerLength)) !== 0) return fail('bad-checksum');
  const flagsAndOffset = (bytes[6] << 8) | bytes[7];
  if (flagsAndOffset & FLAG_MF || flagsAndOffset & FRAGMENT_OFFSET_MASK) return fail('fragment');
  return ok({
    src: readU32(bytes, 12),
    dst: readU32(bytes, 16),
    protocol: bytes[9],
    ttl: bytes[8],
    identification: (bytes[4] << 8) | bytes[5],
    dontFragment: (flagsAndOffset & FLAG_DF) !== 0,
    dscpEcn: bytes[1],
    headerLength,
    // Anything past Total Length is Ethernet padding.
    payload: bytes.subarray(headerLength, totalLength),
  });
}

/** Writes a 20-byte header (no options) with its checksum at offset; payloadLength sets Total Length. */
export function writeIpv4Header(view: DataView, offset: number, fields: Ipv4HeaderFields, payloadLength: number): void {
  view.setUint8(offset, 0x45);
  view.setUint8(offset + 1, fields.dscpEcn ?? 0);
  view.setUint16(offset + 2, IPV4_HEADER_LENGTH + payloadLength);
  view.setUint16(offset + 4, fields.identification & 0xffff);
  view.setUint16(offset + 6, fields.dontFragment ? FLAG_DF : 0);
  view.setUint8(offset + 8, fields.ttl);
  view.setUint8(offset + 9, fields.protocol);
  view.setUint16(offset + 10, 0);
  view.setUint32(offset + 12, fields.src >>> 0);
  view.setUint32(offset + 16, fields.dst >>> 0);
  // Summed through the view: no Uint8Array over the header is made per packet.
  let sum = 0;
  for (let i = 0; i < IPV4_HEADER_LENGTH; i += 2) sum += view.getUint16(offset + i);
  view.setUint16(offset + 10, finishChecksum(sum));
}

/** Header plus payload in one allocation. */
export function encodeIpv4Packet(fields: Ipv4HeaderFields & { payload: Uint8Array }): Uint8Array {
  const out = new Uint8Array(IPV4_HEADER_LENGTH + fields.payload.length);
  writeIpv4Header(new DataView(out.buffer), 0, fields, fields.payload.length);
  out.set(fields.payload, IPV4_HEADER_LENGTH);
  return out;
}

/** Who a whole Ethernet + IPv4 frame goes between, and the IP fields the sender chooses per packet. */
export interface Ipv4FrameAddressing {
  srcMac: Uint8Array;
  dstMac: Uint8Array;
  srcAddr: number;
  dstAddr: number;
  /** Written into the header's TTL field. */
  hopLimit: number;
  identification: number;
}

interface QuotedDatagram extends QuotedTransport {
  src: number;
  dst: number;
  protocol: number;
  ttl: number;
  /** Lets the original sender find which of its packets this was. */
  identification: number;
}

/**
 * The datagram quoted in an ICMP error (RFC 792: header + first 8 payload bytes). Checksums and Total
 * Length are not checked: the quote is truncated, and routers may have rewritten the TTL.
 */
export function parseQuotedDatagram(original: Uint8Array): ParseResult<QuotedDatagram> {
  if (original.length < IPV4_HEADER_LENGTH) return fail('truncated');
  if (original[0] >>> 4 !== 4) return fail('bad-version');
  const headerLength = (original[0] & 0x0f) * 4;
  if (headerLength < IPV4_HEADER_LENGTH) return fail('bad-header-length');
  if (headerLength > original.length) return fail('truncated');
  const protocol = original[9];
  // Only the first fragment carries the transport header.
  const fragmentOffset = ((original[6] << 8) | original[7]) & FRAGMENT_OFFSET_MASK;
  const hasPorts = fragmentOffset === 0 && (protocol === IpProtocol.TCP || protocol === IpProtocol.UDP);
  return ok({
    src: readU32(original, 12),
    dst: readU32(original, 16),
    protocol,
    ttl: original[8],
    identification: (original[4] << 8) | original[5],
    ...(hasPorts ? readQuotedTransport(original.subarray(headerLength), protocol === IpProtocol.TCP) : {}),
  });
}

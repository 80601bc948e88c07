// Ethernet II framing (no 802.1Q: the tap carries untagged frames).
import { fail, ok, type ParseResult } from './result.ts';

export const EtherType = { IPV4: 0x0800, ARP: 0x0806, IPV6: 0x86dd } as const;

export const ETHERNET_HEADER_LENGTH = 14;
/** IEEE 802.3 minimum frame length without the FCS; shorter frames are padded by the sender. */
export const ETHERNET_MIN_FRAME_LENGTH = 60;

interface EthernetFrame {
  dst: Uint8Array;
  src: Uint8Array;
  etherType: number;
  payload: Uint8Array;
}

/**
 * What every receiver reads. The two addresses are not made into views per frame: the receive path compares and
 * copies them where they lie (macAt, copyMacAt); destinationMac and sourceMac give views to whoever wants one.
 */
interface ReceivedEthernetFrame {
  etherType: number;
  payload: Uint8Array;
}

export const ETHERNET_DESTINATION_OFFSET = 0;
export const ETHERNET_SOURCE_OFFSET = 6;
const MAC_LENGTH = 6;

export function parseEthernet(frame: Uint8Array): ParseResult<ReceivedEthernetFrame> {
  if (frame.length < ETHERNET_HEADER_LENGTH) return fail('truncated');
  return ok({ etherType: (frame[12] << 8) | frame[13], payload: frame.subarray(ETHERNET_HEADER_LENGTH) });
}

/** A parsed frame's destination address, as a view of its bytes. */
export function destinationMac(frame: Uint8Array): Uint8Array {
  return frame.subarray(ETHERNET_DESTINATION_OFFSET, ETHERNET_DESTINATION_OFFSET + MAC_LENGTH);
}

/** A parsed frame's source address, as a view of its bytes. */
export function sourceMac(frame: Uint8Array): Uint8Array {
  return frame.subarray(ETHERNET_SOURCE_OFFSET, ETHERNET_SOURCE_OFFSET + MAC_LENGTH);
}

/** Whether the address at `offset` of a parsed frame is `mac`. */
export function macAt(frame: Uint8Array, offset: number, mac: Uint8Array): boolean {
  for (let i = 0; i < MAC_LENGTH; i++) if (frame[offset + i] !== mac[i]) return false;
  return true;
}

/** Copies the address at `offset` of a parsed frame into `into` (six bytes); returns `into`. */
export function copyMacAt(frame: Uint8Array, offset: number, into: Uint8Array): Uint8Array {
  for (let i = 0; i < MAC_LENGTH; i++) into[i] = frame[offset + i] as number;
  return into;
}

/** Writes the 14-byte header at offset; the payload follows at offset + 14. */
export function writeEthernetHeader(
  buffer: Uint8Array,
  offset: number,
  dst: Uint8Array,
  src: Uint8Array,
  etherType: number,
): void {
  // Byte by byte: six bytes cost less to copy than the two subarray views a set() of them would make.
  for (let i = 0; i < MAC_LENGTH; i++) {
    buffer[offset + ETHERNET_DESTINATION_OFFSET + i] = dst[i] as number;
    buffer[offset + ETHERNET_SOURCE_OFFSET + i] = src[i] as number;
  }
  buffer[offset + 12] = (etherType >>> 8) & 0xff;
  buffer[offset + 13] = etherType & 0xff;
}

/** A whole frame in one allocation; padded with zeros to the minimum length when asked. */
export function encodeEthernet(frame: EthernetFrame, options: { pad?: boolean } = {}): Uint8Array {
  const length = ETHERNET_HEADER_LENGTH + frame.payload.length;
  const out = new Uint8Array(options.pad ? Math.max(length, ETHERNET_MIN_FRAME_LENGTH) : length);
  writeEthernetHeader(out, 0, frame.dst, frame.src, frame.etherType);
  out.set(frame.payload, ETHERNET_HEADER_LENGTH);
  return out;
}

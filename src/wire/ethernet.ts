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

export function parseEthernet(frame: Uint8Array): ParseResult<EthernetFrame> {
  if (frame.length < ETHERNET_HEADER_LENGTH) return fail('truncated');
  return ok({
    dst: frame.subarray(0, 6),
    src: frame.subarray(6, 12),
    etherType: (frame[12] << 8) | frame[13],
    payload: frame.subarray(ETHERNET_HEADER_LENGTH),
  });
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
  for (let i = 0; i < 6; i++) {
    buffer[offset + i] = dst[i] as number;
    buffer[offset + 6 + i] = src[i] as number;
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

// ARP for IPv4 over Ethernet only (RFC 826); anything else is not ours to answer.
import { ETHERNET_HEADER_LENGTH, ETHERNET_MIN_FRAME_LENGTH, EtherType, writeEthernetHeader } from './ethernet.ts';
import { readU32 } from './bytes.ts';
import { fail, ok, type ParseResult } from './result.ts';

const ARP_PACKET_LENGTH = 28;
const HTYPE_ETHERNET = 1;
const OP_REQUEST = 1;
const OP_REPLY = 2;

export interface ArpPacket {
  operation: 'request' | 'reply';
  senderMac: Uint8Array;
  senderIp: number;
  targetMac: Uint8Array;
  targetIp: number;
}

export function parseArp(payload: Uint8Array): ParseResult<ArpPacket> {
  if (payload.length < ARP_PACKET_LENGTH) return fail('truncated');
  if (((payload[0] << 8) | payload[1]) !== HTYPE_ETHERNET) return fail('unsupported-hardware');
  if (((payload[2] << 8) | payload[3]) !== EtherType.IPV4) return fail('unsupported-protocol');
  if (payload[4] !== 6 || payload[5] !== 4) return fail('bad-address-length');
  const op = (payload[6] << 8) | payload[7];
  if (op !== OP_REQUEST && op !== OP_REPLY) return fail('unsupported-operation');
  return ok({
    operation: op === OP_REQUEST ? 'request' : 'reply',
    senderMac: payload.subarray(8, 14),
    senderIp: readU32(payload, 14),
    targetMac: payload.subarray(18, 24),
    targetIp: readU32(payload, 24),
  });
}

/** A complete Ethernet frame carrying the packet, padded to the 60-byte minimum. */
export function encodeArpFrame(args: { srcMac: Uint8Array; dstMac: Uint8Array; packet: ArpPacket }): Uint8Array {
  const { packet } = args;
  const frame = new Uint8Array(ETHERNET_MIN_FRAME_LENGTH);
  writeEthernetHeader(frame, 0, args.dstMac, args.srcMac, EtherType.ARP);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const o = ETHERNET_HEADER_LENGTH;
  view.setUint16(o, HTYPE_ETHERNET);
  view.setUint16(o + 2, EtherType.IPV4);
  frame[o + 4] = 6;
  frame[o + 5] = 4;
  view.setUint16(o + 6, packet.operation === 'request' ? OP_REQUEST : OP_REPLY);
  frame.set(packet.senderMac.subarray(0, 6), o + 8);
  view.setUint32(o + 14, packet.senderIp >>> 0);
  frame.set(packet.targetMac.subarray(0, 6), o + 18);
  view.setUint32(o + 24, packet.targetIp >>> 0);
  return frame;
}

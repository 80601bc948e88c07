// ICMP (RFC 792): echo for ping, and the errors that tell us a token response died on the way.
import { finishChecksum, sumWords } from './checksum.ts';
import { ETHERNET_HEADER_LENGTH, EtherType, writeEthernetHeader } from './ethernet.ts';
import { IPV4_HEADER_LENGTH, IpProtocol, writeIpv4Header, type Ipv4FrameAddressing } from './ipv4.ts';
import { fail, ok, type ParseResult } from './result.ts';

export const ICMP_HEADER_LENGTH = 8;
const TYPE_ECHO_REPLY = 0;
const TYPE_DESTINATION_UNREACHABLE = 3;
const TYPE_ECHO_REQUEST = 8;
const TYPE_TIME_EXCEEDED = 11;

export type IcmpMessage =
  | { kind: 'echo-request' | 'echo-reply'; identifier: number; sequence: number; data: Uint8Array }
  | { kind: 'time-exceeded' | 'destination-unreachable'; code: number; original: Uint8Array }
  | { kind: 'other'; type: number; code: number };

/** Messages we know how to build; 'other' has no body format to write. */
export type EncodableIcmpMessage = Exclude<IcmpMessage, { kind: 'other' }>;

export function parseIcmp(bytes: Uint8Array): ParseResult<IcmpMessage> {
  if (bytes.length < ICMP_HEADER_LENGTH) return fail('truncated');
  if (finishChecksum(sumWords(bytes)) !== 0) return fail('bad-checksum');
  const type = bytes[0];
  const code = bytes[1];
  switch (type) {
    case TYPE_ECHO_REQUEST:
    case TYPE_ECHO_REPLY:
      return ok({
        kind: type === TYPE_ECHO_REQUEST ? 'echo-request' : 'echo-reply',
        identifier: (bytes[4] << 8) | bytes[5],
        sequence: (bytes[6] << 8) | bytes[7],
        data: bytes.subarray(ICMP_HEADER_LENGTH),
      });
    case TYPE_TIME_EXCEEDED:
    case TYPE_DESTINATION_UNREACHABLE:
      return ok({
        kind: type === TYPE_TIME_EXCEEDED ? 'time-exceeded' : 'destination-unreachable',
        code,
        original: bytes.subarray(ICMP_HEADER_LENGTH),
      });
    default:
      return ok({ kind: 'other', type, code });
  }
}

function icmpBody(message: EncodableIcmpMessage): Uint8Array {
  return 'data' in message ? message.data : message.original;
}

export function icmpLength(message: EncodableIcmpMessage): number {
  return ICMP_HEADER_LENGTH + icmpBody(message).length;
}

/** Writes the message with its checksum at offset; returns the number of bytes written. */
export function writeIcmp(buffer: Uint8Array, offset: number, message: EncodableIcmpMessage): number {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const body = icmpBody(message);
  switch (message.kind) {
    case 'echo-request':
    case 'echo-reply':
      view.setUint8(offset, message.kind === 'echo-request' ? TYPE_ECHO_REQUEST : TYPE_ECHO_REPLY);
      view.setUint8(offset + 1, 0);
      view.setUint16(offset + 4, message.identifier & 0xffff);
      view.setUint16(offset + 6, message.sequence & 0xffff);
      break;
    case 'time-exceeded':
    case 'destination-unreachable':
      view.setUint8(offset, message.kind === 'time-exceeded' ? TYPE_TIME_EXCEEDED : TYPE_DESTINATION_UNREACHABLE);
      view.setUint8(offset + 1, message.code);
      view.setUint32(offset + 4, 0); // unused (no next-hop MTU either)
      break;
  }
  view.setUint16(offset + 2, 0);
  buffer.set(body, offset + ICMP_HEADER_LENGTH);
  const end = offset + ICMP_HEADER_LENGTH + body.length;
  view.setUint16(offset + 2, finishChecksum(sumWords(buffer, offset, end)));
  return end - offset;
}

export function encodeIcmp(message: EncodableIcmpMessage): Uint8Array {
  const out = new Uint8Array(icmpLength(message));
  writeIcmp(out, 0, message);
  return out;
}

export interface IcmpFrameArgs extends Ipv4FrameAddressing {
  message: EncodableIcmpMessage;
}

/** Ethernet + IPv4 + ICMP in one allocation. */
export function encodeIcmpFrame(args: IcmpFrameArgs): Uint8Array {
  const length = icmpLength(args.message);
  const frame = new Uint8Array(ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH + length);
  writeEthernetHeader(frame, 0, args.dstMac, args.srcMac, EtherType.IPV4);
  const view = new DataView(frame.buffer);
  writeIpv4Header(
    view,
    ETHERNET_HEADER_LENGTH,
    { src: args.srcAddr, dst: args.dstAddr, protocol: IpProtocol.ICMP, ttl: args.ttl, identification: args.identification },
    length,
  );
  writeIcmp(frame, ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH, args.message);
  return frame;
}

// ICMP (RFC 792): echo for ping, and the errors that tell us a token response died on the way.
import { finishChecksum, sumWords } from './checksum.ts';
import { ETHERNET_HEADER_LENGTH, EtherType, writeEthernetHeader } from './ethernet.ts';
import { IPV4_HEADER_LENGTH, IpProtocol, writeIpv4Header, type Ipv4FrameAddressing } from './ipv4.ts';
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

const ICMP_HEADER_LENGTH = ICMP_FIXED_HEADER_LENGTH;
const TYPE_ECHO_REPLY = 0;
const TYPE_DESTINATION_UNREACHABLE = 3;
const TYPE_ECHO_REQUEST = 8;
const TYPE_TIME_EXCEEDED = 11;

export type IcmpMessage = IcmpEcho | IcmpError | { kind: 'other'; type: number; code: number };

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
      return ok(readEcho(bytes, type === TYPE_ECHO_REQUEST ? 'echo-request' : 'echo-reply'));
    case TYPE_TIME_EXCEEDED:
    case TYPE_DESTINATION_UNREACHABLE:
      return ok(readError(bytes, type === TYPE_TIME_EXCEEDED ? 'time-exceeded' : 'destination-unreachable'));
    default:
      return ok({ kind: 'other', type, code });
  }
}

function icmpLength(message: EncodableIcmpMessage): number {
  return echoOrErrorLength(message);
}

const TYPE_BY_KIND: Record<EncodableIcmpMessage['kind'], number> = {
  'echo-request': TYPE_ECHO_REQUEST,
  'echo-reply': TYPE_ECHO_REPLY,
  'time-exceeded': TYPE_TIME_EXCEEDED,
  'destination-unreachable': TYPE_DESTINATION_UNREACHABLE,
};

/** Writes the message with its checksum at offset; returns the number of bytes written. */
function writeIcmp(buffer: Uint8Array, offset: number, message: EncodableIcmpMessage): number {
  writeEchoOrError(buffer, offset, message, TYPE_BY_KIND[message.kind]);
  const end = offset + icmpLength(message);
  const checksum = finishChecksum(sumWords(buffer, offset, end));
  buffer[offset + 2] = checksum >>> 8;
  buffer[offset + 3] = checksum & 0xff;
  return end - offset;
}

export function encodeIcmp(message: EncodableIcmpMessage): Uint8Array {
  const out = new Uint8Array(icmpLength(message));
  writeIcmp(out, 0, message);
  return out;
}

interface IcmpFrameArgs extends Ipv4FrameAddressing {
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
    {
      src: args.srcAddr,
      dst: args.dstAddr,
      protocol: IpProtocol.ICMP,
      ttl: args.hopLimit,
      identification: args.identification,
    },
    length,
  );
  writeIcmp(frame, ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH, args.message);
  return frame;
}

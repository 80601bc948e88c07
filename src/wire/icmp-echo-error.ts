// Echo and error messages share one layout in ICMP (RFC 792) and ICMPv6 (RFC 4443 §3, §4); only the type
// numbers and the checksum's coverage differ, which stay with each codec.

/** Type, code, checksum, then identifier and sequence (echo) or 4 unused bytes (errors). */
export const ICMP_FIXED_HEADER_LENGTH = 8;

export type IcmpEcho = { kind: 'echo-request' | 'echo-reply'; identifier: number; sequence: number; data: Uint8Array };
/** original: as much of the invoking packet as the sender quoted, IP header first. */
export type IcmpError = { kind: 'time-exceeded' | 'destination-unreachable'; code: number; original: Uint8Array };

export function readEcho(bytes: Uint8Array, kind: IcmpEcho['kind']): IcmpEcho {
  return {
    kind,
    identifier: (bytes[4] << 8) | bytes[5],
    sequence: (bytes[6] << 8) | bytes[7],
    data: bytes.subarray(ICMP_FIXED_HEADER_LENGTH),
  };
}

export function readError(bytes: Uint8Array, kind: IcmpError['kind']): IcmpError {
  return { kind, code: bytes[1], original: bytes.subarray(ICMP_FIXED_HEADER_LENGTH) };
}

export function echoOrErrorLength(message: IcmpEcho | IcmpError): number {
  return ICMP_FIXED_HEADER_LENGTH + ('data' in message ? message.data : message.original).length;
}

/** Writes the message at offset with the given type and a zero checksum for the caller to fill in. */
export function writeEchoOrError(
  buffer: Uint8Array,
  offset: number,
  message: IcmpEcho | IcmpError,
  type: number,
): void {
  buffer.fill(0, offset, offset + ICMP_FIXED_HEADER_LENGTH);
  buffer[offset] = type;
  if ('data' in message) {
    buffer[offset + 4] = (message.identifier >>> 8) & 0xff;
    buffer[offset + 5] = message.identifier & 0xff;
    buffer[offset + 6] = (message.sequence >>> 8) & 0xff;
    buffer[offset + 7] = message.sequence & 0xff;
    buffer.set(message.data, offset + ICMP_FIXED_HEADER_LENGTH);
  } else {
    buffer[offset + 1] = message.code & 0xff;
    buffer.set(message.original, offset + ICMP_FIXED_HEADER_LENGTH);
  }
}

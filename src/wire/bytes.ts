// Big-endian reads shared by the header parsers.

export function readU32(b: Uint8Array, i: number): number {
  return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
}

/** Ports and TCP sequence number of the transport header an ICMP or ICMPv6 error quoted, as far as the quote reaches. */
export interface QuotedTransport {
  srcPort?: number;
  dstPort?: number;
  tcpSeq?: number;
}

/** Ports need 4 quoted bytes, the TCP sequence number 8; a shorter quote leaves them out. */
export function readQuotedTransport(transport: Uint8Array, isTcp: boolean): QuotedTransport {
  if (transport.length < 4) return {};
  const quoted: QuotedTransport = {
    srcPort: (transport[0] << 8) | transport[1],
    dstPort: (transport[2] << 8) | transport[3],
  };
  if (isTcp && transport.length >= 8) quoted.tcpSeq = readU32(transport, 4);
  return quoted;
}

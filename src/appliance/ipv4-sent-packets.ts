// An ICMP error quotes the IPv4 header of the packet that died, identification included. Every identification
// we hand out is remembered with what its packet was (the hop limit it left with, whether it carried a token
// response), so a report reads the packet's tag instead of guessing from its TTL. 65,536 records of two bytes:
// the identification space itself bounds the table.
const TOKEN_RESPONSE = 0x100;

interface SentPacket {
  hopLimit: number;
  tokenResponse: boolean;
}

export class Ipv4SentPackets {
  private identification = 0;
  /** 0: nothing sent under this identification yet; else the hop limit, with TOKEN_RESPONSE for a token. */
  private readonly byIdentification = new Uint16Array(65536);

  /** The identification for the next packet, remembered with what the packet is. */
  next(hopLimit: number, tokenResponse: boolean): number {
    this.identification = (this.identification + 1) & 0xffff;
    this.byIdentification[this.identification] = (hopLimit & 0xff) | (tokenResponse ? TOKEN_RESPONSE : 0);
    return this.identification;
  }

  /** What the packet sent with this identification was, or undefined if none was sent. */
  lookup(identification: number): SentPacket | undefined {
    const record = this.byIdentification[identification & 0xffff] ?? 0;
    if (record === 0) return undefined;
    return { hopLimit: record & 0xff, tokenResponse: (record & TOKEN_RESPONSE) !== 0 };
  }
}

// IPv6 has no identification field, so an ICMPv6 error cannot point at one of our packets the way an IPv4 one
// does. TCP segments tagged as token responses are remembered by peer, port and sequence number, a bounded
// number of them, so a router's time-exceeded quoting one of them can be reported as the hop limit stopping a
// token, at the hop it was set to (whatever that is, the default included).
export class Ipv6SentHopLimits {
  /** Map order is age: the oldest record is forgotten first. */
  private readonly byKey = new Map<string, number>();

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  record(peerId: number, remotePort: number, seq: number, hopLimit: number): void {
    const key = `${peerId}:${remotePort}:${seq}`;
    this.byKey.delete(key); // a retransmission renews the record
    if (this.byKey.size >= this.capacity) {
      const oldest = this.byKey.keys().next().value;
      if (oldest !== undefined) this.byKey.delete(oldest);
    }
    this.byKey.set(key, hopLimit);
  }

  /** The hop limit the segment left with, if it was one of the recorded ones. */
  lookup(peerId: number, remotePort: number, seq: number): number | undefined {
    return this.byKey.get(`${peerId}:${remotePort}:${seq}`);
  }

  get size(): number {
    return this.byKey.size;
  }
}

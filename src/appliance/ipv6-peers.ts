// The TCP stack keys connections by 32-bit addresses. IPv6 peers get a small synthetic id from 0.0.0.0/8, which
// IPv4 never hands the stack (its local address is the IPv4 service address, never IPV6_LOCAL_ID), and the id
// maps back to the peer's address and MAC when a segment leaves. The table is bounded: under spoofed sources the
// least recently seen peer is forgotten, and its connection's segments are counted as having no neighbor.
import { macEquals } from '../wire/index.ts';

/** The service's IPv6 address as the TCP stack sees it. */
export const IPV6_LOCAL_ID = 0;
const FIRST_ID = 1;
const LAST_ID = 0xffffff;

interface Ipv6Peer {
  readonly id: number;
  readonly address: Uint8Array;
  /** Where replies go: the link-layer source the address was last seen from. */
  mac: Uint8Array;
}

function keyOf(address: Uint8Array): string {
  return String.fromCharCode(...address);
}

export class Ipv6Peers {
  /** Map order is recency: least recently seen first. */
  private readonly byKey = new Map<string, Ipv6Peer>();
  private readonly byId = new Map<number, Ipv6Peer>();
  /** Ids advance through the whole range before one is reused, so a forgotten peer's id stays unused for long. */
  private nextId = FIRST_ID;

  constructor(private readonly capacity: number) {
    if (capacity < 1 || capacity > LAST_ID) throw new RangeError('capacity must be 1..16777215');
  }

  get size(): number {
    return this.byKey.size;
  }

  /** The id of address (assigned when new), remembering mac as where it was seen from. */
  seen(address: Uint8Array, mac: Uint8Array): number {
    const key = keyOf(address);
    const known = this.byKey.get(key);
    if (known) {
      this.byKey.delete(key);
      this.byKey.set(key, known);
      if (!macEquals(known.mac, mac)) known.mac = mac.slice();
      return known.id;
    }
    if (this.byKey.size >= this.capacity) {
      const oldest = this.byKey.entries().next().value;
      if (oldest) {
        this.byKey.delete(oldest[0]);
        this.byId.delete(oldest[1].id);
      }
    }
    const peer: Ipv6Peer = { id: this.allocateId(), address: address.slice(), mac: mac.slice() };
    this.byKey.set(key, peer);
    this.byId.set(peer.id, peer);
    return peer.id;
  }

  /** The peer with this address, without counting it as seen. */
  find(address: Uint8Array): Ipv6Peer | undefined {
    return this.byKey.get(keyOf(address));
  }

  lookup(id: number): Ipv6Peer | undefined {
    return this.byId.get(id);
  }

  private allocateId(): number {
    // At most capacity ids are taken, fewer than the range holds, so this ends.
    while (this.byId.has(this.nextId)) this.advance();
    const id = this.nextId;
    this.advance();
    return id;
  }

  private advance(): void {
    this.nextId = this.nextId >= LAST_ID ? FIRST_ID : this.nextId + 1;
  }
}

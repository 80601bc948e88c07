// Out-of-order bytes held until the gap before them fills (RFC 9293 3.10.7.4, seventh step).
// Held segments are disjoint and sorted by sequence number; a new segment is trimmed against its neighbours
// and replaces the ones it covers, so bytes are copied once, on arrival, and never again. Both the bytes and the
// number of held segments are bounded: a peer that sends one-byte segments at every other offset fills the
// count bound, and past it segments furthest from RCV.NXT are pruned first, as Linux prunes its out-of-order
// queue from the tail (tcp_prune_ofo_queue). Work per segment: a binary search and one splice of at most
// maxSegments references, whatever is held.
import { seqAdd, seqSub } from './seq-number.ts';

interface Held {
  seq: number;
  bytes: Uint8Array;
}

type InsertOutcome = 'held' | 'duplicate' | 'full';

export class Reassembly {
  private readonly held: Held[] = [];
  private heldBytes = 0;
  /** Segments dropped from the tail to make room for one nearer RCV.NXT. */
  pruned = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly maxSegments: number,
  ) {}

  /** Bytes currently held. */
  get size(): number {
    return this.heldBytes;
  }

  /** Segments currently held. */
  get count(): number {
    return this.held.length;
  }

  get isEmpty(): boolean {
    return this.held.length === 0;
  }

  /**
   * Holds `bytes` that start at `seq`, strictly after `rcvNxt` (the caller trimmed them to the window).
   * 'full' when neither the new bytes fit nor pruning the tail would make room for them; nothing changes then.
   */
  insert(
    rcvNxt: number,
    seq: number,
    bytes: Uint8Array,
    mayGrow: (bytes: number) => boolean = () => true,
  ): InsertOutcome {
    let start = seqSub(seq, rcvNxt);
    let end = start + bytes.length;
    if (bytes.length === 0 || start <= 0) return 'duplicate';
    // First held segment that ends after `start`: ends are sorted because segments are disjoint and sorted.
    let first = this.firstEndingAfter(rcvNxt, start);
    const left = this.held[first];
    if (left !== undefined && this.offset(rcvNxt, left) < start) {
      // Overlaps the new bytes' head: keep the held copy, trim ours.
      start = this.offset(rcvNxt, left) + left.bytes.length;
      first += 1;
      if (start >= end) return 'duplicate';
    }
    let last = first; // one past the segments the new bytes cover entirely
    let coveredBytes = 0;
    for (let next = this.held[last]; next !== undefined; next = this.held[last]) {
      const nextStart = this.offset(rcvNxt, next);
      if (nextStart >= end) break;
      if (nextStart + next.bytes.length > end) {
        end = nextStart; // overlaps the new bytes' tail: trim ours
        break;
      }
      coveredBytes += next.bytes.length;
      last += 1;
    }
    if (start >= end) return 'duplicate';
    const growth = end - start - coveredBytes;
    const countAfter = this.held.length - (last - first) + 1;
    if (!this.makeRoom(last, growth, countAfter, mayGrow)) return 'full';
    const from = start - seqSub(seq, rcvNxt);
    this.held.splice(first, last - first, { seq: seqAdd(rcvNxt, start), bytes: bytes.slice(from, from + end - start) });
    this.heldBytes += growth;
    return 'held';
  }

  /** Removes and returns the bytes that now continue `rcvNxt`, or undefined when the gap is still open. */
  take(rcvNxt: number): Uint8Array | undefined {
    for (let head = this.held[0]; head !== undefined; head = this.held[0]) {
      const lead = seqSub(rcvNxt, head.seq);
      if (lead < 0) return undefined;
      this.held.shift();
      this.heldBytes -= head.bytes.length;
      if (lead < head.bytes.length) return head.bytes.subarray(lead);
    }
    return undefined;
  }

  private offset(rcvNxt: number, held: Held): number {
    return seqSub(held.seq, rcvNxt);
  }

  private firstEndingAfter(rcvNxt: number, start: number): number {
    let low = 0;
    let high = this.held.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const held = this.held[middle] as Held;
      if (this.offset(rcvNxt, held) + held.bytes.length <= start) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Drops tail segments (those after index `keep`, beyond the new bytes) until the new ones fit every bound. */
  private makeRoom(keep: number, growth: number, countAfter: number, mayGrow: (bytes: number) => boolean): boolean {
    let count = countAfter;
    let freed = 0;
    let dropFrom = this.held.length;
    const fits = () =>
      count <= this.maxSegments && this.heldBytes - freed + growth <= this.maxBytes && mayGrow(growth - freed);
    while (!fits()) {
      const tail = this.held[dropFrom - 1];
      if (tail === undefined || dropFrom - 1 < keep) return false;
      dropFrom -= 1;
      count -= 1;
      freed += tail.bytes.length;
    }
    if (dropFrom < this.held.length) {
      this.pruned += this.held.length - dropFrom;
      this.held.length = dropFrom;
      this.heldBytes -= freed;
    }
    return true;
  }
}

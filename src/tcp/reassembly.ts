// Out-of-order bytes held until the gap before them fills (RFC 9293 3.10.7.4, seventh step).
// Ranges are kept sorted, disjoint and non-adjacent, as offsets relative to RCV.NXT at insert time.
import { seqSub, seqAdd } from './seq-number.ts';

interface Range {
  seq: number;
  bytes: Uint8Array;
}

export class Reassembly {
  private ranges: Range[] = [];
  private held = 0;

  constructor(private readonly maxBytes: number) {}

  /** Bytes currently held. */
  get size(): number {
    return this.held;
  }

  get isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  /**
   * Holds `bytes` that start at `seq`, strictly after `rcvNxt` (the caller trimmed them to the window).
   * Returns false when holding them would exceed the bound; nothing is stored then.
   */
  insert(rcvNxt: number, seq: number, bytes: Uint8Array): boolean {
    if (bytes.length === 0) return true;
    let start = seqSub(seq, rcvNxt);
    let end = start + bytes.length;
    const kept: Range[] = [];
    const merged: Range[] = [];
    for (const range of this.ranges) {
      const rangeStart = seqSub(range.seq, rcvNxt);
      const rangeEnd = rangeStart + range.bytes.length;
      if (rangeEnd < start || rangeStart > end) kept.push(range);
      else merged.push(range);
    }
    let mergedLength = 0;
    for (const range of merged) mergedLength += range.bytes.length;
    for (const range of merged) {
      const rangeStart = seqSub(range.seq, rcvNxt);
      start = Math.min(start, rangeStart);
      end = Math.max(end, rangeStart + range.bytes.length);
    }
    const growth = end - start - mergedLength;
    if (this.held + growth > this.maxBytes) return false;
    const combined = new Uint8Array(end - start);
    combined.set(bytes, seqSub(seq, rcvNxt) - start);
    for (const range of merged) combined.set(range.bytes, seqSub(range.seq, rcvNxt) - start);
    kept.push({ seq: seqAdd(rcvNxt, start), bytes: combined });
    kept.sort((a, b) => seqSub(a.seq, rcvNxt) - seqSub(b.seq, rcvNxt));
    this.ranges = kept;
    this.held += growth;
    return true;
  }

  /** Removes and returns the bytes that now continue `rcvNxt`, or undefined when the gap is still open. */
  take(rcvNxt: number): Uint8Array | undefined {
    const first = this.ranges[0];
    if (!first) return undefined;
    const lead = seqSub(rcvNxt, first.seq);
    if (lead < 0) return undefined;
    this.ranges.shift();
    this.held -= first.bytes.length;
    if (lead >= first.bytes.length) return this.take(rcvNxt);
    return first.bytes.subarray(lead);
  }

  clear(): void {
    this.ranges = [];
    this.held = 0;
  }
}

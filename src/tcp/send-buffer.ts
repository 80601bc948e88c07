// Unacknowledged and unsent bytes of one connection, each byte tagged with what it is: the hop limit it must
// leave with and whether it is a token response. Offset 0 is SND.UNA. A peeked range never spans two tags, so
// no segment mixes hop limits, and a retransmission carries the tag of its bytes, never a guess.
import type { BytesTag } from './types.ts';

interface Chunk {
  bytes: Uint8Array;
  tag: BytesTag;
}

export interface SendRange {
  tag: BytesTag;
  bytes: Uint8Array;
}

function sameTag(a: BytesTag, b: BytesTag): boolean {
  return a === b || (a.hopLimit === b.hopLimit && a.tokenResponse === b.tokenResponse);
}

export class SendBuffer {
  /** Stands in for a connection that never sent anything; only push() would change it, and callers replace it first. */
  static readonly EMPTY: SendBuffer = new SendBuffer();

  private readonly chunks: Chunk[] = [];
  /** Bytes of chunks[0] already acknowledged. */
  private headOffset = 0;
  private total = 0;

  get length(): number {
    return this.total;
  }

  /** Appends a copy, so later changes to the caller's array cannot alter bytes in flight. */
  push(bytes: Uint8Array, tag: BytesTag): void {
    if (bytes.length === 0) return;
    this.chunks.push({ bytes: bytes.slice(), tag });
    this.total += bytes.length;
  }

  /** The tag of the byte at `offset`, or undefined past the end. */
  tagAt(offset: number): BytesTag | undefined {
    const found = this.locate(offset);
    return found ? this.chunks[found.index].tag : undefined;
  }

  /**
   * Up to `maxLength` bytes starting at `offset`, stopping early where the tag changes.
   * Returns undefined when there is nothing at `offset`.
   */
  peek(offset: number, maxLength: number): SendRange | undefined {
    if (maxLength <= 0) return undefined;
    const found = this.locate(offset);
    if (!found) return undefined;
    const tag = this.chunks[found.index].tag;
    const parts: Uint8Array[] = [];
    let wanted = maxLength;
    let index = found.index;
    let within = found.within;
    while (wanted > 0 && index < this.chunks.length && sameTag(this.chunks[index].tag, tag)) {
      const chunk = this.chunks[index].bytes;
      const take = Math.min(wanted, chunk.length - within);
      parts.push(chunk.subarray(within, within + take));
      wanted -= take;
      index += 1;
      within = 0;
    }
    // One chunk: a view, not a copy. Chunks are private copies (push) and never written again, and the
    // segment is encoded into its frame before anything can consume them.
    if (parts.length === 1) return { tag, bytes: parts[0] };
    const bytes = new Uint8Array(maxLength - wanted);
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
    return { tag, bytes };
  }

  /** Drops `count` acknowledged bytes from the front. */
  consume(count: number): void {
    let remaining = Math.min(count, this.total);
    this.total -= remaining;
    while (remaining > 0) {
      const head = this.chunks[0];
      const left = head.bytes.length - this.headOffset;
      if (remaining < left) {
        this.headOffset += remaining;
        return;
      }
      remaining -= left;
      this.chunks.shift();
      this.headOffset = 0;
    }
  }

  private locate(offset: number): { index: number; within: number } | undefined {
    if (offset < 0 || offset >= this.total) return undefined;
    let skip = offset + this.headOffset;
    for (let index = 0; index < this.chunks.length; index += 1) {
      const size = this.chunks[index].bytes.length;
      if (skip < size) return { index, within: skip };
      skip -= size;
    }
    return undefined;
  }
}

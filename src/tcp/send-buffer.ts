// Unacknowledged and unsent bytes of one connection, each byte tagged with the IP TTL it must leave with.
// Offset 0 is SND.UNA. A peeked range never spans two TTLs, so no segment mixes hop limits.

interface Chunk {
  bytes: Uint8Array;
  ttl: number;
}

export interface SendRange {
  ttl: number;
  bytes: Uint8Array;
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
  push(bytes: Uint8Array, ttl: number): void {
    if (bytes.length === 0) return;
    this.chunks.push({ bytes: bytes.slice(), ttl });
    this.total += bytes.length;
  }

  /** The TTL of the byte at `offset`, or undefined past the end. */
  ttlAt(offset: number): number | undefined {
    const found = this.locate(offset);
    return found ? this.chunks[found.index].ttl : undefined;
  }

  /**
   * Up to `maxLength` bytes starting at `offset`, stopping early where the TTL changes.
   * Returns undefined when there is nothing at `offset`.
   */
  peek(offset: number, maxLength: number): SendRange | undefined {
    if (maxLength <= 0) return undefined;
    const found = this.locate(offset);
    if (!found) return undefined;
    const ttl = this.chunks[found.index].ttl;
    const parts: Uint8Array[] = [];
    let wanted = maxLength;
    let index = found.index;
    let within = found.within;
    while (wanted > 0 && index < this.chunks.length && this.chunks[index].ttl === ttl) {
      const chunk = this.chunks[index].bytes;
      const take = Math.min(wanted, chunk.length - within);
      parts.push(chunk.subarray(within, within + take));
      wanted -= take;
      index += 1;
      within = 0;
    }
    // One chunk: a view, not a copy. Chunks are private copies (push) and never written again, and the
    // segment is encoded into its frame before anything can consume them.
    if (parts.length === 1) return { ttl, bytes: parts[0] };
    const bytes = new Uint8Array(maxLength - wanted);
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
    return { ttl, bytes };
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

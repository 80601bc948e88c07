// One reusable buffer that outgoing TCP frames are built in. Every link copies what it sends (FrameLink.send), so
// the bytes are free again once transmit returns: no ArrayBuffer — an off-heap allocation the garbage collector
// then tracks — per frame on the hot path.
export class FrameScratch {
  private bytes = new Uint8Array(0);
  private view = new DataView(this.bytes.buffer);

  /**
   * The frame `encode` writes for `args` (at most `length` bytes), as a view of this buffer valid until the next
   * frame. The buffer grows to the longest frame asked for, never shrinks (frames are at most a link's MTU).
   */
  frame<A>(length: number, encode: (bytes: Uint8Array, view: DataView, args: A) => number, args: A): Uint8Array {
    if (this.bytes.length < length) {
      this.bytes = new Uint8Array(Math.max(length, 2048));
      this.view = new DataView(this.bytes.buffer);
    }
    return this.bytes.subarray(0, encode(this.bytes, this.view, args));
  }
}

// One reusable buffer that outgoing TCP frames are built in. Every link copies what it sends (FrameLink.send), so
// the bytes are free again once transmit returns: no ArrayBuffer — an off-heap allocation the garbage collector
// then tracks — per frame on the hot path.
export class FrameScratch {
  bytes = new Uint8Array(0);
  view = new DataView(this.bytes.buffer);

  /** Makes `bytes` (and `view`) at least `length` long; grows, never shrinks (frames are at most a link's MTU). */
  fit(length: number): void {
    if (this.bytes.length >= length) return;
    this.bytes = new Uint8Array(Math.max(length, 2048));
    this.view = new DataView(this.bytes.buffer);
  }
}

// Outgoing frames queued during one turn of the event loop and handed to the OS in one native call: the profile
// showed a JS→C++ crossing and a Node fs.writeSync per frame costing a quarter of the appliance's CPU. Frames are
// copied into one pooled buffer as they are sent (the caller may reuse its bytes at once), so queuing allocates
// nothing per frame; the pool is bounded and flushed early when full.

/** Frames, and bytes, one flush carries at most; a fuller queue is flushed before taking more. */
export const MAX_BATCH_FRAMES = 64;
export const BATCH_POOL_BYTES = 128 * 1024;
/** The largest frame accepted (a tap frame without GSO is far smaller; this is the read side's bound too). */
export const MAX_FRAME_BYTES = 65536;

/** Writes `count` frames packed in `bytes` (lengths[i] each, back to back); returns how many went out whole. */
type WriteFrames = (bytes: Uint8Array, lengths: Uint32Array, count: number) => number;

export class SendBatch {
  private pool: Uint8Array | undefined; // made on first send: an idle appliance holds no pool
  private readonly lengths = new Uint32Array(MAX_BATCH_FRAMES);
  private count = 0;
  private used = 0;
  private scheduled = false;
  /** Frames the OS refused at flush time (after send() had said yes). */
  failures = 0;
  /** Flushes, and frames they carried: frames per flush is what batching buys. */
  flushes = 0;
  framesFlushed = 0;

  constructor(
    private readonly write: WriteFrames,
    private readonly schedule: (flush: () => void) => void = (flush) => setImmediate(flush),
  ) {}

  /** Queues a copy of `frame`; false for a frame no link could carry (empty or larger than MAX_FRAME_BYTES). */
  add(frame: Uint8Array): boolean {
    if (frame.length === 0 || frame.length > MAX_FRAME_BYTES) return false;
    if (this.count === MAX_BATCH_FRAMES || this.used + frame.length > BATCH_POOL_BYTES) this.flush();
    this.pool ??= new Uint8Array(BATCH_POOL_BYTES);
    this.pool.set(frame, this.used);
    this.lengths[this.count++] = frame.length;
    this.used += frame.length;
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(this.scheduledFlush);
    }
    return true;
  }

  /** Writes whatever is queued now. */
  flush(): void {
    if (this.count === 0 || !this.pool) return;
    const count = this.count;
    this.count = 0;
    this.used = 0;
    let written = 0;
    try {
      written = this.write(this.pool, this.lengths, count);
    } catch {
      written = 0; // the fd is gone (closed under us): these frames are lost like on a wire
    }
    this.failures += count - written;
    this.flushes += 1;
    this.framesFlushed += count;
  }

  get queued(): number {
    return this.count;
  }

  private readonly scheduledFlush = (): void => {
    this.scheduled = false;
    this.flush();
  };
}

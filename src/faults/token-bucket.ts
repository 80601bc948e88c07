// A token bucket: `ratePerSecond` tokens flow in continuously, at most `burst` are held, each admitted event takes
// one. Time is the caller's monotonic milliseconds, so the bucket is a pure value that tests drive by hand.

export interface BucketSettings {
  ratePerSecond: number;
  burst: number;
}

export class TokenBucket {
  private tokens: number;
  private lastMs: number | undefined;

  constructor(private readonly settings: BucketSettings) {
    this.tokens = settings.burst;
  }

  /** Takes one token if there is one at nowMs. A clock that steps back refills nothing and takes nothing away. */
  take(nowMs: number): boolean {
    this.refill(nowMs);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whole tokens available at nowMs, for diagnostics. */
  available(nowMs: number): number {
    this.refill(nowMs);
    return Math.floor(this.tokens);
  }

  private refill(nowMs: number): void {
    if (this.lastMs !== undefined && nowMs > this.lastMs) {
      this.tokens = Math.min(
        this.settings.burst,
        this.tokens + ((nowMs - this.lastMs) * this.settings.ratePerSecond) / 1000,
      );
    }
    if (this.lastMs === undefined || nowMs > this.lastMs) this.lastMs = nowMs;
  }
}

/**
 * Buckets by key (a source address), bounded: past `maxKeys` the least recently used key is forgotten, which
 * only ever gives that source a full bucket again — spoofed sources cannot grow memory.
 */
export class KeyedBuckets<K = string | number> {
  private readonly buckets = new Map<K, TokenBucket>();

  constructor(
    private readonly settings: BucketSettings,
    private readonly maxKeys: number,
  ) {}

  take(key: K, nowMs: number): boolean {
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key); // re-insert: Map order is least recently used first
    } else {
      bucket = new TokenBucket(this.settings);
      if (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
    }
    this.buckets.set(key, bucket);
    return bucket.take(nowMs);
  }

  get size(): number {
    return this.buckets.size;
  }
}

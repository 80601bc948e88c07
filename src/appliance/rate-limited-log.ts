// Log lines that hostile traffic can trigger at will (ICMP errors, malformed requests, handler faults) go through
// here: per kind, a burst and then one line per interval, like the kernel's net_ratelimit (10 lines per 5 s).
// Suppressed lines are counted, and the next line of that kind says how many it stands for; the caller's own
// counters still count every event.
import type { Logger } from 'pino';

export interface RateLimit {
  /** Lines logged at once before limiting starts. */
  burst: number;
  /** A new line is allowed every intervalMs / burst, up to the burst. */
  intervalMs: number;
}

const DEFAULT_LOG_RATE_LIMIT: Readonly<RateLimit> = Object.freeze({ burst: 10, intervalMs: 5_000 });

type Level = 'error' | 'warn' | 'info';

interface Bucket {
  tokens: number;
  refilledAt: number;
  suppressed: number;
}

export class RateLimitedLog {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly log: Logger,
    private readonly nowMs: () => number,
    /** Called once per suppressed line (the `log-lines-suppressed` counter). */
    private readonly onSuppressed: (kind: string) => void,
    private readonly limit: RateLimit = DEFAULT_LOG_RATE_LIMIT,
  ) {}

  error(kind: string, fields: Record<string, unknown>, message: string): void {
    this.write('error', kind, fields, message);
  }

  warn(kind: string, fields: Record<string, unknown>, message: string): void {
    this.write('warn', kind, fields, message);
  }

  info(kind: string, fields: Record<string, unknown>, message: string): void {
    this.write('info', kind, fields, message);
  }

  /** Lines of `kind` suppressed since the last one logged. */
  pending(kind: string): number {
    return this.buckets.get(kind)?.suppressed ?? 0;
  }

  private write(level: Level, kind: string, fields: Record<string, unknown>, message: string): void {
    if (!this.log.isLevelEnabled(level)) return;
    const now = this.nowMs();
    // Kinds are a handful of literals from the code, never from the wire: the map stays tiny.
    let bucket = this.buckets.get(kind);
    if (bucket === undefined) {
      bucket = { tokens: this.limit.burst, refilledAt: now, suppressed: 0 };
      this.buckets.set(kind, bucket);
    }
    const refill = ((now - bucket.refilledAt) * this.limit.burst) / this.limit.intervalMs;
    if (refill > 0) {
      bucket.tokens = Math.min(this.limit.burst, bucket.tokens + refill);
      bucket.refilledAt = now;
    }
    if (bucket.tokens < 1) {
      bucket.suppressed += 1;
      this.onSuppressed(kind);
      return;
    }
    bucket.tokens -= 1;
    const suppressed = bucket.suppressed;
    bucket.suppressed = 0;
    this.log[level](
      suppressed > 0 ? { ...fields, suppressed, suppressedNote: `${suppressed} similar lines suppressed` } : fields,
      message,
    );
  }
}

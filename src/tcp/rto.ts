// Retransmission timeout estimator of RFC 6298: SRTT/RTTVAR smoothing, exponential backoff, clamped.

/** RFC 6298 (2.3): alpha = 1/8, beta = 1/4, K = 4. */
const ALPHA = 1 / 8;
const BETA = 1 / 4;
const K = 4;
/** RFC 6298 (2.2): clock granularity G; our clock is in milliseconds. */
const CLOCK_GRANULARITY_MS = 1;

export class RtoEstimator {
  srtt: number | undefined;
  rttvar = 0;
  private current: number;

  constructor(
    private readonly initialRtoMs: number,
    private readonly minRtoMs: number,
    private readonly maxRtoMs: number,
  ) {
    this.current = this.clamp(initialRtoMs);
  }

  /** The timeout to arm now, backoff included. */
  get rto(): number {
    return this.current;
  }

  /** A round-trip measurement from a segment that was never retransmitted (Karn's rule is the caller's duty). */
  sample(rttMs: number): void {
    const r = Math.max(0, rttMs);
    if (this.srtt === undefined) {
      this.srtt = r; // RFC 6298 (2.2)
      this.rttvar = r / 2;
    } else {
      this.rttvar = (1 - BETA) * this.rttvar + BETA * Math.abs(this.srtt - r); // RFC 6298 (2.3)
      this.srtt = (1 - ALPHA) * this.srtt + ALPHA * r;
    }
    this.current = this.clamp(this.srtt + Math.max(CLOCK_GRANULARITY_MS, K * this.rttvar));
  }

  /** RFC 6298 (5.5): double the timeout after it expires. */
  backoff(): void {
    this.current = Math.min(this.current * 2, this.maxRtoMs);
  }

  /** RFC 6298 (2.1)/(2.4)/(2.5): never below the floor nor above the ceiling. */
  private clamp(rto: number): number {
    return Math.min(Math.max(rto, this.minRtoMs), this.maxRtoMs);
  }
}

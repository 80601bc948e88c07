// Congestion window per RFC 5681 (slow start, congestion avoidance, fast retransmit/recovery), RFC 6928 start.

/** RFC 6928: initial window of ten segments. */
const INITIAL_WINDOW_SEGMENTS = 10;

export class CongestionControl {
  cwnd: number;
  /** RFC 5681 3.1: initially arbitrarily high. */
  ssthresh = Number.MAX_SAFE_INTEGER;

  constructor(private readonly mss: number) {
    this.cwnd = INITIAL_WINDOW_SEGMENTS * mss;
  }

  /** A cumulative ACK advanced SND.UNA by `acked` bytes outside fast recovery. */
  onAck(acked: number): void {
    if (this.cwnd < this.ssthresh) {
      this.cwnd += Math.min(acked, this.mss); // RFC 5681 (2): slow start
    } else {
      this.cwnd += Math.max(1, Math.floor((this.mss * this.mss) / this.cwnd)); // RFC 5681 (3)
    }
  }

  /** RFC 5681 3.2 steps 2–3 on the third duplicate ACK. */
  enterFastRecovery(flightSize: number): void {
    this.ssthresh = this.reducedThreshold(flightSize);
    this.cwnd = this.ssthresh + 3 * this.mss;
  }

  /** RFC 5681 3.2 step 4: each further duplicate ACK means a segment left the network. */
  inflate(): void {
    this.cwnd += this.mss;
  }

  /** RFC 6582 3.2 step 3: a partial ACK deflates by the amount acknowledged, then adds back one segment. */
  onPartialAck(acked: number): void {
    this.cwnd = Math.max(this.mss, this.cwnd - acked + this.mss);
  }

  /** RFC 5681 3.2 step 6: the ACK covering the recovery point deflates the window to ssthresh. */
  exitFastRecovery(): void {
    this.cwnd = this.ssthresh;
  }

  /** RFC 5681 (4) and 3.1: a retransmission timeout restarts slow start from one segment. */
  onRetransmissionTimeout(flightSize: number): void {
    this.ssthresh = this.reducedThreshold(flightSize);
    this.cwnd = this.mss;
  }

  /** RFC 5681 (4): ssthresh = max(FlightSize / 2, 2*SMSS). */
  private reducedThreshold(flightSize: number): number {
    return Math.max(Math.floor(flightSize / 2), 2 * this.mss);
  }
}

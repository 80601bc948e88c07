// The connection cap's state: connections open per source, and handshakes admitted under the cap that are not yet
// accepted (a SYN flood's half-open connections count against its source too). Bounded in sources.
import { ConnectionCounts } from '../faults/index.ts';

/** A handshake admitted under the connection cap holds its place this long at most if it never completes. */
const PENDING_HANDSHAKE_MS = 10_000;

export class SourceConnections {
  private readonly open = new ConnectionCounts();
  /** Handshakes admitted under the cap and not yet accepted, by source: their admission times. */
  private readonly pendingHandshakes = new Map<number, number[]>();
  private readonly sourceOfConnection = new Map<number, number>();

  constructor(private readonly maxSources: number) {}

  /** Admits a handshake from `source` when its open and pending connections are below `cap`. */
  admit(source: number, cap: number, nowMs: number): boolean {
    const pending = this.livePending(source, nowMs);
    if (this.open.count(source) + pending.length >= cap) return false;
    pending.push(nowMs);
    return true;
  }

  openFrom(source: number): number {
    return this.open.count(source);
  }

  opened(id: number, source: number): void {
    this.pendingHandshakes.get(source)?.shift();
    this.open.opened(source);
    this.sourceOfConnection.set(id, source);
  }

  closed(id: number): void {
    const source = this.sourceOfConnection.get(id);
    if (source === undefined) return;
    this.sourceOfConnection.delete(id);
    this.open.closed(source);
  }

  private livePending(source: number, nowMs: number): number[] {
    let pending = this.pendingHandshakes.get(source);
    if (pending) {
      while (pending.length > 0 && nowMs - (pending[0] as number) >= PENDING_HANDSHAKE_MS) pending.shift();
      this.pendingHandshakes.delete(source); // re-inserted below: least recent first
    } else {
      pending = [];
      if (this.pendingHandshakes.size >= this.maxSources) {
        const oldest = this.pendingHandshakes.keys().next().value;
        if (oldest !== undefined) this.pendingHandshakes.delete(oldest);
      }
    }
    this.pendingHandshakes.set(source, pending);
    return pending;
  }
}

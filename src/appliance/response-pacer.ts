// Carries out the responses fault rules hold back: a connection's chunks leave in order, a delayed one holds
// everything behind it, and the FIN, RST or silence a fault asked for follows its bytes. Timers are the event
// loop's and are bounded per connection and in total; they die with the connection.
import type { SendTag } from '../tcp/index.ts';
import type { ResponseChunk } from './http-session.ts';

interface PacedConnection {
  /** Queues tagged bytes on the connection (and a FIN after them); false when the connection refused or is gone. */
  send(id: number, bytes: Uint8Array, tag: SendTag, thenClose: boolean): boolean;
  close(id: number): void;
  abort(id: number): void;
  /** Called after timer-driven work, so the caller can re-arm its own protocol timer. */
  settled(): void;
  /** A bound was hit; the connection was reset instead. */
  overflow(id: number, what: 'per-connection' | 'total'): void;
}

interface PacerLimits {
  /** Chunks held for one connection (pipelined requests behind a delayed one). */
  perConnection: number;
  /** Connections with something held, i.e. armed timers, across the appliance. */
  total: number;
}

const DEFAULT_PACER_LIMITS: PacerLimits = { perConnection: 32, total: 4096 };

interface Held {
  chunks: ResponseChunk[];
  closeAtEnd: boolean;
  timer: NodeJS.Timeout | undefined;
  /** Silence was asked for: nothing more leaves on this connection. */
  stalled: boolean;
}

export class ResponsePacer {
  private readonly held = new Map<number, Held>();

  constructor(
    private readonly connection: PacedConnection,
    private readonly limits: PacerLimits = DEFAULT_PACER_LIMITS,
  ) {}

  /** True when this output must go through the pacer: a fault marked it, or earlier chunks are still held. */
  needs(id: number, chunks: readonly ResponseChunk[]): boolean {
    return this.held.has(id) || chunks.some((chunk) => chunk.delayMs || chunk.then);
  }

  /** Connections with something held. */
  get size(): number {
    return this.held.size;
  }

  deliver(id: number, chunks: readonly ResponseChunk[], closeAtEnd: boolean): void {
    let held = this.held.get(id);
    if (!held) {
      if (this.held.size >= this.limits.total) return this.refuse(id, 'total');
      held = { chunks: [], closeAtEnd: false, timer: undefined, stalled: false };
      this.held.set(id, held);
    }
    if (held.stalled) return;
    if (held.chunks.length + chunks.length > this.limits.perConnection) return this.refuse(id, 'per-connection');
    held.chunks.push(...chunks);
    held.closeAtEnd ||= closeAtEnd;
    if (held.timer === undefined) this.drain(id, held);
  }

  /** The peer closed its side: close ours after what is held. False when nothing is held (close now). */
  closeWhenDone(id: number): boolean {
    const held = this.held.get(id);
    if (!held || held.stalled) return false;
    held.closeAtEnd = true;
    return true;
  }

  /** The connection is gone: drop what it held and its timer. */
  forget(id: number): void {
    const held = this.held.get(id);
    if (!held) return;
    if (held.timer !== undefined) clearTimeout(held.timer);
    this.held.delete(id);
  }

  stop(): void {
    for (const id of [...this.held.keys()]) this.forget(id);
  }

  private refuse(id: number, what: 'per-connection' | 'total'): void {
    this.forget(id);
    this.connection.overflow(id, what);
    this.connection.abort(id);
  }

  private drain(id: number, held: Held): void {
    while (held.chunks.length > 0) {
      const chunk = held.chunks[0] as ResponseChunk;
      if (chunk.delayMs) {
        const delayMs = chunk.delayMs;
        chunk.delayMs = 0;
        held.timer = setTimeout(() => {
          held.timer = undefined;
          if (this.held.get(id) !== held) return;
          this.drain(id, held);
          this.connection.settled();
        }, delayMs);
        return;
      }
      held.chunks.shift();
      const last = held.chunks.length === 0;
      if (chunk.then === 'reset') {
        this.forget(id);
        this.connection.abort(id);
        return;
      }
      if (chunk.then === 'stall') {
        held.chunks.length = 0;
        held.stalled = true;
        return; // kept, so later requests on this connection stay unanswered
      }
      const thenClose = chunk.then === 'close' || (last && held.closeAtEnd);
      if (chunk.bytes.length > 0) {
        if (!this.connection.send(id, chunk.bytes, chunk, thenClose)) return this.forget(id);
      } else if (thenClose) {
        this.connection.close(id);
      }
      if (thenClose) return this.forget(id);
    }
    this.held.delete(id);
  }
}

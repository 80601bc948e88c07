// The connection table: demultiplexes segments by 4-tuple, enforces the configured bounds, answers segments
// that match no connection (RFC 9293 3.10.7.1/3.10.7.2), and keeps every connection's next deadline in a heap.
import type { TcpSegment } from '../wire/tcp-segment.ts';
import { Connection, segmentLength, type ConnectionContext } from './connection.ts';
import { DeadlineHeap } from './deadline-heap.ts';
import { initialSequenceNumber } from './isn.ts';
import { seqAdd, seqGt } from './seq-number.ts';
import type { ConnectionId, Endpoints, SendResult, TcpAction, TcpConfig } from './types.ts';

function tupleKey(localAddr: number, localPort: number, remoteAddr: number, remotePort: number): string {
  return `${remoteAddr >>> 0}:${remotePort}>${localAddr >>> 0}:${localPort}`;
}

export class TcpStack {
  private readonly byTuple = new Map<string, Connection>();
  private readonly byId = new Map<ConnectionId, Connection>();
  private readonly heap = new DeadlineHeap();
  private readonly listening: ReadonlySet<number>;
  private readonly counts: Record<string, number> = {};
  private readonly context: ConnectionContext;
  private nextId: ConnectionId = 1;
  private halfOpen = 0;

  constructor(private readonly config: TcpConfig) {
    if (config.receiveWindow < 0 || config.receiveWindow > 0xffff) {
      throw new RangeError('receiveWindow must be 0..65535: window scaling is not offered');
    }
    if (config.mss < 1) throw new RangeError('mss must be positive');
    this.listening = new Set(config.listenPorts);
    this.context = {
      config,
      count: (name) => this.count(name),
      mayEstablish: () => this.connectionCount() < this.config.maxConnections,
    };
  }

  /** Named drop, refusal and event counters. */
  get counters(): Readonly<Record<string, number>> {
    return this.counts;
  }

  /** Connections past the handshake, TIME-WAIT included. */
  connectionCount(): number {
    return this.byTuple.size - this.halfOpen;
  }

  halfOpenCount(): number {
    return this.halfOpen;
  }

  bufferedSendBytes(id: ConnectionId): number | undefined {
    return this.byId.get(id)?.bufferedBytes;
  }

  /** For tests and diagnostics: the connection record behind an id. */
  inspect(id: ConnectionId): Connection | undefined {
    return this.byId.get(id);
  }

  /** A segment addressed to us (the caller already checked the IP destination). */
  receive(srcAddr: number, dstAddr: number, segment: TcpSegment, now: number): TcpAction[] {
    this.count('segments-received');
    const key = tupleKey(dstAddr, segment.dstPort, srcAddr, segment.srcPort);
    const existing = this.byTuple.get(key);
    if (existing) {
      if (!this.replacedBy(existing, segment)) return this.step(existing, () => existing.onSegment(segment, now));
      this.remove(existing);
    }
    return this.noConnection(srcAddr, dstAddr, segment, now);
  }

  send(id: ConnectionId, bytes: Uint8Array, ttl: number, now: number): SendResult {
    const conn = this.byId.get(id);
    if (!conn || conn.detached || conn.state === 'syn-received') return { ok: false, reason: 'no-connection' };
    let result: SendResult = { ok: false, reason: 'closing' };
    this.step(conn, () => {
      result = conn.send(bytes, ttl, now);
      return [];
    });
    return result;
  }

  close(id: ConnectionId, now: number): TcpAction[] {
    const conn = this.byId.get(id);
    if (!conn || conn.detached || conn.state === 'syn-received') return [];
    return this.step(conn, () => conn.close(now));
  }

  abort(id: ConnectionId, now: number): TcpAction[] {
    const conn = this.byId.get(id);
    if (!conn || conn.detached) return [];
    return this.step(conn, () => conn.abort(now));
  }

  poll(now: number): TcpAction[] {
    const due: Connection[] = [];
    for (let top = this.heap.peek(); top !== undefined && top.deadline <= now; top = this.heap.peek()) {
      this.heap.pop();
      const conn = this.byId.get(top.key);
      if (!conn || conn.heapDeadline !== top.deadline) continue; // superseded entry
      conn.heapDeadline = undefined;
      due.push(conn);
    }
    const actions: TcpAction[] = [];
    for (const conn of due) {
      if (this.byId.get(conn.id) !== conn) continue;
      actions.push(...this.step(conn, () => conn.onTimers(now)));
    }
    return actions;
  }

  /** Earliest time poll() has work. Amortised O(log n): stale heap entries are dropped or moved as they surface. */
  nextDeadline(): number | undefined {
    for (let top = this.heap.peek(); top !== undefined; top = this.heap.peek()) {
      const conn = this.byId.get(top.key);
      if (!conn || conn.heapDeadline !== top.deadline) {
        this.heap.pop();
        continue;
      }
      const actual = conn.deadline();
      if (actual === undefined) {
        this.heap.pop();
        conn.heapDeadline = undefined;
        continue;
      }
      if (actual > top.deadline) {
        // The connection's deadline moved later (activity pushed its idle timer back): re-file it.
        this.heap.pop();
        this.heap.push(actual, conn.id);
        conn.heapDeadline = actual;
        continue;
      }
      return top.deadline;
    }
    return undefined;
  }

  /** A new SYN replaces an entry in TIME-WAIT (RFC 1122 4.2.2.13) or a half-open entry from an older ISN. */
  private replacedBy(conn: Connection, segment: TcpSegment): boolean {
    if (segment.control !== 'syn' || segment.ack !== undefined) return false;
    if (conn.state === 'time-wait' && seqGt(segment.seq, conn.rcvNxt)) {
      this.count('time-wait-reused');
      return true;
    }
    if (conn.state === 'syn-received' && segment.seq !== conn.irs) {
      this.count('syn-received-replaced');
      return true;
    }
    return false;
  }

  private noConnection(srcAddr: number, dstAddr: number, segment: TcpSegment, now: number): TcpAction[] {
    if (segment.control === 'rst') {
      this.count('rst-dropped-no-connection'); // RFC 9293 3.10.7.1: never answer a RST
      return [];
    }
    if (!this.listening.has(segment.dstPort)) {
      this.count('rst-sent-closed-port');
      return [this.resetFor(srcAddr, dstAddr, segment)];
    }
    if (segment.ack !== undefined) {
      // RFC 9293 3.10.7.2: in LISTEN any acknowledgment is bad.
      this.count('rst-sent-no-connection');
      return [this.resetFor(srcAddr, dstAddr, segment)];
    }
    if (segment.control !== 'syn') {
      this.count('segments-dropped-no-connection');
      return [];
    }
    if (this.connectionCount() >= this.config.maxConnections) {
      this.count('syn-refused-max-connections');
      return [this.resetFor(srcAddr, dstAddr, segment)];
    }
    if (this.halfOpen >= this.config.maxHalfOpen) {
      this.count('syn-dropped-half-open-full');
      return [];
    }
    const endpoints: Endpoints = {
      localAddr: dstAddr >>> 0,
      localPort: segment.dstPort,
      remoteAddr: srcAddr >>> 0,
      remotePort: segment.srcPort,
    };
    const iss = initialSequenceNumber(this.config.isnSecret, endpoints, now);
    const conn = new Connection(this.context, this.nextId, endpoints, segment, iss, now);
    this.nextId += 1;
    this.byTuple.set(tupleKey(dstAddr, segment.dstPort, srcAddr, segment.srcPort), conn);
    this.byId.set(conn.id, conn);
    this.halfOpen += 1;
    this.count('syns-received');
    return this.step(conn, () => conn.start(now), true);
  }

  /** RFC 9293 3.10.7.1: <SEQ=SEG.ACK><CTL=RST> if the segment had an ACK, else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
  private resetFor(srcAddr: number, dstAddr: number, segment: TcpSegment): TcpAction {
    const hasAck = segment.ack !== undefined;
    return {
      kind: 'transmit',
      localAddr: dstAddr >>> 0,
      remoteAddr: srcAddr >>> 0,
      ttl: this.config.defaultTtl,
      segment: {
        srcPort: segment.dstPort,
        dstPort: segment.srcPort,
        seq: hasAck ? (segment.ack as number) : 0,
        ack: hasAck ? undefined : seqAdd(segment.seq, segmentLength(segment)),
        control: 'rst',
        push: false,
        window: 0,
        options: {},
        payload: new Uint8Array(0),
      },
    };
  }

  /** Runs one event on a connection, then keeps the half-open count, the table and the heap in step with it. */
  private step(conn: Connection, event: () => TcpAction[], wasHalfOpen = conn.state === 'syn-received'): TcpAction[] {
    const actions = event();
    if (wasHalfOpen && conn.state !== 'syn-received') this.halfOpen -= 1;
    if (conn.state === 'closed') {
      this.byTuple.delete(tupleKey(conn.endpoints.localAddr, conn.endpoints.localPort, conn.endpoints.remoteAddr, conn.endpoints.remotePort));
      this.byId.delete(conn.id);
      return actions;
    }
    const deadline = conn.deadline();
    if (deadline !== undefined && (conn.heapDeadline === undefined || deadline < conn.heapDeadline)) {
      this.heap.push(deadline, conn.id);
      conn.heapDeadline = deadline;
    }
    return actions;
  }

  private remove(conn: Connection): void {
    if (conn.state === 'syn-received') this.halfOpen -= 1;
    conn.state = 'closed';
    this.byTuple.delete(tupleKey(conn.endpoints.localAddr, conn.endpoints.localPort, conn.endpoints.remoteAddr, conn.endpoints.remotePort));
    this.byId.delete(conn.id);
  }

  private count(name: string): void {
    this.counts[name] = (this.counts[name] ?? 0) + 1;
  }
}

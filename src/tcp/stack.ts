// The connection table: demultiplexes segments by 4-tuple, enforces the configured bounds, answers segments
// that match no connection (RFC 9293 3.10.7.1/3.10.7.2), and keeps every connection's next deadline in a heap.
import type { TcpSegment } from '../wire/tcp-segment.ts';
import { Connection, segmentLength, type ConnectionContext } from './connection.ts';
import { DeadlineHeap } from './deadline-heap.ts';
import { initialSequenceNumber } from './isn.ts';
import { MAX_SYN_COOKIE_AGE_MINUTES, checkSynCookie, cookieMssIndex, encodeSynCookie } from './syn-cookie.ts';
import { seqAdd } from './seq-number.ts';
import { DEFAULT_PEER_MSS } from './connection.ts';
import { TimeWaitTable, timeWaitVerdict } from './time-wait.ts';
import type { ConnectionId, Endpoints, SendResult, SendTag, TcpAction, TcpConfig } from './types.ts';

/**
 * Both ports in one int32: with the two addresses as int32 too, every key is a small integer V8 hashes and stores
 * without a heap number (one address and port in one exact double made one per lookup).
 */
function portsKey(localPort: number, remotePort: number): number {
  return (remotePort << 16) | localPort;
}

/** A connection, or the slot of a TIME-WAIT entry in the TimeWaitTable. */
type TupleEntry = Connection | number;

/** Connections by 4-tuple: local address, remote address, then both ports (a server has very few local addresses). */
class TupleTable {
  private readonly byLocal = new Map<number, Map<number, Map<number, TupleEntry>>>();
  size = 0;

  get(localAddr: number, localPort: number, remoteAddr: number, remotePort: number): TupleEntry | undefined {
    return this.byLocal
      .get(localAddr | 0)
      ?.get(remoteAddr | 0)
      ?.get(portsKey(localPort, remotePort));
  }

  set(localAddr: number, localPort: number, remoteAddr: number, remotePort: number, entry: TupleEntry): void {
    let remotes = this.byLocal.get(localAddr | 0);
    if (remotes === undefined) {
      remotes = new Map();
      this.byLocal.set(localAddr | 0, remotes);
    }
    let ports = remotes.get(remoteAddr | 0);
    if (ports === undefined) {
      ports = new Map();
      remotes.set(remoteAddr | 0, ports);
    }
    const before = ports.size;
    ports.set(portsKey(localPort, remotePort), entry);
    this.size += ports.size - before;
  }

  delete(localAddr: number, localPort: number, remoteAddr: number, remotePort: number): void {
    const remotes = this.byLocal.get(localAddr | 0);
    const ports = remotes?.get(remoteAddr | 0);
    if (remotes === undefined || ports === undefined) return;
    if (ports.delete(portsKey(localPort, remotePort))) this.size -= 1;
    if (ports.size > 0) return;
    remotes.delete(remoteAddr | 0);
    if (remotes.size === 0) this.byLocal.delete(localAddr | 0);
  }
}

export class TcpStack {
  private readonly byTuple = new TupleTable();
  private readonly byId = new Map<ConnectionId, Connection>();
  private readonly heap = new DeadlineHeap();
  /** TIME-WAIT entries, compact records rather than connections: bounded apart from maxConnections, like Linux's tw buckets. */
  private readonly timeWait = new TimeWaitTable();
  private readonly listening: ReadonlySet<number>;
  private readonly counts: Record<string, number> = {};
  private readonly context: ConnectionContext;
  private nextId: ConnectionId = 1;
  private halfOpen = 0;
  /** Send and out-of-order bytes held by every connection together (bounded by maxBufferedBytes). */
  private buffered = 0;
  /** When the last SYN cookie left: ACKs are checked as cookies only for a while after (Linux does the same). */
  private lastCookieSentAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly config: TcpConfig) {
    if (config.receiveWindow < 0 || config.receiveWindow > 0xffff) {
      throw new RangeError('receiveWindow must be 0..65535: window scaling is not offered');
    }
    if (config.mss < 1) throw new RangeError('mss must be positive');
    if (!Number.isInteger(config.maxTimeWait) || config.maxTimeWait < 0)
      throw new RangeError('maxTimeWait must be a whole number, 0 or more');
    const hopLimit = config.defaultHopLimit;
    if (!Number.isInteger(hopLimit) || hopLimit < 1 || hopLimit > 255)
      throw new RangeError('defaultHopLimit must be 1..255');
    this.listening = new Set(config.listenPorts);
    this.context = {
      config,
      defaultTag: Object.freeze({ hopLimit, tokenResponse: false }),
      count: (name) => this.count(name),
      mayEstablish: () => this.liveConnectionCount() < this.config.maxConnections,
      mayBuffer: (bytes) => this.buffered + bytes <= this.config.maxBufferedBytes,
      // Linux shortens the SYN-ACK retries of young entries once the queue is half full; so do we, for all.
      synAckRetryLimit: () => (this.halfOpen * 2 >= this.config.maxHalfOpen ? 1 : this.config.maxSynAckRetransmissions),
    };
  }

  /** The hop limit of every packet that has none of its own (ICMP replies at the edge use it too). */
  get defaultHopLimit(): number {
    return this.config.defaultHopLimit;
  }

  /** Named drop, refusal and event counters. */
  get counters(): Readonly<Record<string, number>> {
    return this.counts;
  }

  /** Connections past the handshake, TIME-WAIT included. */
  connectionCount(): number {
    return this.byTuple.size - this.halfOpen;
  }

  /** What maxConnections bounds: TIME-WAIT entries have their own bound (maxTimeWait). */
  private liveConnectionCount(): number {
    return this.connectionCount() - this.timeWait.size;
  }

  timeWaitCount(): number {
    return this.timeWait.size;
  }

  halfOpenCount(): number {
    return this.halfOpen;
  }

  /** Bytes held across all connections (send buffers and out-of-order data). */
  bufferedBytes(): number {
    return this.buffered;
  }

  /** Whether a segment on this 4-tuple belongs to a connection we hold. */
  hasConnection(localAddr: number, localPort: number, remoteAddr: number, remotePort: number): boolean {
    return this.byTuple.get(localAddr, localPort, remoteAddr, remotePort) !== undefined;
  }

  /** A SYN (without ACK) to a port we listen on: a segment that may open a connection. */
  isSynToListener(segment: TcpSegment): boolean {
    return segment.control === 'syn' && segment.ack === undefined && this.listening.has(segment.dstPort);
  }

  /**
   * Whether a segment that passed every check is ours: a SYN to a port we listen on, or one of a connection we
   * hold. Only such a segment may teach the edge where its sender is; a stray ACK, a RST or a closed port do not.
   */
  isOurs(localAddr: number, remoteAddr: number, segment: TcpSegment): boolean {
    return this.isSynToListener(segment) || this.hasConnection(localAddr, segment.dstPort, remoteAddr, segment.srcPort);
  }

  /**
   * Whether an ICMP error quoting our segment <localPort -> remote:remotePort, SEQ=seq> can be genuine: the
   * sequence number lies in what that connection sent and has not had acknowledged (RFC 5927 4.1).
   */
  sentSequenceMatches(
    localAddr: number,
    localPort: number,
    remoteAddr: number,
    remotePort: number,
    seq: number,
  ): boolean {
    const entry = this.byTuple.get(localAddr, localPort, remoteAddr, remotePort);
    return typeof entry === 'object' && entry.sentUnacknowledged(seq); // in TIME-WAIT everything was acknowledged
  }

  /** For tests and diagnostics: whether the 4-tuple is in TIME-WAIT (inspect() no longer finds it by id). */
  inTimeWait(localAddr: number, localPort: number, remoteAddr: number, remotePort: number): boolean {
    return typeof this.byTuple.get(localAddr, localPort, remoteAddr, remotePort) === 'number';
  }

  /** Asks for an 'application-deadline' action at `at` (undefined cancels); e.g. the request-header timeout. */
  setApplicationDeadline(id: ConnectionId, at: number | undefined): void {
    const conn = this.byId.get(id);
    if (!conn || conn.detached || conn.applicationDeadline === at) return;
    this.step(conn, () => {
      conn.applicationDeadline = at;
      return [];
    });
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
    const existing = this.byTuple.get(dstAddr, segment.dstPort, srcAddr, segment.srcPort);
    if (typeof existing === 'number') return this.receiveInTimeWait(existing, srcAddr, dstAddr, segment, now);
    if (existing) {
      if (!this.replacedBy(existing, segment)) return this.step(existing, () => existing.onSegment(segment, now));
      this.remove(existing);
    }
    return this.noConnection(srcAddr, dstAddr, segment, now);
  }

  /**
   * Queues bytes on a connection, tagged with their hop limit (undefined: the default) and whether they are a
   * token response; `thenClose` closes it right after them (one segment carries data and FIN).
   */
  send(id: ConnectionId, bytes: Uint8Array, tag: SendTag, now: number, thenClose = false): SendResult {
    const conn = this.byId.get(id);
    if (!conn || conn.detached || conn.state === 'syn-received') return { ok: false, reason: 'no-connection' };
    let result: SendResult = { ok: false, reason: 'closing' };
    this.step(conn, () => {
      result = conn.send(bytes, tag, now, thenClose);
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
    // 2*MSL passed: the tuple may be reused. The entry goes silently.
    for (let slot = this.timeWait.expired(now); slot !== undefined; slot = this.timeWait.expired(now)) {
      this.removeTimeWait(slot);
    }
    const due: Connection[] = [];
    for (let top = this.heap.peekDeadline(); top !== undefined && top <= now; top = this.heap.peekDeadline()) {
      const conn = this.byId.get(this.heap.peekKey());
      this.heap.drop();
      if (!conn || conn.heapDeadline !== top) continue; // superseded entry
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

  /** Earliest time poll() has work. */
  nextDeadline(): number | undefined {
    const connections = this.nextConnectionDeadline();
    const timeWait = this.timeWait.nextDeadline();
    return timeWait === undefined || (connections !== undefined && connections <= timeWait) ? connections : timeWait;
  }

  /** Amortised O(log n): stale heap entries are dropped or moved as they surface. */
  private nextConnectionDeadline(): number | undefined {
    for (let top = this.heap.peekDeadline(); top !== undefined; top = this.heap.peekDeadline()) {
      const conn = this.byId.get(this.heap.peekKey());
      if (!conn || conn.heapDeadline !== top) {
        this.heap.drop();
        continue;
      }
      const actual = conn.deadline();
      if (actual === undefined) {
        this.heap.drop();
        conn.heapDeadline = undefined;
        continue;
      }
      if (actual > top) {
        // The connection's deadline moved later (activity pushed its idle timer back): re-file it.
        this.heap.drop();
        this.heap.push(actual, conn.id);
        conn.heapDeadline = actual;
        continue;
      }
      return top;
    }
    return undefined;
  }

  /** A segment for a tuple in TIME-WAIT, decided from its compact record (time-wait.ts). */
  private receiveInTimeWait(
    slot: number,
    srcAddr: number,
    dstAddr: number,
    segment: TcpSegment,
    now: number,
  ): TcpAction[] {
    const { config, timeWait } = this;
    const verdict = timeWaitVerdict(timeWait.rcvNxtOf(slot), config.receiveWindow, segment);
    this.count(verdict.counter);
    const actions = verdict.ack ? [timeWait.acknowledgment(slot, config.receiveWindow, config.defaultHopLimit)] : [];
    if (verdict.entry === 'restart') timeWait.restart(slot, now + config.timeWaitMs);
    else if (verdict.entry !== 'keep') this.removeTimeWait(slot);
    // RFC 1122 4.2.2.13: a new SYN above RCV.NXT opens a new connection on the tuple.
    return verdict.entry === 'reuse' ? this.noConnection(srcAddr, dstAddr, segment, now) : actions;
  }

  /** A new SYN replaces a half-open entry from an older ISN. */
  private replacedBy(conn: Connection, segment: TcpSegment): boolean {
    if (segment.control !== 'syn' || segment.ack !== undefined) return false;
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
      const cookie = this.acceptCookie(srcAddr, dstAddr, segment, now);
      if (cookie !== undefined) return cookie;
      // RFC 9293 3.10.7.2: in LISTEN any acknowledgment is bad.
      this.count('rst-sent-no-connection');
      return [this.resetFor(srcAddr, dstAddr, segment)];
    }
    if (segment.control !== 'syn') {
      this.count('segments-dropped-no-connection');
      return [];
    }
    if (this.config.admitSyn && !this.config.admitSyn(srcAddr >>> 0, now)) {
      this.count('syn-refused-by-policy');
      return [this.resetFor(srcAddr, dstAddr, segment)];
    }
    if (this.liveConnectionCount() >= this.config.maxConnections) {
      this.count('syn-refused-max-connections');
      return [this.resetFor(srcAddr, dstAddr, segment)];
    }
    const endpoints = endpointsOf(srcAddr, dstAddr, segment);
    if (this.halfOpen >= this.config.maxHalfOpen) {
      if (this.config.synCookieSecret === undefined) {
        this.count('syn-dropped-half-open-full');
        return [];
      }
      return [this.cookieSynAck(this.config.synCookieSecret, endpoints, segment, now)];
    }
    const iss = initialSequenceNumber(this.config.isnSecret, endpoints, now);
    this.count('syns-received');
    return this.open(endpoints, segment, iss, now, (conn) => conn.start(now));
  }

  /** Creates a half-open entry and runs its first event. */
  private open(
    endpoints: Endpoints,
    syn: TcpSegment,
    iss: number,
    now: number,
    first: (conn: Connection) => TcpAction[],
  ): TcpAction[] {
    const conn = new Connection(this.context, this.nextId, endpoints, syn, iss, now);
    this.nextId += 1;
    this.byTuple.set(endpoints.localAddr, endpoints.localPort, endpoints.remoteAddr, endpoints.remotePort, conn);
    this.byId.set(conn.id, conn);
    this.halfOpen += 1;
    return this.step(conn, () => first(conn), true);
  }

  /** The half-open table is full: answer statelessly, the peer's MSS folded into our ISN (RFC 4987 3.6). */
  private cookieSynAck(secret: Uint8Array, endpoints: Endpoints, syn: TcpSegment, now: number): TcpAction {
    const mssIndex = cookieMssIndex(syn.options.mss ?? DEFAULT_PEER_MSS);
    this.count('syn-cookies-sent');
    this.lastCookieSentAt = now;
    return {
      kind: 'transmit',
      localAddr: endpoints.localAddr,
      remoteAddr: endpoints.remoteAddr,
      hopLimit: this.config.defaultHopLimit,
      tokenResponse: false,
      segment: {
        srcPort: endpoints.localPort,
        dstPort: endpoints.remotePort,
        seq: encodeSynCookie(secret, endpoints, syn.seq, mssIndex, now),
        ack: seqAdd(syn.seq, 1),
        control: 'syn',
        push: false,
        window: this.config.receiveWindow,
        options: { mss: this.config.mssByLocalAddress?.get(endpoints.localAddr) ?? this.config.mss },
        payload: new Uint8Array(0),
      },
    };
  }

  /** An ACK for no connection may complete a cookie handshake; undefined when it does not. */
  private acceptCookie(srcAddr: number, dstAddr: number, segment: TcpSegment, now: number): TcpAction[] | undefined {
    const secret = this.config.synCookieSecret;
    if (secret === undefined || segment.control !== 'none') return undefined;
    if (now - this.lastCookieSentAt >= MAX_SYN_COOKIE_AGE_MINUTES * 60_000) return undefined;
    const endpoints = endpointsOf(srcAddr, dstAddr, segment);
    const peerIsn = seqAdd(segment.seq, -1);
    const iss = seqAdd(segment.ack as number, -1);
    const mss = checkSynCookie(secret, endpoints, peerIsn, iss, now);
    if (mss === undefined) {
      this.count('syn-cookies-rejected');
      return undefined;
    }
    this.count('syn-cookies-accepted');
    // The SYN as the cookie remembers it; the ACK then completes the handshake like any other.
    const syn: TcpSegment = {
      ...segment,
      seq: peerIsn,
      ack: undefined,
      control: 'syn',
      options: { mss },
      payload: new Uint8Array(0),
    };
    return this.open(endpoints, syn, iss, now, (conn) => conn.onSegment(segment, now));
  }

  /** RFC 9293 3.10.7.1: <SEQ=SEG.ACK><CTL=RST> if the segment had an ACK, else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
  private resetFor(srcAddr: number, dstAddr: number, segment: TcpSegment): TcpAction {
    const hasAck = segment.ack !== undefined;
    return {
      kind: 'transmit',
      localAddr: dstAddr >>> 0,
      remoteAddr: srcAddr >>> 0,
      hopLimit: this.config.defaultHopLimit,
      tokenResponse: false,
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
    const heldBefore = conn.bufferedBytes + conn.reassemblyBytes;
    const actions = event();
    this.buffered += conn.bufferedBytes + conn.reassemblyBytes - heldBefore;
    if (wasHalfOpen && conn.state !== 'syn-received') this.halfOpen -= 1;
    if (conn.state === 'closed') {
      this.forget(conn);
      return actions;
    }
    if (conn.state === 'time-wait') {
      this.enterTimeWait(conn);
      return actions;
    }
    const deadline = conn.deadline();
    if (deadline !== undefined && (conn.heapDeadline === undefined || deadline < conn.heapDeadline)) {
      this.heap.push(deadline, conn.id);
      conn.heapDeadline = deadline;
    }
    return actions;
  }

  /**
   * The connection is replaced by a compact TIME-WAIT record and becomes garbage. A server that closes first
   * keeps every closed connection for 2*MSL: at thousands of connections a second that is more than any table
   * should hold. Past maxTimeWait the oldest TIME-WAIT entry goes (RFC 6191 and Linux's tcp_max_tw_buckets
   * accept the same trade: a late duplicate may then meet a reused tuple).
   */
  private enterTimeWait(conn: Connection): void {
    const { endpoints, sndNxt, rcvNxt } = conn;
    const deadline = conn.timeWaitDeadline as number;
    this.remove(conn);
    if (this.timeWait.size >= this.config.maxTimeWait) {
      this.count('time-wait-evicted');
      const oldest = this.timeWait.oldest();
      if (oldest === undefined) return; // maxTimeWait 0: no TIME-WAIT is kept at all
      this.removeTimeWait(oldest);
    }
    const slot = this.timeWait.add(endpoints, sndNxt, rcvNxt, deadline);
    this.byTuple.set(endpoints.localAddr, endpoints.localPort, endpoints.remoteAddr, endpoints.remotePort, slot);
  }

  private removeTimeWait(slot: number): void {
    const timeWait = this.timeWait;
    this.byTuple.delete(
      timeWait.localAddrOf(slot),
      timeWait.localPortOf(slot),
      timeWait.remoteAddrOf(slot),
      timeWait.remotePortOf(slot),
    );
    timeWait.remove(slot);
  }

  private remove(conn: Connection): void {
    this.buffered -= conn.bufferedBytes + conn.reassemblyBytes;
    conn.releaseBuffers();
    if (conn.state === 'syn-received') this.halfOpen -= 1;
    conn.state = 'closed';
    this.forget(conn);
  }

  private forget(conn: Connection): void {
    const { localAddr, localPort, remoteAddr, remotePort } = conn.endpoints;
    this.byTuple.delete(localAddr, localPort, remoteAddr, remotePort);
    this.byId.delete(conn.id);
  }

  private count(name: string): void {
    this.counts[name] = (this.counts[name] ?? 0) + 1;
  }
}

function endpointsOf(srcAddr: number, dstAddr: number, segment: TcpSegment): Endpoints {
  return {
    localAddr: dstAddr >>> 0,
    localPort: segment.dstPort,
    remoteAddr: srcAddr >>> 0,
    remotePort: segment.srcPort,
  };
}

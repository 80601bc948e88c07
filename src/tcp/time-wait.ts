// TIME-WAIT as a compact record, like Linux's inet_timewait_sock. A server that closes first holds every
// closed connection for 2*MSL; at thousands of connections a second a whole Connection each (estimators,
// timers, boxed numbers) is megabytes. What RFC 9293 3.10.7.4 still needs in TIME-WAIT is the 4-tuple, SND.NXT,
// RCV.NXT and the deadline: here they live in parallel typed arrays indexed by slot (no object and no boxed
// number per entry), and a segment for the tuple is decided by a pure function of RCV.NXT.
import type { TcpSegment } from '../wire/tcp-segment.ts';
import { segmentLength } from './connection.ts';
import { seqAdd, seqGt, seqInWindow } from './seq-number.ts';
import type { Endpoints, TcpAction } from './types.ts';

/** What a segment for a TIME-WAIT tuple does: the counter it is counted under, the entry's fate, and whether
 * it is answered with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. */
interface TimeWaitVerdict {
  readonly counter:
    | 'time-wait-reused'
    | 'resets-received'
    | 'challenge-acks'
    | 'rst-dropped-out-of-window'
    | 'time-wait-fin-retransmitted'
    | 'segments-dropped-time-wait';
  /** keep; restart 2*MSL; close (the entry goes); reuse (it goes and the SYN opens a new connection). */
  readonly entry: 'keep' | 'restart' | 'close' | 'reuse';
  readonly ack: boolean;
}

const REUSE: TimeWaitVerdict = { counter: 'time-wait-reused', entry: 'reuse', ack: false };
const RESET: TimeWaitVerdict = { counter: 'resets-received', entry: 'close', ack: false };
const CHALLENGE: TimeWaitVerdict = { counter: 'challenge-acks', entry: 'keep', ack: true };
const RESET_OUT_OF_WINDOW: TimeWaitVerdict = { counter: 'rst-dropped-out-of-window', entry: 'keep', ack: false };
const FIN_RETRANSMITTED: TimeWaitVerdict = { counter: 'time-wait-fin-retransmitted', entry: 'restart', ack: true };
const DROPPED: TimeWaitVerdict = { counter: 'segments-dropped-time-wait', entry: 'keep', ack: true };

/**
 * RFC 9293 3.10.7.4 in TIME-WAIT, with RFC 5961 for RST and SYN: a new SYN above RCV.NXT may reuse the tuple
 * (RFC 1122 4.2.2.13); only an exact RST closes, one inside the window earns a challenge ACK; any other SYN
 * earns a challenge ACK; a retransmitted FIN is acknowledged and restarts 2*MSL; everything else is
 * acknowledged and dropped.
 */
export function timeWaitVerdict(rcvNxt: number, receiveWindow: number, segment: TcpSegment): TimeWaitVerdict {
  const { control, seq } = segment;
  if (control === 'syn' && segment.ack === undefined && seqGt(seq, rcvNxt)) return REUSE;
  if (control === 'rst') {
    if (seq === rcvNxt) return RESET;
    return seqInWindow(seq, rcvNxt, receiveWindow) ? CHALLENGE : RESET_OUT_OF_WINDOW;
  }
  if (control === 'syn') return CHALLENGE;
  if (control === 'fin' && seqAdd(seq, segmentLength(segment)) === rcvNxt) return FIN_RETRANSMITTED;
  return DROPPED;
}

const NONE = -1;
const FIRST_CAPACITY = 64;
const EMPTY = new Uint8Array(0);

/** A doubly linked list threaded through slot numbers. */
class SlotList {
  head = NONE;
  tail = NONE;
  prev = new Int32Array(0);
  next = new Int32Array(0);

  grow(capacity: number): void {
    this.prev = grown(this.prev, capacity);
    this.next = grown(this.next, capacity);
  }

  append(slot: number): void {
    this.insertAfter(this.tail, slot);
  }

  /** Links `slot` after `after` (NONE: at the head). */
  insertAfter(after: number, slot: number): void {
    const next = after === NONE ? this.head : (this.next[after] as number);
    this.prev[slot] = after;
    this.next[slot] = next;
    if (after === NONE) this.head = slot;
    else this.next[after] = slot;
    if (next === NONE) this.tail = slot;
    else this.prev[next] = slot;
  }

  unlink(slot: number): void {
    const prev = this.prev[slot] as number;
    const next = this.next[slot] as number;
    if (prev === NONE) this.head = next;
    else this.next[prev] = next;
    if (next === NONE) this.tail = prev;
    else this.prev[next] = prev;
  }
}

function grown<T extends Int32Array | Uint32Array | Float64Array>(array: T, capacity: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(capacity);
  bigger.set(array);
  return bigger;
}

/**
 * The TIME-WAIT entries of one stack. Two orders are kept: by age (entering TIME-WAIT), for eviction of the
 * oldest, and by deadline, for expiry without a heap entry each. The arrays grow by doubling as entries come.
 */
export class TimeWaitTable {
  size = 0;
  private capacity = 0;
  private localAddr = new Uint32Array(0);
  private remoteAddr = new Uint32Array(0);
  /** Local port in the high 16 bits, remote port in the low 16. */
  private ports = new Uint32Array(0);
  private sndNxt = new Uint32Array(0);
  private rcvNxt = new Uint32Array(0);
  private deadline = new Float64Array(0);
  private readonly byAge = new SlotList();
  private readonly byDeadline = new SlotList();
  /** Free slots, chained through byAge.next. */
  private free = NONE;

  /** A slot holding the entry; the caller files it by tuple. */
  add(endpoints: Endpoints, sndNxt: number, rcvNxt: number, deadline: number): number {
    if (this.free === NONE) this.grow();
    const slot = this.free;
    this.free = this.byAge.next[slot] as number;
    this.localAddr[slot] = endpoints.localAddr;
    this.remoteAddr[slot] = endpoints.remoteAddr;
    this.ports[slot] = ((endpoints.localPort << 16) | endpoints.remotePort) >>> 0;
    this.sndNxt[slot] = sndNxt;
    this.rcvNxt[slot] = rcvNxt;
    this.deadline[slot] = deadline;
    this.byAge.append(slot);
    this.fileByDeadline(slot);
    this.size += 1;
    return slot;
  }

  remove(slot: number): void {
    this.byAge.unlink(slot);
    this.byDeadline.unlink(slot);
    this.byAge.next[slot] = this.free;
    this.free = slot;
    this.size -= 1;
  }

  /** A retransmitted FIN: the entry stays 2*MSL from now. */
  restart(slot: number, deadline: number): void {
    this.byDeadline.unlink(slot);
    this.deadline[slot] = deadline;
    this.fileByDeadline(slot);
  }

  /** The entry that entered TIME-WAIT first. */
  oldest(): number | undefined {
    const first = this.byAge.head;
    return first === NONE ? undefined : first;
  }

  /** The earliest deadline, or undefined when the table is empty. */
  nextDeadline(): number | undefined {
    const first = this.byDeadline.head;
    return first === NONE ? undefined : this.deadline[first];
  }

  /** An entry whose 2*MSL has passed at `now`. */
  expired(now: number): number | undefined {
    const first = this.byDeadline.head;
    return first !== NONE && (this.deadline[first] as number) <= now ? first : undefined;
  }

  rcvNxtOf(slot: number): number {
    return this.rcvNxt[slot] as number;
  }

  localAddrOf(slot: number): number {
    return this.localAddr[slot] as number;
  }

  localPortOf(slot: number): number {
    return (this.ports[slot] as number) >>> 16;
  }

  remoteAddrOf(slot: number): number {
    return this.remoteAddr[slot] as number;
  }

  remotePortOf(slot: number): number {
    return (this.ports[slot] as number) & 0xffff;
  }

  /** <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, as the connection would have sent it. */
  acknowledgment(slot: number, window: number, hopLimit: number): TcpAction {
    return {
      kind: 'transmit',
      localAddr: this.localAddrOf(slot),
      remoteAddr: this.remoteAddrOf(slot),
      hopLimit,
      tokenResponse: false,
      segment: {
        srcPort: this.localPortOf(slot),
        dstPort: this.remotePortOf(slot),
        seq: this.sndNxt[slot] as number,
        ack: this.rcvNxt[slot] as number,
        control: 'none',
        push: false,
        window,
        options: {},
        payload: EMPTY,
      },
    };
  }

  /** Keeps byDeadline sorted: from the tail, which is where a monotonic clock's deadline belongs. */
  private fileByDeadline(slot: number): void {
    const deadline = this.deadline[slot] as number;
    let after = this.byDeadline.tail;
    while (after !== NONE && (this.deadline[after] as number) > deadline) after = this.byDeadline.prev[after] as number;
    this.byDeadline.insertAfter(after, slot);
  }

  private grow(): void {
    const capacity = this.capacity === 0 ? FIRST_CAPACITY : this.capacity * 2;
    this.localAddr = grown(this.localAddr, capacity);
    this.remoteAddr = grown(this.remoteAddr, capacity);
    this.ports = grown(this.ports, capacity);
    this.sndNxt = grown(this.sndNxt, capacity);
    this.rcvNxt = grown(this.rcvNxt, capacity);
    this.deadline = grown(this.deadline, capacity);
    this.byAge.grow(capacity);
    this.byDeadline.grow(capacity);
    // The new slots, lowest first, become the free list.
    for (let slot = capacity - 1; slot >= this.capacity; slot -= 1) {
      this.byAge.next[slot] = this.free;
      this.free = slot;
    }
    this.capacity = capacity;
  }
}

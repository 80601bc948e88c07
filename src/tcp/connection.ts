// One passive-open TCP connection (RFC 9293 3.10): per-event step functions that mutate the state and append
// the actions the stack must carry out. Timers are deadlines in the caller's clock, never armed here.
import type { TcpSegment } from '../wire/tcp-segment.ts';
import { CongestionControl } from './congestion.ts';
import { Reassembly } from './reassembly.ts';
import { RtoEstimator } from './rto.ts';
import { SendBuffer, type SendRange } from './send-buffer.ts';
import { seqAdd, seqGe, seqGt, seqInWindow, seqLt, seqMax, seqSub } from './seq-number.ts';
import type {
  BytesTag,
  CloseReason,
  ConnectionId,
  Endpoints,
  SendResult,
  SendTag,
  TcpAction,
  TcpConfig,
} from './types.ts';

type TcpState =
  | 'syn-received'
  | 'established'
  | 'close-wait'
  | 'last-ack'
  | 'fin-wait-1'
  | 'fin-wait-2'
  | 'closing'
  | 'time-wait'
  | 'closed';

/** RFC 9293 3.7.1: the MSS to assume when the peer's SYN carries no MSS option. */
export const DEFAULT_PEER_MSS = 536;
/** Linux floors the peer's MSS (tcp_min_snd_mss = 48) so a tiny MSS cannot multiply our segment count; so do we. */
const MIN_PEER_MSS = 48;
/** RFC 5681 3.2: the third duplicate ACK triggers fast retransmit. */
const DUPLICATE_ACK_THRESHOLD = 3;
/** RFC 5961 5.2: ACKs older than SND.UNA minus the largest window the peer could have seen are dropped. */
const MAX_UNSCALED_WINDOW = 0xffff;

/** What a connection needs from the table that owns it. */
/** One segment to put on the wire: where in the sequence space, what it carries and with which bytes' tag. */
interface OutgoingSegment {
  tag: BytesTag;
  seq: number;
  control: 'none' | 'fin' | 'rst';
  payload: Uint8Array;
  push: boolean;
  /** False for a reset of the form <SEQ=SEG.ACK><CTL=RST>, which carries no ACK (RFC 9293 3.10.7.4). */
  withAck?: boolean;
}

export interface ConnectionContext {
  readonly config: TcpConfig;
  /** The default hop limit, no token response: segments without application bytes, and untagged bytes. */
  readonly defaultTag: BytesTag;
  count(name: string): void;
  /** Asked when a handshake completes: false means the table is full. */
  mayEstablish(): boolean;
  /** Whether `bytes` more may be buffered within the budget shared by every connection. */
  mayBuffer(bytes: number): boolean;
  /** SYN-ACK retransmissions a half-open entry gets now: fewer while the half-open table is under pressure. */
  synAckRetryLimit(): number;
}

export class Connection {
  state: TcpState = 'syn-received';
  /** The 'closed' event was given to the application: it no longer hears about this connection. */
  detached = false;
  /** The deadline of this connection's live entry in the stack's heap, owned by the stack. */
  heapDeadline: number | undefined;

  // RFC 9293 3.3.1 send sequence variables; sndMax is the highest sequence number ever sent.
  readonly iss: number;
  sndUna: number;
  sndNxt: number;
  sndMax: number;
  sndWnd: number;
  sndWl1: number;
  sndWl2: number;
  // RFC 9293 3.3.1 receive sequence variables.
  readonly irs: number;
  rcvNxt: number;
  readonly rcvWnd: number;

  /** The MSS we advertise: smaller where the local address's headers are larger (IPv6). */
  private readonly ourMss: number;
  /** Our segment size: our own MSS capped by the peer's. */
  readonly effectiveMss: number;

  /** The shared empty buffer until the first send(): an idle connection owns none. */
  private sendBuffer: SendBuffer = SendBuffer.EMPTY;
  private finQueued = false;
  /** Created by the first out-of-order segment: most connections never need one. */
  private reassembly: Reassembly | undefined;
  private readonly rto: RtoEstimator;
  private readonly congestion: CongestionControl;
  /** The one segment being timed (RFC 6298 section 3); cleared by any retransmission (Karn). */
  private rttSample: { endSeq: number; sentAt: number } | undefined;
  /** NaN for a connection built from a SYN cookie: its SYN-ACK's send time is unknown, so no RTT sample. */
  private synAckSentAt = Number.NaN;
  /** Consecutive timeouts without progress (retransmissions, or unanswered window probes). */
  private retries = 0;
  private duplicateAcks = 0;
  /** RFC 6582 "recover": set while in fast recovery. */
  private recover: number | undefined;
  private unackedSegments = 0;
  private lastActivity: number;
  /** When SND.UNA last advanced, or queued bytes first waited for it: the send (user) timeout runs from here. */
  private sendProgressAt = 0;
  /** Set by the application (setApplicationDeadline); reported once as an 'application-deadline' action. */
  applicationDeadline: number | undefined;

  private rtxDeadline: number | undefined;
  private persistDeadline: number | undefined;
  private persistInterval = 0;
  private delayedAckDeadline: number | undefined;
  /** When 2*MSL ends, set on entering TIME-WAIT; the stack then replaces the connection by a compact record. */
  timeWaitDeadline: number | undefined;
  private finWait2Deadline: number | undefined;

  constructor(
    private readonly context: ConnectionContext,
    readonly id: ConnectionId,
    readonly endpoints: Endpoints,
    syn: TcpSegment,
    iss: number,
    now: number,
  ) {
    const config = context.config;
    this.iss = iss;
    this.sndUna = iss;
    this.sndNxt = seqAdd(iss, 1);
    this.sndMax = this.sndNxt;
    this.sndWnd = syn.window; // we never send wscale, so RFC 7323 2.2 says the peer's window is unscaled
    this.sndWl1 = syn.seq;
    this.sndWl2 = iss;
    this.irs = syn.seq;
    this.rcvNxt = seqAdd(syn.seq, 1);
    this.rcvWnd = Math.min(config.receiveWindow, MAX_UNSCALED_WINDOW);
    const peerMss = Math.max(syn.options.mss ?? DEFAULT_PEER_MSS, MIN_PEER_MSS);
    this.ourMss = config.mssByLocalAddress?.get(endpoints.localAddr) ?? config.mss;
    this.effectiveMss = Math.min(this.ourMss, peerMss);
    this.rto = new RtoEstimator(config.initialRtoMs, config.minRtoMs, config.maxRtoMs);
    this.congestion = new CongestionControl(this.effectiveMss);
    this.lastActivity = now;
  }

  // ---- queries ----

  get bufferedBytes(): number {
    return this.sendBuffer.length;
  }

  get reassemblyBytes(): number {
    return this.reassembly?.size ?? 0;
  }

  get reassemblySegments(): number {
    return this.reassembly?.count ?? 0;
  }

  /** Whether `seq` lies in what we sent and the peer has not acknowledged: [SND.UNA, SND.MAX). */
  sentUnacknowledged(seq: number): boolean {
    return this.state !== 'syn-received' && seqGe(seq, this.sndUna) && seqLt(seq, this.sndMax);
  }

  get congestionWindow(): number {
    return this.congestion.cwnd;
  }

  get slowStartThreshold(): number {
    return this.congestion.ssthresh;
  }

  get retransmissionTimeout(): number {
    return this.rto.rto;
  }

  /** Whether the application may still queue bytes. */
  get acceptsData(): boolean {
    return (this.state === 'established' || this.state === 'close-wait') && !this.finQueued;
  }

  /** Our FIN occupies the sequence number just past the queued data, and has been sent at least once. */
  private get finSent(): boolean {
    return this.finQueued && seqGt(this.sndMax, seqAdd(this.sndUna, this.sendBuffer.length));
  }

  /** Earliest time onTimers() has work, or undefined. */
  deadline(): number | undefined {
    // Called after every event: plain comparisons, no closure or array per call.
    let earliest = this.rtxDeadline;
    earliest = earlier(earliest, this.persistDeadline);
    earliest = earlier(earliest, this.delayedAckDeadline);
    earliest = earlier(earliest, this.finWait2Deadline);
    earliest = earlier(earliest, this.applicationDeadline);
    earliest = earlier(earliest, this.sendTimeoutDeadline());
    return earlier(earliest, this.idleDeadline());
  }

  /** Bytes waiting for the peer's ACK (or a FIN sent and unacknowledged) hold the connection at most this long. */
  private sendTimeoutDeadline(): number | undefined {
    if (this.state === 'syn-received' || this.state === 'closed') return undefined;
    if (this.sendBuffer.length === 0 && this.sndUna === this.sndMax) return undefined;
    return this.sendProgressAt + this.context.config.sendTimeoutMs;
  }

  private idleDeadline(): number | undefined {
    if (this.state !== 'established' && this.state !== 'close-wait') return undefined;
    return this.lastActivity + this.context.config.idleTimeoutMs;
  }

  // ---- events ----

  /** Answers the SYN that created this connection. */
  start(now: number): TcpAction[] {
    const out: TcpAction[] = [];
    this.sendSynAck(out, now);
    this.rtxDeadline = now + this.rto.rto;
    return out;
  }

  onSegment(segment: TcpSegment, now: number): TcpAction[] {
    const out: TcpAction[] = [];
    this.lastActivity = now;
    if (this.state === 'syn-received') this.onSegmentSynReceived(segment, out, now);
    else this.onSegmentSynchronized(segment, out, now);
    if (this.state !== 'closed') this.output(out, now);
    return out;
  }

  /**
   * Queues bytes tagged with what they are (their hop limit, undefined for the default, and whether they are a
   * token response); with `thenClose` our FIN follows them at once and rides on their last segment.
   */
  send(bytes: Uint8Array, tag: SendTag, now: number, thenClose = false): SendResult {
    const bytesTag = this.resolveTag(tag);
    if (!this.acceptsData) return { ok: false, reason: 'closing' };
    if (this.sendBuffer.length + bytes.length > this.context.config.maxSendBuffer) {
      this.context.count('send-refused-buffer-full');
      return { ok: false, reason: 'buffer-full' };
    }
    if (!this.context.mayBuffer(bytes.length)) {
      this.context.count('send-refused-global-budget');
      return { ok: false, reason: 'buffer-full' };
    }
    if (this.sendBuffer === SendBuffer.EMPTY) this.sendBuffer = new SendBuffer();
    if (this.sendBuffer.length === 0 && this.sndUna === this.sndMax) this.sendProgressAt = now;
    this.sendBuffer.push(bytes, bytesTag);
    const out: TcpAction[] = [];
    if (thenClose)
      this.beginClose(out, now); // beginClose runs output()
    else this.output(out, now);
    return { ok: true, actions: out };
  }

  close(now: number): TcpAction[] {
    const out: TcpAction[] = [];
    this.beginClose(out, now);
    return out;
  }

  /** Where "no hop limit given" becomes the default: here, in the TCP layer, and nowhere else. */
  private resolveTag(tag: SendTag): BytesTag {
    const defaultTag = this.context.defaultTag;
    const hopLimit = tag.hopLimit ?? defaultTag.hopLimit;
    if (!Number.isInteger(hopLimit) || hopLimit < 1 || hopLimit > 255)
      throw new RangeError(`hop limit ${hopLimit} is not 1..255`);
    const tokenResponse = tag.tokenResponse === true;
    return hopLimit === defaultTag.hopLimit && !tokenResponse ? defaultTag : { hopLimit, tokenResponse };
  }

  abort(now: number): TcpAction[] {
    const out: TcpAction[] = [];
    if (this.state === 'syn-received') {
      this.state = 'closed';
      return out;
    }
    this.context.count('connections-aborted');
    this.sendReset(out, now);
    this.finish(out, 'aborted');
    return out;
  }

  onTimers(now: number): TcpAction[] {
    const out: TcpAction[] = [];
    if (this.finWait2Deadline !== undefined && now >= this.finWait2Deadline) {
      this.context.count('fin-wait-2-timeouts');
      this.sendReset(out, now);
      this.finish(out, 'timeout');
      return out;
    }
    if (this.rtxDeadline !== undefined && now >= this.rtxDeadline) {
      this.onRetransmissionTimeout(out, now);
      if (this.state === 'closed') return out;
    }
    if (this.persistDeadline !== undefined && now >= this.persistDeadline) {
      this.onPersistTimeout(out, now);
      if (this.state === 'closed') return out;
    }
    if (this.delayedAckDeadline !== undefined && now >= this.delayedAckDeadline) {
      this.sendAck(out, now);
    }
    const sendTimeout = this.sendTimeoutDeadline();
    if (sendTimeout !== undefined && now >= sendTimeout) {
      this.context.count('connections-reset-send-timeout');
      this.sendReset(out, now);
      this.finish(out, 'send-timeout');
      return out;
    }
    if (this.applicationDeadline !== undefined && now >= this.applicationDeadline) {
      this.applicationDeadline = undefined;
      if (!this.detached) out.push({ kind: 'application-deadline', id: this.id });
    }
    const idle = this.idleDeadline();
    if (idle !== undefined && now >= idle) {
      this.context.count('connections-idle-closed');
      this.detach(out, 'idle');
      this.beginClose(out, now);
    }
    return out;
  }

  // ---- SYN-RECEIVED ----

  private onSegmentSynReceived(segment: TcpSegment, out: TcpAction[], now: number): void {
    if (segment.control === 'rst') {
      this.onReset(segment, out, now);
      return;
    }
    if (segment.control === 'syn') {
      // The stack replaces the entry when the ISN differs; the same ISN means our SYN-ACK was lost.
      this.context.count('duplicate-syns');
      this.sendSynAck(out, now);
      return;
    }
    if (!this.acceptable(segment.seq, segmentLength(segment))) {
      this.context.count('segments-dropped-out-of-window');
      this.sendAck(out, now);
      return;
    }
    if (segment.ack === undefined) {
      this.context.count('segments-dropped-no-ack');
      return;
    }
    if (segment.ack !== this.sndNxt) {
      // RFC 9293 3.10.7.4 fifth check, SYN-RECEIVED: an unacceptable ACK is answered with <SEQ=SEG.ACK><CTL=RST>.
      this.context.count('rst-sent-bad-handshake-ack');
      this.transmit(out, now, {
        tag: this.context.defaultTag,
        seq: segment.ack,
        control: 'rst',
        payload: EMPTY,
        push: false,
        withAck: false,
      });
      return;
    }
    if (!this.context.mayEstablish()) {
      this.context.count('handshake-refused-max-connections');
      this.transmit(out, now, {
        tag: this.context.defaultTag,
        seq: segment.ack,
        control: 'rst',
        payload: EMPTY,
        push: false,
        withAck: false,
      });
      this.state = 'closed';
      return;
    }
    // Karn: only an unretransmitted SYN-ACK of known send time
    if (this.retries === 0 && !Number.isNaN(this.synAckSentAt)) this.rto.sample(now - this.synAckSentAt);
    this.retries = 0;
    this.sndUna = segment.ack;
    this.sndWnd = segment.window;
    this.sndWl1 = segment.seq;
    this.sndWl2 = segment.ack;
    this.rtxDeadline = undefined;
    this.state = 'established';
    this.context.count('connections-established');
    out.push({ kind: 'accepted', id: this.id, endpoints: { ...this.endpoints } });
    this.processText(segment, out, now);
  }

  // ---- synchronized states ----

  private onSegmentSynchronized(segment: TcpSegment, out: TcpAction[], now: number): void {
    if (segment.control === 'rst') {
      this.onReset(segment, out, now);
      return;
    }
    if (segment.control === 'syn') {
      // RFC 5961 4.2: a SYN in a synchronized state, whatever its sequence number, gets a challenge ACK.
      this.context.count('challenge-acks');
      this.sendAck(out, now);
      return;
    }
    if (!this.acceptable(segment.seq, segmentLength(segment))) {
      this.context.count('segments-dropped-out-of-window');
      this.sendAck(out, now);
      return;
    }
    this.retries = this.rtxDeadline === undefined ? 0 : this.retries; // an answered window probe proves the peer alive
    if (segment.ack === undefined) {
      this.context.count('segments-dropped-no-ack');
      return;
    }
    if (!this.processAck(segment, out, now)) return;
    this.processText(segment, out, now);
  }

  /** RFC 9293 3.10.7.4 first check, with the four cases of segment length and window. */
  private acceptable(seq: number, length: number): boolean {
    if (length === 0) {
      return this.rcvWnd === 0 ? seq === this.rcvNxt : seqInWindow(seq, this.rcvNxt, this.rcvWnd);
    }
    if (this.rcvWnd === 0) return false;
    return seqInWindow(seq, this.rcvNxt, this.rcvWnd) || seqInWindow(seqAdd(seq, length - 1), this.rcvNxt, this.rcvWnd);
  }

  /** RFC 5961 3.2: only an exact RST closes; one merely inside the window earns a challenge ACK. */
  private onReset(segment: TcpSegment, out: TcpAction[], now: number): void {
    if (segment.seq === this.rcvNxt) {
      this.context.count('resets-received');
      if (this.state === 'syn-received') this.state = 'closed';
      else this.finish(out, 'reset-by-peer');
      return;
    }
    if (seqInWindow(segment.seq, this.rcvNxt, this.rcvWnd)) {
      this.context.count('challenge-acks');
      this.sendAck(out, now);
      return;
    }
    this.context.count('rst-dropped-out-of-window');
  }

  /** RFC 9293 3.10.7.4 fifth check. Returns false when the rest of the segment must be ignored. */
  private processAck(segment: TcpSegment, out: TcpAction[], now: number): boolean {
    const ack = segment.ack as number;
    if (seqGt(ack, this.sndMax)) {
      this.context.count('segments-dropped-ack-unsent');
      this.sendAck(out, now);
      return false;
    }
    if (seqSub(this.sndUna, ack) > MAX_UNSCALED_WINDOW) {
      this.context.count('segments-dropped-ack-too-old');
      this.sendAck(out, now);
      return false;
    }
    const windowBefore = this.sndWnd;
    if (seqGt(ack, this.sndUna)) {
      this.onNewAck(ack, out, now);
      if (this.state === 'closed' || this.state === 'time-wait') {
        this.updateWindow(segment);
        return this.state !== 'closed';
      }
    } else if (
      ack === this.sndUna &&
      segment.payload.length === 0 &&
      segment.control === 'none' &&
      segment.window === windowBefore &&
      this.sndMax !== this.sndUna
    ) {
      this.onDuplicateAck(out, now);
    }
    if (seqGe(ack, this.sndUna)) this.updateWindow(segment);
    return true;
  }

  /** RFC 9293 3.10.7.4: SND.WL1/SND.WL2 keep old segments from reopening a window that has since shrunk. */
  private updateWindow(segment: TcpSegment): void {
    const ack = segment.ack as number;
    if (seqLt(this.sndWl1, segment.seq) || (this.sndWl1 === segment.seq && seqGe(ack, this.sndWl2))) {
      this.sndWnd = segment.window;
      this.sndWl1 = segment.seq;
      this.sndWl2 = ack;
      if (this.sndWnd > 0 && this.persistDeadline !== undefined) {
        this.persistDeadline = undefined;
        this.retries = 0;
      }
    }
  }

  private onNewAck(ack: number, out: TcpAction[], now: number): void {
    const acked = seqSub(ack, this.sndUna);
    const finAcked = this.finSent && acked > this.sendBuffer.length;
    this.sendBuffer.consume(Math.min(acked, this.sendBuffer.length));
    this.sndUna = ack;
    this.sendProgressAt = now;
    if (seqLt(this.sndNxt, ack)) this.sndNxt = ack; // after a timeout rewound SND.NXT, the peer had more than we knew
    if (this.rttSample && seqGe(ack, this.rttSample.endSeq)) {
      this.rto.sample(now - this.rttSample.sentAt);
      this.rttSample = undefined;
    }
    this.retries = 0;
    this.duplicateAcks = 0;
    if (this.recover !== undefined) {
      if (seqGe(ack, this.recover)) {
        this.congestion.exitFastRecovery();
        this.recover = undefined;
      } else {
        // RFC 6582 3.2 step 3: a partial ACK means the next segment was lost too.
        this.congestion.onPartialAck(acked);
        this.retransmitFirst(out, now);
      }
    } else {
      this.congestion.onAck(acked);
    }
    this.rtxDeadline = this.sndUna === this.sndMax ? undefined : now + this.rto.rto; // RFC 6298 (5.2)/(5.3)
    if (!finAcked) return;
    switch (this.state) {
      case 'fin-wait-1':
        this.state = 'fin-wait-2';
        this.finWait2Deadline = now + this.context.config.finWait2TimeoutMs;
        break;
      case 'closing':
        this.enterTimeWait(out, now);
        break;
      case 'last-ack':
        this.finish(out, 'normal');
        break;
      default:
        break;
    }
  }

  private onDuplicateAck(out: TcpAction[], now: number): void {
    this.duplicateAcks += 1;
    this.context.count('duplicate-acks-received');
    if (this.recover !== undefined) {
      this.congestion.inflate(); // RFC 5681 3.2 step 4
      return;
    }
    if (this.duplicateAcks !== DUPLICATE_ACK_THRESHOLD) return;
    this.context.count('fast-retransmissions');
    this.congestion.enterFastRecovery(seqSub(this.sndMax, this.sndUna));
    this.recover = this.sndMax;
    this.retransmitFirst(out, now);
  }

  /** RFC 9293 3.10.7.4 seventh and eighth checks: segment text and FIN. */
  private processText(segment: TcpSegment, out: TcpAction[], now: number): void {
    let seq = segment.seq;
    let payload = segment.payload;
    let fin = segment.control === 'fin';
    if (payload.length === 0 && !fin) return;
    if (this.state !== 'established' && this.state !== 'fin-wait-1' && this.state !== 'fin-wait-2') {
      // The peer's FIN was already consumed: nothing more can legitimately arrive. Acknowledge and discard.
      this.context.count('segments-dropped-after-fin');
      this.sendAck(out, now);
      return;
    }
    const lead = seqSub(this.rcvNxt, seq);
    if (lead > 0) {
      if (lead > payload.length) fin = false; // that FIN was consumed already
      payload = payload.subarray(Math.min(lead, payload.length));
      seq = this.rcvNxt;
      this.context.count('segments-trimmed-duplicate');
    }
    const room = this.rcvWnd - seqSub(seq, this.rcvNxt);
    if (payload.length > room) {
      payload = payload.subarray(0, Math.max(0, room));
      fin = false; // the FIN lies beyond the window
      this.context.count('segments-trimmed-to-window');
    }
    if (payload.length === 0 && !fin) {
      this.sendAck(out, now);
      return;
    }
    if (seq !== this.rcvNxt) {
      // Out of order: hold the bytes (the FIN will be retransmitted) and send a duplicate ACK at once (RFC 5681 4.2).
      const config = this.context.config;
      this.reassembly ??= new Reassembly(
        Math.min(config.maxReassemblyBytes, this.rcvWnd),
        config.maxReassemblySegments,
      );
      const prunedBefore = this.reassembly.pruned;
      const outcome = this.reassembly.insert(this.rcvNxt, seq, payload, this.context.mayBuffer);
      for (let i = prunedBefore; i < this.reassembly.pruned; i += 1) this.context.count('reassembly-ranges-pruned');
      if (outcome === 'held') this.context.count('segments-out-of-order');
      else if (outcome === 'full') this.context.count('segments-dropped-reassembly-full');
      else this.context.count('segments-out-of-order-duplicate');
      this.sendAck(out, now);
      return;
    }
    let filledGap = false;
    if (payload.length > 0) {
      this.deliver(out, payload);
      if (fin) this.reassembly = undefined; // bytes past the FIN cannot exist
      for (let more = this.reassembly?.take(this.rcvNxt); more; more = this.reassembly?.take(this.rcvNxt)) {
        this.deliver(out, more);
        filledGap = true;
      }
    }
    if (fin) {
      this.rcvNxt = seqAdd(this.rcvNxt, 1);
      if (!this.detached) out.push({ kind: 'peer-closed', id: this.id });
      this.context.count('fins-received');
      if (this.state === 'established') this.state = 'close-wait';
      else if (this.state === 'fin-wait-1') this.state = 'closing';
      else this.enterTimeWait(out, now);
      this.sendAck(out, now);
      return;
    }
    this.unackedSegments += 1;
    // RFC 5681 4.2: ACK at once when a gap fills, while holding out-of-order data, or on every second segment.
    if (filledGap || (this.reassembly !== undefined && !this.reassembly.isEmpty) || this.unackedSegments >= 2) {
      this.sendAck(out, now);
    } else if (this.delayedAckDeadline === undefined) {
      this.delayedAckDeadline = now + this.context.config.delayedAckMs;
    }
  }

  private deliver(out: TcpAction[], bytes: Uint8Array): void {
    this.rcvNxt = seqAdd(this.rcvNxt, bytes.length);
    if (this.detached) this.context.count('bytes-discarded-detached');
    else out.push({ kind: 'data', id: this.id, bytes }); // a view: see TcpAction 'data'
  }

  // ---- closing ----

  private beginClose(out: TcpAction[], now: number): void {
    if (this.state === 'established') this.state = 'fin-wait-1';
    else if (this.state === 'close-wait') this.state = 'last-ack';
    else return;
    this.finQueued = true;
    this.output(out, now);
  }

  private enterTimeWait(out: TcpAction[], now: number): void {
    this.state = 'time-wait';
    this.timeWaitDeadline = now + this.context.config.timeWaitMs;
    this.clearTransferTimers();
    this.detach(out, 'normal');
  }

  /** Drops held bytes when the table removes this connection without an event (eviction, replacement, TIME-WAIT). */
  releaseBuffers(): void {
    this.reassembly = undefined;
    this.sendBuffer = SendBuffer.EMPTY;
  }

  /** The connection is gone: tell the application once, release everything. */
  private finish(out: TcpAction[], reason: CloseReason): void {
    this.detach(out, reason);
    this.state = 'closed';
    this.clearTransferTimers();
    this.reassembly = undefined;
    this.sendBuffer = SendBuffer.EMPTY;
  }

  private detach(out: TcpAction[], reason: CloseReason): void {
    if (this.detached) return;
    this.detached = true;
    out.push({ kind: 'closed', id: this.id, reason });
  }

  private clearTransferTimers(): void {
    this.rtxDeadline = undefined;
    this.persistDeadline = undefined;
    this.delayedAckDeadline = undefined;
    this.finWait2Deadline = undefined;
    this.applicationDeadline = undefined;
  }

  // ---- timers ----

  private onRetransmissionTimeout(out: TcpAction[], now: number): void {
    this.rtxDeadline = undefined;
    this.retries += 1;
    const config = this.context.config;
    if (this.state === 'syn-received') {
      if (this.retries > this.context.synAckRetryLimit()) {
        this.context.count('syn-received-timed-out');
        this.state = 'closed';
        return;
      }
      this.context.count('syn-ack-retransmissions');
      this.rto.backoff();
      this.sendSynAck(out, now);
      this.rtxDeadline = now + this.rto.rto;
      return;
    }
    if (this.retries > config.maxRetransmissions) {
      this.context.count('connections-timed-out');
      this.sendReset(out, now);
      this.finish(out, 'timeout');
      return;
    }
    if (this.sndWnd === 0 && !this.finSent) {
      // The peer closed its window on data in flight: probe it instead of resending into a closed window.
      this.retries -= 1;
      this.sndNxt = this.sndUna;
      this.rttSample = undefined;
      this.persistInterval = this.rto.rto;
      this.persistDeadline = now; // onTimers probes right after this returns
      return;
    }
    this.context.count('retransmissions');
    this.congestion.onRetransmissionTimeout(seqSub(this.sndMax, this.sndUna));
    this.recover = undefined;
    this.duplicateAcks = 0;
    this.rto.backoff(); // RFC 6298 (5.5)
    this.sndNxt = this.sndUna; // go back N: the rest follows as ACKs reopen the congestion window
    this.retransmitFirst(out, now);
  }

  private armPersist(now: number): void {
    if (this.persistDeadline !== undefined) return;
    this.persistInterval = this.rto.rto;
    this.persistDeadline = now + this.persistInterval;
  }

  private onPersistTimeout(out: TcpAction[], now: number): void {
    this.persistDeadline = undefined;
    if (this.sndWnd > 0 || this.sendBuffer.length === 0) return;
    this.retries += 1;
    if (this.retries > this.context.config.maxRetransmissions) {
      this.context.count('connections-timed-out');
      this.sendReset(out, now);
      this.finish(out, 'timeout');
      return;
    }
    // A probe without data (seq = SND.UNA − 1) makes the peer restate its window without carrying our bytes' tag.
    this.context.count('window-probes');
    this.transmit(out, now, {
      tag: this.context.defaultTag,
      seq: seqAdd(this.sndUna, -1),
      control: 'none',
      payload: EMPTY,
      push: false,
    });
    this.persistInterval = Math.min(this.persistInterval * 2, this.context.config.maxRtoMs);
    this.persistDeadline = now + this.persistInterval;
  }

  // ---- output ----

  /** Sends what the peer's window and the congestion window allow, then a FIN if one is due. */
  private output(out: TcpAction[], now: number): void {
    if (this.state === 'syn-received' || this.state === 'closed' || this.state === 'time-wait') return;
    if (this.state === 'fin-wait-2') return;
    for (;;) {
      const offset = seqSub(this.sndNxt, this.sndUna);
      const available = this.sendBuffer.length - offset;
      if (available > 0) {
        const usable = Math.min(this.sndWnd, this.congestion.cwnd) - offset;
        if (usable <= 0) {
          if (this.sndWnd === 0 && offset === 0) this.armPersist(now);
          return;
        }
        const wanted = Math.min(available, this.effectiveMss);
        const length = Math.min(wanted, usable);
        if (length < wanted && offset > 0) return; // sender SWS avoidance (RFC 9293 3.8.6.2.1): wait for the ACK
        const range = this.sendBuffer.peek(offset, length) as SendRange;
        this.sendData(out, now, this.sndNxt, offset, range);
        continue;
      }
      if (this.finQueued && offset === this.sendBuffer.length) {
        this.sendSegment(out, now, {
          tag: this.context.defaultTag,
          seq: this.sndNxt,
          control: 'fin',
          payload: EMPTY,
          push: false,
        });
      }
      return;
    }
  }

  /** Resends the segment at SND.UNA regardless of windows (after a timeout or for fast retransmit). */
  private retransmitFirst(out: TcpAction[], now: number): void {
    if (this.sendBuffer.length > 0) {
      const range = this.sendBuffer.peek(0, this.effectiveMss) as SendRange;
      this.sendData(out, now, this.sndUna, 0, range);
    } else if (this.finSent) {
      this.sendSegment(out, now, {
        tag: this.context.defaultTag,
        seq: this.sndUna,
        control: 'fin',
        payload: EMPTY,
        push: false,
      });
    }
  }

  /** One data segment; a FIN rides along when these are the last queued bytes. */
  private sendData(out: TcpAction[], now: number, seq: number, offset: number, range: SendRange): void {
    const last = offset + range.bytes.length === this.sendBuffer.length;
    const control = last && this.finQueued ? 'fin' : 'none';
    this.sendSegment(out, now, { tag: range.tag, seq, control, payload: range.bytes, push: last });
  }

  private sendSegment(out: TcpAction[], now: number, outgoing: OutgoingSegment & { control: 'none' | 'fin' }): void {
    const { seq, control, payload } = outgoing;
    const end = seqAdd(seq, payload.length + (control === 'fin' ? 1 : 0));
    if (this.sndUna === this.sndMax) this.sendProgressAt = now; // the first byte to wait for an ACK
    if (seqLt(seq, this.sndMax)) {
      this.context.count('retransmitted-segments');
      this.rttSample = undefined; // Karn's rule: an ACK could now answer either copy
    } else if (this.rttSample === undefined) {
      this.rttSample = { endSeq: end, sentAt: now };
    }
    this.transmit(out, now, outgoing);
    this.sndNxt = seqMax(this.sndNxt, end);
    this.sndMax = seqMax(this.sndMax, end);
    if (this.rtxDeadline === undefined) this.rtxDeadline = now + this.rto.rto; // RFC 6298 (5.1)
  }

  private sendSynAck(out: TcpAction[], now: number): void {
    this.synAckSentAt = now;
    out.push({
      kind: 'transmit',
      localAddr: this.endpoints.localAddr,
      remoteAddr: this.endpoints.remoteAddr,
      hopLimit: this.context.defaultTag.hopLimit,
      tokenResponse: false,
      segment: {
        srcPort: this.endpoints.localPort,
        dstPort: this.endpoints.remotePort,
        seq: this.iss,
        ack: this.rcvNxt,
        control: 'syn',
        push: false,
        window: this.rcvWnd,
        options: { mss: this.ourMss },
        payload: EMPTY,
      },
    });
    this.lastActivity = now;
  }

  private sendAck(out: TcpAction[], now: number): void {
    this.transmit(out, now, {
      tag: this.context.defaultTag,
      seq: this.sndNxt,
      control: 'none',
      payload: EMPTY,
      push: false,
    });
  }

  /** RFC 9293 3.10.7.4: abort and timeouts send <SEQ=SND.NXT><CTL=RST>; SND.MAX is the peer's likeliest RCV.NXT. */
  private sendReset(out: TcpAction[], now: number): void {
    this.transmit(out, now, {
      tag: this.context.defaultTag,
      seq: this.sndMax,
      control: 'rst',
      payload: EMPTY,
      push: false,
    });
  }

  private transmit(out: TcpAction[], now: number, outgoing: OutgoingSegment): void {
    const { tag, seq, control, payload, push, withAck = true } = outgoing;
    out.push({
      kind: 'transmit',
      localAddr: this.endpoints.localAddr,
      remoteAddr: this.endpoints.remoteAddr,
      hopLimit: tag.hopLimit,
      tokenResponse: tag.tokenResponse,
      segment: {
        srcPort: this.endpoints.localPort,
        dstPort: this.endpoints.remotePort,
        seq,
        ack: withAck ? this.rcvNxt : undefined,
        control,
        push,
        window: this.rcvWnd,
        options: {},
        payload,
      },
    });
    this.lastActivity = now;
    if (withAck) {
      this.delayedAckDeadline = undefined; // the ACK rode on this segment
      this.unackedSegments = 0;
    }
  }
}

const EMPTY = new Uint8Array(0);

function earlier(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b !== undefined && b < a ? b : a;
}

/** SEG.LEN: payload octets plus one for SYN or FIN. */
export function segmentLength(segment: TcpSegment): number {
  return segment.payload.length + (segment.control === 'syn' || segment.control === 'fin' ? 1 : 0);
}

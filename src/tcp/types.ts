// The public vocabulary of the TCP layer: configuration, identifiers and the actions the stack asks for.
import type { TcpSegment } from '../wire/tcp-segment.ts';

export interface TcpConfig {
  /** SYNs to other ports are answered with RST (RFC 9293 3.10.7.1) and counted. */
  listenPorts: readonly number[];
  /** Our MSS option on the SYN-ACK and the cap on every segment we send. */
  mss: number;
  /** A different MSS for connections to some local addresses, e.g. an IPv6 service (40-byte IP header). */
  mssByLocalAddress?: ReadonlyMap<number, number>;
  /** Bytes we advertise, at most 65535: we never offer window scaling, so the peer's window is unscaled too. */
  receiveWindow: number;
  /** Connections past the handshake (established and closing); further SYNs are refused with RST. */
  maxConnections: number;
  /** SYN-RECEIVED entries; past it SYNs are answered with SYN cookies (or dropped without a cookie secret). */
  maxHalfOpen: number;
  /** RFC 4987 3.6 secret for stateless SYN cookies once the half-open table is full; injected by the edge. */
  synCookieSecret?: Uint8Array;
  /** SYN-ACK retransmissions of a half-open entry (Linux tcp_synack_retries); 1 while the table is half full. */
  maxSynAckRetransmissions: number;
  /** Bytes queued and unacknowledged per connection; send() past it is refused. */
  maxSendBuffer: number;
  /** Out-of-order bytes held per connection. */
  maxReassemblyBytes: number;
  /** Out-of-order segments held per connection; past it the ones furthest from RCV.NXT are pruned. */
  maxReassemblySegments: number;
  /** Send and out-of-order bytes held across all connections: past it send() is refused, segments dropped. */
  maxBufferedBytes: number;
  /**
   * Queued bytes that the peer leaves unacknowledged this long (zero window or silence) → RST, like Linux's
   * TCP_USER_TIMEOUT (RFC 5482): a peer that answers window probes but never reads cannot pin its buffer.
   */
  sendTimeoutMs: number;
  /** No segment in or out for this long in ESTABLISHED/CLOSE-WAIT → graceful close. */
  idleTimeoutMs: number;
  /** 2*MSL spent in TIME-WAIT. */
  timeWaitMs: number;
  /** TIME-WAIT entries kept (not counted in maxConnections); past it the oldest is dropped early. */
  maxTimeWait: number;
  /** FIN-WAIT-2 without the peer's FIN for this long → the connection is dropped. */
  finWait2TimeoutMs: number;
  initialRtoMs: number;
  minRtoMs: number;
  maxRtoMs: number;
  /** Retransmissions of one segment (or of the SYN-ACK) before giving up. */
  maxRetransmissions: number;
  /** How long an ACK for in-order data may wait for a reply to ride on. */
  delayedAckMs: number;
  /**
   * IP TTL / Hop Limit of everything that carries no application bytes (SYN-ACK, pure ACK, RST, window probe,
   * bare FIN) and of bytes sent without one of their own. The only place the default hop limit is stored.
   */
  defaultHopLimit: number;
  /** RFC 6528 secret for the ISN hash. */
  isnSecret: Uint8Array;
  /** Asked for each SYN that would open a connection; false refuses it with RST (a connection cap, a boot window). */
  admitSyn?: (remoteAddr: number, now: number) => boolean;
}

export const DEFAULT_TCP_CONFIG: Omit<TcpConfig, 'isnSecret' | 'listenPorts'> = {
  mss: 1460,
  receiveWindow: 65535,
  maxConnections: 16384,
  maxHalfOpen: 1024,
  /** Linux's default tcp_synack_retries. */
  maxSynAckRetransmissions: 5,
  maxSendBuffer: 1 << 20,
  maxReassemblyBytes: 65535,
  /** A full window of 1460-byte segments is 45; one-byte segments stop well short of the byte bound. */
  maxReassemblySegments: 128,
  maxBufferedBytes: 64 << 20,
  sendTimeoutMs: 30_000,
  idleTimeoutMs: 120_000,
  /** RFC 9293 3.4.2 suggests MSL = 2 minutes; like Linux we keep TIME-WAIT at 60 s. */
  timeWaitMs: 60_000,
  /** Like Linux's tcp_max_tw_buckets on a small machine; about 110 B each (time-wait.ts and the tuple map). */
  maxTimeWait: 16384,
  /** Linux tcp_fin_timeout. */
  finWait2TimeoutMs: 60_000,
  /** RFC 6298 (2.1). */
  initialRtoMs: 1000,
  /** Linux's floor (TCP_RTO_MIN); RFC 6298 (2.4) asks for 1 s, which is needlessly slow on one link. */
  minRtoMs: 200,
  /** RFC 6298 (2.5) allows a ceiling of at least 60 s. */
  maxRtoMs: 60_000,
  maxRetransmissions: 8,
  /** RFC 1122 4.2.3.2 caps the delay at 0.5 s; Linux's minimum is 40 ms. */
  delayedAckMs: 40,
  defaultHopLimit: 64,
};

export type ConnectionId = number;

export interface Endpoints {
  localAddr: number;
  localPort: number;
  remoteAddr: number;
  remotePort: number;
}

/** What the application says of bytes it queues; hopLimit undefined means the stack's default. */
export interface SendTag {
  hopLimit?: number;
  /** The bytes are a token response: an ICMP error quoting one of their segments is reported as one. */
  tokenResponse?: boolean;
}

/**
 * What a run of queued bytes is, resolved by the stack: every segment that carries them, first copy or
 * retransmission, leaves with this hop limit and says whether it was a token response.
 */
export interface BytesTag {
  readonly hopLimit: number;
  readonly tokenResponse: boolean;
}

export type CloseReason = 'normal' | 'reset-by-peer' | 'timeout' | 'aborted' | 'idle' | 'send-timeout';

export type TcpAction =
  /** A segment to send: its IP packet leaves with hopLimit; tokenResponse says its bytes were a token response. */
  | {
      kind: 'transmit';
      localAddr: number;
      remoteAddr: number;
      hopLimit: number;
      tokenResponse: boolean;
      segment: TcpSegment;
    }
  | { kind: 'accepted'; id: ConnectionId; endpoints: Endpoints }
  /**
   * In-order bytes, as a view of the received segment's payload (or of the reassembly's copy): not copied per
   * segment. Valid while the received frame is; whoever keeps bytes past the action copies them (the HTTP parser
   * copies only an unfinished tail).
   */
  | { kind: 'data'; id: ConnectionId; bytes: Uint8Array }
  | { kind: 'peer-closed'; id: ConnectionId }
  | { kind: 'closed'; id: ConnectionId; reason: CloseReason }
  /** The deadline the application set with setApplicationDeadline() passed (e.g. a request-header timeout). */
  | { kind: 'application-deadline'; id: ConnectionId };

export type SendResult =
  { ok: true; actions: TcpAction[] } | { ok: false; reason: 'no-connection' | 'closing' | 'buffer-full' };

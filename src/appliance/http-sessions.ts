// One HTTP session per connection, created by its first bytes: requests go to the engine (through the fault
// injector when there is one), response bytes go to the TCP stack tagged with what they are, and responses a
// fault holds back leave through the pacer. The Host hands it the stack's events and carries out what the
// stack decides in return.
import type { Logger } from 'pino';
import type { ConnectionId, SendTag, TcpAction, TcpStack } from '../tcp/index.ts';
import type { HttpLimits } from '../http/index.ts';
import type { ImdsRequest, ImdsResponse } from '../imds/index.ts';
import type { ConnectionObserver } from './connection-observer.ts';
import type { FaultInjector, RequestPeer } from './fault-injector.ts';
import { INTERNAL_ERROR_RESPONSE } from './fault-guard.ts';
import type { HostPort } from './host-port.ts';
import { HttpSession, type ConnectionPolicy, type SessionOutput, type SessionResponse } from './http-session.ts';
import { ResponsePacer } from './response-pacer.ts';

/** nginx's client_header_timeout is 60 s; a real client sends its whole request in one segment. */
const DEFAULT_REQUEST_HEADER_TIMEOUT_MS = 10_000;

export interface Clock {
  /** Monotonic milliseconds for protocol timers. */
  monotonicMs(): number;
  /** Wall-clock milliseconds for token expiry and Date headers. */
  wallMs(): number;
}

export interface ServiceEngine {
  handle(request: ImdsRequest, wallMs: number): ImdsResponse;
}

interface HttpSessionsConfig {
  http: Partial<HttpLimits>;
  /** Close after every response as EC2 does (default), or keep connections alive. */
  connection?: ConnectionPolicy;
  /** A request not complete this long after its first byte gets 408 and the connection closes. */
  requestHeaderTimeoutMs?: number;
  /** Faults on demand: request faults and connection accounting. Off when absent. */
  faults?: FaultInjector;
}

/** What the sessions need back from the Host. */
interface SessionsHost {
  readonly port: HostPort;
  /** The Host's own logger, for the per-request debug line. */
  readonly log: Logger;
  /** Carries out what the stack decided. */
  apply(actions: readonly TcpAction[], now: number): void;
  /** Timer-driven work (the pacer) ran: the Host re-arms its protocol timer. */
  settled(): void;
  peerOf(id: ConnectionId): RequestPeer | undefined;
  observer(): ConnectionObserver | undefined;
}

export class HttpSessions {
  private readonly sessions = new Map<ConnectionId, HttpSession>();
  private readonly requestHeaderTimeoutMs: number;
  /** Shared by every HTTP session: no closures allocated per connection. A fault in it answers 500, nothing more. */
  private readonly handleRequest = (request: ImdsRequest, connectionId: number): SessionResponse => {
    try {
      return this.config.faults
        ? this.config.faults.handle(
            request,
            connectionId,
            this.host.peerOf,
            this.clock.monotonicMs(),
            this.clock.wallMs(),
          )
        : this.engine.handle(request, this.clock.wallMs());
    } catch (error) {
      this.host.port.count('request-handler-exceptions');
      this.host.port.log.error(
        'request-handler',
        { err: error, method: request.method },
        'exception while answering a request: 500',
      );
      return INTERNAL_ERROR_RESPONSE;
    }
  };
  /** Responses a fault holds back or cuts short leave through here, in order, on event-loop timers. */
  private readonly pacer = new ResponsePacer({
    send: (id, bytes, tag, thenClose) => this.sendOnConnection(id, bytes, tag, thenClose, this.clock.monotonicMs()),
    close: (id) => this.host.apply(this.tcp.close(id, this.clock.monotonicMs()), this.clock.monotonicMs()),
    abort: (id) => this.host.apply(this.tcp.abort(id, this.clock.monotonicMs()), this.clock.monotonicMs()),
    settled: () => this.host.settled(),
    overflow: (_id, what) => this.host.port.count(`fault-responses-held-over-limit-${what}`),
  });
  private readonly dateHeader = (): string => {
    const second = Math.floor(this.clock.wallMs() / 1000);
    if (second !== this.dateSecond) {
      this.dateSecond = second;
      this.dateText = new Date(second * 1000).toUTCString();
    }
    return this.dateText;
  };
  private dateSecond = Number.NaN;
  private dateText = '';

  constructor(
    private readonly config: HttpSessionsConfig,
    private readonly tcp: TcpStack,
    private readonly engine: ServiceEngine,
    private readonly clock: Clock,
    private readonly host: SessionsHost,
  ) {
    this.requestHeaderTimeoutMs = config.requestHeaderTimeoutMs ?? DEFAULT_REQUEST_HEADER_TIMEOUT_MS;
  }

  stop(): void {
    this.pacer.stop();
  }

  /** Request bytes of a connection, in order. */
  deliver(id: ConnectionId, bytes: Uint8Array, now: number): void {
    let session = this.sessions.get(id);
    if (!session) {
      session = new HttpSession(this.config.http, this.handleRequest, this.dateHeader, this.config.connection, id);
      this.sessions.set(id, session);
    }
    this.respond(id, session.receive(bytes, now), now);
    this.tcp.setApplicationDeadline(id, session.requestDeadline(this.requestHeaderTimeoutMs));
  }

  /** The request-header deadline passed: 408 for a request in progress. */
  expire(id: ConnectionId, now: number): void {
    const expired = this.sessions.get(id)?.expire();
    if (expired?.errorCode !== undefined) this.respond(id, expired, now);
  }

  /** The peer sent its FIN. */
  peerClosed(id: ConnectionId, now: number): void {
    // Every request was answered when it arrived (or a fault holds its answer: close after it), so our side is done too.
    if (this.pacer.closeWhenDone(id)) return;
    this.host.apply(this.tcp.close(id, now), now);
  }

  closed(id: ConnectionId): void {
    this.sessions.delete(id);
    this.pacer.forget(id);
  }

  private respond(id: ConnectionId, output: SessionOutput, now: number): void {
    const debug = this.host.log.isLevelEnabled('debug');
    const observer = this.host.observer();
    for (const { request, response } of output.requests) {
      if (response.status === 0) continue; // a fault answered with silence, RST or FIN: counted by the injector
      this.host.port.count(`http-responses-${response.status}`);
      if (response.hopLimit !== undefined) this.host.port.count('http-hop-limited-responses');
      if (debug)
        this.host.log.debug({ method: request.method, path: request.target, status: response.status }, 'request');
      observer?.answered(id, request.target, response);
    }
    if (output.errorCode) {
      this.host.port.count(`http-errors-${output.errorCode}`);
      if (output.errorCode === 'request-timeout') this.host.port.count('requests-header-timeout');
      this.host.port.log.info('malformed-http', { code: output.errorCode }, 'malformed HTTP request');
    }
    const chunks = output.chunks;
    if (this.pacer.needs(id, chunks)) return this.pacer.deliver(id, chunks, output.close);
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i] as (typeof chunks)[number];
      // Closing after the last response: our FIN rides on its last segment instead of a segment of its own.
      const thenClose = output.close && i === chunks.length - 1;
      if (!this.sendOnConnection(id, chunk.bytes, chunk, thenClose, now)) return;
    }
    if (output.close && chunks.length === 0) this.host.apply(this.tcp.close(id, now), now);
  }

  /** Queues tagged response bytes; false when the connection refused them (then it is reset) or is gone. */
  private sendOnConnection(
    id: ConnectionId,
    bytes: Uint8Array,
    tag: SendTag,
    thenClose: boolean,
    now: number,
  ): boolean {
    const sent = this.tcp.send(id, bytes, tag, now, thenClose);
    if (!sent.ok) {
      // The peer is not reading (send buffer full) or the connection is going away: give up on it.
      this.host.port.count(`http-send-refused-${sent.reason}`);
      this.host.apply(this.tcp.abort(id, now), now);
      return false;
    }
    this.host.apply(sent.actions, now);
    return true;
  }
}

// One TCP connection's HTTP conversation: bytes in, requests answered in order, the response bytes tagged
// with what they are (a token response, and the hop limit their packets must carry). It holds no socket: the
// Host moves the bytes.
import {
  HttpRequestParser,
  serializeResponse,
  serializeVerbatim,
  type HttpLimits,
  type HttpRequest,
} from '../http/index.ts';
import type { ImdsRequest, ImdsResponse } from '../imds/index.ts';
import type { ConnectionPolicy } from '../config/index.ts';
import type { SendTag } from '../tcp/index.ts';

/** Response bytes and their tag for the TCP layer: hopLimit undefined means the stack's default. */
export interface ResponseChunk extends SendTag {
  bytes: Uint8Array;
  /** Set by an injected fault: wait this long before the bytes leave. */
  delayMs?: number;
  /** Set by an injected fault: what follows the bytes — FIN, RST, or silence with the connection left open. */
  then?: 'close' | 'reset' | 'stall';
}

/**
 * How a response leaves when a fault rule says so: late, cut after some body bytes, or replaced by silence, a
 * RST or a FIN. Without it a response leaves at once and whole.
 */
export interface Delivery {
  delayMs: number;
  outcome: 'respond' | 'truncate' | 'drop' | 'reset' | 'close';
  /** For 'truncate': body bytes sent before the FIN. */
  truncateBodyBytes?: number;
}

export interface SessionResponse extends ImdsResponse {
  delivery?: Delivery;
}

export interface SessionOutput {
  chunks: ResponseChunk[];
  /** True when the connection must close after these bytes (error, Connection: close, HTTP/1.0). */
  close: boolean;
  /** Requests parsed, for logs and counters. */
  requests: Array<{ request: HttpRequest; response: SessionResponse }>;
  /** Stable code of a framing error, when one ended the conversation. */
  errorCode?: string;
}

/** Answers one request; the connection id lets fault rules see who asked. */
type RequestHandler = (request: ImdsRequest, connectionId: number) => SessionResponse;

/**
 * close: every response says `Connection: close` and the connection ends after it, as real instances do (the
 * default); keep-alive: HTTP/1.1 persistence, for load tests that reuse connections.
 */
export type { ConnectionPolicy };

const SERVER_HEADER: readonly [string, string] = ['Server', 'EC2ws'];

export class HttpSession {
  /** Created with the first bytes: a connection that never sends a request costs no parser. */
  private parser: HttpRequestParser | undefined;
  private finished = false;
  /** When the request now in progress brought its first bytes; undefined between requests. */
  private requestStartedAt: number | undefined;

  /** Pass the same limits object and functions to every session: they are shared, not copied, per connection. */
  constructor(
    private readonly limits: Partial<HttpLimits>,
    private readonly handler: RequestHandler,
    private readonly dateHeader: () => string,
    private readonly connection: ConnectionPolicy = 'close',
    private readonly connectionId = 0,
  ) {}

  /**
   * When the request in progress must be complete (nginx's client_header_timeout, counted from its first byte
   * so a byte now and then cannot stretch it), or undefined when no request is in progress.
   */
  requestDeadline(timeoutMs: number): number | undefined {
    return this.requestStartedAt === undefined ? undefined : this.requestStartedAt + timeoutMs;
  }

  /** The request in progress ran out of time: 408 and close, like nginx. Empty output when none is. */
  expire(): SessionOutput {
    const output: SessionOutput = { chunks: [], close: false, requests: [] };
    if (this.finished || this.requestStartedAt === undefined) return output;
    this.fail(output, 408, 'request-timeout');
    return output;
  }

  receive(bytes: Uint8Array, now = 0): SessionOutput {
    const output: SessionOutput = { chunks: [], close: false, requests: [] };
    if (this.finished) return output;
    this.receiveRequests(bytes, output);
    const inProgress = !this.finished && (this.parser?.bufferedBytes ?? 0) > 0;
    // A request that completed in these bytes ended the old clock; leftover bytes start a new one now.
    if (!inProgress) this.requestStartedAt = undefined;
    else if (this.requestStartedAt === undefined || output.requests.length > 0) this.requestStartedAt = now;
    return output;
  }

  private fail(output: SessionOutput, status: number, code: string): void {
    const response: ImdsResponse = { status, headers: [['Content-Type', 'text/plain']], body: '' };
    output.chunks.push({ bytes: this.serialize(response, false, false) });
    output.close = true;
    output.errorCode = code;
    this.finished = true;
    this.requestStartedAt = undefined;
  }

  private receiveRequests(bytes: Uint8Array, output: SessionOutput): void {
    this.parser ??= new HttpRequestParser(this.limits);
    for (const event of this.parser.push(bytes)) {
      if (event.kind === 'error') {
        this.fail(output, event.status, event.code);
        break;
      }
      const { request } = event;
      const response = this.handler(
        { method: request.method, target: request.target, headers: request.headers },
        this.connectionId,
      );
      output.requests.push({ request, response });
      // A captured head is sent as captured: it carries no Connection: close, so the connection stays open.
      const keepAlive = request.keepAlive && (this.connection === 'keep-alive' || response.captured !== undefined);
      const outcome = response.delivery?.outcome;
      // Silence, RST and FIN carry no response at all.
      const silent = outcome === 'drop' || outcome === 'reset' || outcome === 'close';
      const bytes = silent ? EMPTY : this.serialize(response, keepAlive, request.method === 'HEAD');
      if (response.delivery) {
        const chunk = faultedChunk(response, bytes, request.method === 'HEAD');
        output.chunks.push(chunk);
        if (chunk.then !== undefined) {
          // Whatever the fault did, this connection answers nothing more: later responses would come out of order.
          output.close = chunk.then === 'close';
          this.finished = true;
          break;
        }
      } else {
        output.chunks.push({ bytes, ...tagOf(response) });
      }
      if (!keepAlive) {
        output.close = true;
        this.finished = true;
        break;
      }
    }
  }

  private serialize(response: ImdsResponse, keepAlive: boolean, omitBody: boolean): Uint8Array {
    if (response.captured !== undefined) {
      return serializeVerbatim(
        { status: response.status, ...response.captured, body: response.body },
        { date: this.dateHeader(), omitBody },
      );
    }
    // EC2's layout (a 2024 curl transcript of a GET with a token): the service's headers, Content-Length, Date,
    // Server, then Connection: close.
    return serializeResponse(
      { status: response.status, headers: response.headers, body: response.body },
      { keepAlive, omitBody, trailingHeaders: [['Date', this.dateHeader()], SERVER_HEADER] },
    );
  }
}

/** The engine sets a hop limit on token responses and on nothing else (ImdsResponse.hopLimit). */
function tagOf(response: ImdsResponse): SendTag {
  return response.hopLimit === undefined ? {} : { hopLimit: response.hopLimit, tokenResponse: true };
}

function faultedChunk(response: SessionResponse, bytes: Uint8Array, head: boolean): ResponseChunk {
  const { delayMs, outcome, truncateBodyBytes = 0 } = response.delivery as Delivery;
  const tag = tagOf(response);
  switch (outcome) {
    case 'respond':
      return { bytes, ...tag, delayMs };
    case 'truncate': {
      const body = response.body;
      const bodyLength = head ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
      const kept = bytes.length - bodyLength + Math.min(truncateBodyBytes, bodyLength);
      return { bytes: bytes.subarray(0, kept), ...tag, delayMs, then: 'close' };
    }
    case 'drop':
      return { bytes: EMPTY, ...tag, delayMs, then: 'stall' };
    case 'reset':
      return { bytes: EMPTY, ...tag, delayMs, then: 'reset' };
    case 'close':
      return { bytes: EMPTY, ...tag, delayMs, then: 'close' };
  }
}

const EMPTY = new Uint8Array(0);

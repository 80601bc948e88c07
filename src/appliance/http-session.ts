// One TCP connection's HTTP conversation: bytes in, requests answered in order, the response bytes tagged
// with the TTL their packets must carry. It holds no socket: the Host moves the bytes.
import { HttpRequestParser, serializeResponse, serializeVerbatim, type HttpLimits, type HttpRequest } from '../http/index.ts';
import type { ImdsRequest, ImdsResponse } from '../imds/index.ts';
import type { ConnectionPolicy } from '../config/index.ts';

export interface ResponseChunk {
  bytes: Uint8Array;
  /** IP TTL for the packets carrying these bytes; undefined means the default TTL. */
  ttl: number | undefined;
}

export interface SessionOutput {
  chunks: ResponseChunk[];
  /** True when the connection must close after these bytes (error, Connection: close, HTTP/1.0). */
  close: boolean;
  /** Requests parsed, for logs and counters. */
  requests: Array<{ request: HttpRequest; response: ImdsResponse }>;
  /** Stable code of a framing error, when one ended the conversation. */
  errorCode?: string;
}

export type RequestHandler = (request: ImdsRequest) => ImdsResponse;

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

  /** Pass the same limits object and functions to every session: they are shared, not copied, per connection. */
  constructor(
    private readonly limits: Partial<HttpLimits>,
    private readonly handler: RequestHandler,
    private readonly dateHeader: () => string,
    private readonly connection: ConnectionPolicy = 'close',
  ) {}

  get bufferedBytes(): number {
    return this.parser?.bufferedBytes ?? 0;
  }

  receive(bytes: Uint8Array): SessionOutput {
    const output: SessionOutput = { chunks: [], close: false, requests: [] };
    if (this.finished) return output;
    this.parser ??= new HttpRequestParser(this.limits);
    for (const event of this.parser.push(bytes)) {
      if (event.kind === 'error') {
        const response: ImdsResponse = { status: event.status, headers: [['Content-Type', 'text/plain']], body: '' };
        output.chunks.push({ bytes: this.serialize(response, false, false), ttl: undefined });
        output.close = true;
        output.errorCode = event.code;
        this.finished = true;
        break;
      }
      const { request } = event;
      const response = this.handler({ method: request.method, target: request.target, headers: request.headers });
      output.requests.push({ request, response });
      // A captured head is sent as captured: it carries no Connection: close, so the connection stays open.
      const keepAlive = request.keepAlive && (this.connection === 'keep-alive' || response.captured !== undefined);
      output.chunks.push({
        bytes: this.serialize(response, keepAlive, request.method === 'HEAD'),
        ttl: response.hopLimit,
      });
      if (!keepAlive) {
        output.close = true;
        this.finished = true;
        break;
      }
    }
    return output;
  }

  private serialize(response: ImdsResponse, keepAlive: boolean, omitBody: boolean): Uint8Array {
    if (response.captured !== undefined) {
      return serializeVerbatim({ status: response.status, ...response.captured, body: response.body }, { date: this.dateHeader(), omitBody });
    }
    // EC2's layout (a 2024 curl transcript of a GET with a token): the service's headers, Content-Length, Date,
    // Server, then Connection: close.
    return serializeResponse(
      { status: response.status, headers: response.headers, body: response.body },
      { keepAlive, omitBody, trailingHeaders: [['Date', this.dateHeader()], SERVER_HEADER] },
    );
  }
}

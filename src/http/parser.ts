// Incremental, strict HTTP/1.1 request parser (RFC 9112). Pure: bytes in, events out, no I/O, no clock.
//
// Choices, each stricter than the RFC allows and all on purpose (we answer only metadata clients):
// - bare LF line endings are rejected everywhere (400), never silently accepted;
// - empty lines (CRLF) before a request line are skipped (RFC 9112 2.2);
// - request-target: origin-form, or asterisk-form with OPTIONS only; absolute-form and authority-form are
//   rejected with 400 because this server is not a proxy;
// - any Transfer-Encoding is rejected (400): bodies are framed by Content-Length only;
// - Content-Length is digits only, one value per field line; repeated lines must agree.
import { COLON, CR, FIELD_VALUE, HT, LF, SP, TARGET, isToken, latin1 } from './chars.ts';
import { resolveLimits, type HttpLimits } from './limits.ts';

export type HttpVersion = '1.0' | '1.1';

export interface HttpRequest {
  method: string;
  target: string;
  version: HttpVersion;
  /** Lower-cased names, values with optional whitespace trimmed, in arrival order; duplicates kept apart. */
  headers: ReadonlyArray<readonly [string, string]>;
  /** The same fields by lower-cased name, duplicates joined with ', ' (RFC 9110 5.3). */
  headerMap: Readonly<Record<string, string>>;
  body: Uint8Array;
  /** Whether the connection may carry another request after this one (RFC 9112 9.3). */
  keepAlive: boolean;
}

type HttpParseErrorCode =
  | 'bad-request-line'
  | 'uri-too-long'
  | 'unsupported-version'
  | 'bad-header'
  | 'obs-fold'
  | 'headers-too-large'
  | 'missing-host'
  | 'bad-host'
  | 'transfer-encoding-not-supported'
  | 'bad-content-length'
  | 'body-too-large'
  | 'buffer-full';

export interface HttpParseError {
  kind: 'error';
  status: number;
  code: HttpParseErrorCode;
  message: string;
}

export type HttpParseEvent = { kind: 'request'; request: HttpRequest } | HttpParseError;

type Phase = 'request-line' | 'headers' | 'body' | 'dead';

function fail(status: number, code: HttpParseErrorCode, message: string): HttpParseError {
  return { kind: 'error', status, code, message };
}

// Content-Length with more digits than this cannot be exact as a JS number; it is over any sane limit anyway.
const MAX_LENGTH_DIGITS = 15;
const INITIAL_CAPACITY = 4096;
// A buffer grown by one large request is dropped once empty, so idle connections stay small.
const SHRINK_ABOVE = 64 * 1024;

export class HttpRequestParser {
  private readonly limits: HttpLimits;
  /** Shared empty buffer until the first bytes arrive: an idle connection holds no ArrayBuffer of its own. */
  private buf: Uint8Array = NO_BYTES;
  /** buf is the caller's array, read in place: never written, replaced by our own buffer before any append. */
  private borrowed = false;
  /** buf[start, end) holds bytes received and not yet consumed by a finished request. */
  private start = 0;
  private end = 0;
  private phase: Phase = 'request-line';
  // Offsets relative to `start`, i.e. to the first byte of the message being parsed.
  /** Where the next LF search resumes: every byte is scanned once, however the stream is split. */
  private scan = 0;
  private lineStart = 0;
  private headersStart = 0;
  private bodyStart = 0;
  private bodyLength = 0;
  // The message being assembled.
  private method = '';
  private target = '';
  private version: HttpVersion = '1.1';
  private fields: Array<[string, string]> = [];
  private headerMap: Record<string, string> = NO_FIELDS;
  private keepAlive = true;

  constructor(limits: Partial<HttpLimits> = {}) {
    this.limits = sharedLimits(limits);
  }

  /** Bytes held: the unfinished tail of the stream. Zero after an error. */
  get bufferedBytes(): number {
    return this.end - this.start;
  }

  /** Feed the next bytes of the stream; returns every request completed by them, in order, or an error. */
  push(bytes: Uint8Array): HttpParseEvent[] {
    if (this.phase === 'dead') return [];
    this.append(bytes);
    const events: HttpParseEvent[] = [];
    for (;;) {
      const event = this.step();
      if (event === undefined) break;
      events.push(event);
      if (event.kind === 'error') {
        this.die();
        return events;
      }
    }
    if (this.bufferedBytes > this.limits.maxBufferedBytes) {
      events.push(
        fail(
          413,
          'buffer-full',
          `connection holds ${this.bufferedBytes} unparsed bytes, limit is ${this.limits.maxBufferedBytes}`,
        ),
      );
      this.die();
    }
    if (this.borrowed) this.ownPendingBytes(); // never keep the caller's array past this call
    return events;
  }

  /** Advance as far as the buffered bytes allow: one finished request, an error, or undefined (need more). */
  private step(): HttpParseEvent | undefined {
    while (this.phase === 'request-line' || this.phase === 'headers') {
      const from = this.start + this.scan;
      const found = indexOfByte(this.buf, LF, from, this.end);
      if (found < 0) {
        this.scan = this.end - this.start;
        return this.checkPartialLine();
      }
      const lf = this.scan + found;
      this.scan = lf + 1;
      const error = this.phase === 'request-line' ? this.requestLine(lf) : this.headerLine(lf);
      if (error !== undefined) return error;
    }
    if (this.end - this.start - this.bodyStart < this.bodyLength) return undefined;
    return this.finishRequest();
  }

  /** Bound the line still waiting for its LF, so a peer cannot make us buffer without limit. */
  private checkPartialLine(): HttpParseError | undefined {
    const pending = this.end - this.start;
    // A line of exactly the limit may still be waiting for its LF after the CR: hence the + 1.
    if (this.phase === 'request-line' && pending - this.lineStart > this.limits.maxRequestLineBytes + 1) {
      return this.tooLongLine();
    }
    if (this.phase === 'headers' && pending - this.headersStart > this.limits.maxHeaderBytes) {
      return this.tooLargeHeaders();
    }
    return undefined;
  }

  private tooLongLine(): HttpParseError {
    return fail(414, 'uri-too-long', `request line longer than ${this.limits.maxRequestLineBytes} bytes`);
  }

  private tooLargeHeaders(): HttpParseError {
    return fail(431, 'headers-too-large', `header section longer than ${this.limits.maxHeaderBytes} bytes`);
  }

  /** The line [lineStart, lf) ends at an LF: returns its content end, or -1 when the CR is missing. */
  private contentEnd(lf: number): number {
    const absLf = this.start + lf;
    return lf > this.lineStart && this.buf[absLf - 1] === CR ? absLf - 1 : -1;
  }

  private requestLine(lf: number): HttpParseError | undefined {
    const a = this.start + this.lineStart;
    const b = this.contentEnd(lf);
    if ((b < 0 ? this.start + lf : b) - a > this.limits.maxRequestLineBytes) return this.tooLongLine();
    if (b < 0) return fail(400, 'bad-request-line', 'request line must end with CRLF (bare LF is not accepted)');
    if (b === a) {
      // RFC 9112 2.2: empty lines before the request line are ignored (robustness after a body).
      this.consume(lf + 1);
      return undefined;
    }
    const error = this.parseRequestLine(a, b);
    if (error !== undefined) return error;
    this.phase = 'headers';
    this.headersStart = this.lineStart = lf + 1;
    return undefined;
  }

  private parseRequestLine(a: number, b: number): HttpParseError | undefined {
    const buf = this.buf;
    const sp1 = indexOfByte(buf, SP, a, b);
    if (sp1 <= 0) return bad('expected METHOD SP target SP HTTP-version');
    if (!isToken(buf, a, a + sp1)) return bad('method is not a token');
    const t0 = a + sp1 + 1;
    const sp2 = indexOfByte(buf, SP, t0, b);
    if (sp2 < 0) return bad('expected METHOD SP target SP HTTP-version');
    if (sp2 === 0) return bad('empty request target or repeated space');
    const t1 = t0 + sp2;
    for (let i = t0; i < t1; i++) {
      if (TARGET[buf[i]] === 0) return bad('request target holds a control, space or non-ASCII byte');
    }
    const v = t1 + 1;
    // HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 2.3).
    if (
      b - v !== 8 ||
      buf[v] !== 0x48 || // H
      buf[v + 1] !== 0x54 || // T
      buf[v + 2] !== 0x54 || // T
      buf[v + 3] !== 0x50 || // P
      buf[v + 4] !== 0x2f || // /
      !isDigit(buf[v + 5]) ||
      buf[v + 6] !== 0x2e ||
      !isDigit(buf[v + 7])
    ) {
      return bad('version must be HTTP/<digit>.<digit>');
    }
    const version =
      buf[v + 5] === 0x31 && buf[v + 7] === 0x31
        ? '1.1'
        : buf[v + 5] === 0x31 && buf[v + 7] === 0x30
          ? '1.0'
          : latin1(buf, v + 5, v + 8);
    if (version !== '1.0' && version !== '1.1') {
      return fail(505, 'unsupported-version', `HTTP/${version} is not supported; use HTTP/1.1 or HTTP/1.0`);
    }
    const method = latin1(buf, a, a + sp1);
    const target = latin1(buf, t0, t1);
    if (target === '*') {
      if (method !== 'OPTIONS') return bad('asterisk-form target is only valid with OPTIONS');
    } else if (target.charCodeAt(0) !== 0x2f) {
      return bad('request target must be origin-form (start with "/"); this server is not a proxy');
    }
    this.method = method;
    this.target = target;
    this.version = version;
    return undefined;
  }

  private headerLine(lf: number): HttpParseError | undefined {
    if (lf + 1 - this.headersStart > this.limits.maxHeaderBytes) return this.tooLargeHeaders();
    const a = this.start + this.lineStart;
    const b = this.contentEnd(lf);
    if (b < 0) return fail(400, 'bad-header', 'header line must end with CRLF (bare LF is not accepted)');
    this.lineStart = lf + 1;
    if (b === a) return this.finishHead(lf + 1);
    if (this.fields.length >= this.limits.maxHeaderCount) {
      return fail(431, 'headers-too-large', `more than ${this.limits.maxHeaderCount} header fields`);
    }
    return this.parseField(a, b);
  }

  private parseField(a: number, b: number): HttpParseError | undefined {
    const buf = this.buf;
    if (buf[a] === SP || buf[a] === HT) {
      return fail(400, 'obs-fold', 'header line starts with whitespace (obsolete line folding is not accepted)');
    }
    const colon = indexOfByte(buf, COLON, a, b);
    if (colon < 0) return fail(400, 'bad-header', 'header line has no colon');
    const nameEnd = a + colon;
    if (!isToken(buf, a, nameEnd)) {
      const last = buf[nameEnd - 1];
      // RFC 9112 5.1: whitespace before the colon MUST be rejected (request smuggling vector).
      if (last === SP || last === HT) return fail(400, 'bad-header', 'whitespace between header name and colon');
      return fail(400, 'bad-header', 'header name is empty or not a token');
    }
    let v0 = nameEnd + 1;
    let v1 = b;
    while (v0 < v1 && (buf[v0] === SP || buf[v0] === HT)) v0++;
    while (v1 > v0 && (buf[v1 - 1] === SP || buf[v1 - 1] === HT)) v1--;
    for (let i = v0; i < v1; i++) {
      if (FIELD_VALUE[buf[i]] === 0) return fail(400, 'bad-header', 'header value holds a control character');
    }
    this.fields.push([latin1(buf, a, nameEnd).toLowerCase(), latin1(buf, v0, v1)]);
    return undefined;
  }

  /** The empty line ended the header section: decide framing and connection persistence. */
  private finishHead(sectionEnd: number): HttpParseError | undefined {
    // A plain object built in place (the request keeps it); "__proto__" is defined, never assigned.
    const map: Record<string, string> = {};
    let hosts = 0;
    let length: string | undefined;
    for (const [name, value] of this.fields) {
      if (name === 'host') hosts++;
      if (name === 'transfer-encoding') {
        return fail(
          400,
          'transfer-encoding-not-supported',
          'Transfer-Encoding (chunked or other) is not accepted; send Content-Length',
        );
      }
      if (name === 'content-length') {
        if (!/^[0-9]+$/.test(value))
          return fail(400, 'bad-content-length', `Content-Length "${value}" is not a decimal number`);
        const normalized = value.replace(/^0+(?=.)/, '');
        if (length !== undefined && length !== normalized) {
          return fail(400, 'bad-content-length', 'several Content-Length fields with different values');
        }
        length = normalized;
        continue; // one value in the map, not "5, 5"
      }
      setField(map, name, Object.hasOwn(map, name) ? `${map[name]}, ${value}` : value);
    }
    if (hosts > 1) return fail(400, 'bad-host', 'more than one Host field');
    if (hosts === 0 && this.version === '1.1') return fail(400, 'missing-host', 'HTTP/1.1 request without Host');
    let bodyLength = 0;
    if (length !== undefined) {
      map['content-length'] = length;
      bodyLength = length.length > MAX_LENGTH_DIGITS ? Infinity : Number(length);
      if (bodyLength > this.limits.maxBodyBytes) {
        return fail(
          413,
          'body-too-large',
          `Content-Length ${length} exceeds the limit of ${this.limits.maxBodyBytes} bytes`,
        );
      }
    }
    this.headerMap = map;
    this.keepAlive = keepAliveOf(this.version, map['connection']);
    this.bodyStart = sectionEnd;
    this.bodyLength = bodyLength;
    this.phase = 'body';
    return undefined;
  }

  private finishRequest(): HttpParseEvent {
    const from = this.start + this.bodyStart;
    const request: HttpRequest = {
      method: this.method,
      target: this.target,
      version: this.version,
      headers: this.fields,
      headerMap: this.headerMap,
      // A copy: the buffer is reused for the next bytes.
      body: this.buf.slice(from, from + this.bodyLength),
      keepAlive: this.keepAlive,
    };
    this.consume(this.bodyStart + this.bodyLength);
    return { kind: 'request', request };
  }

  /** Drop the first n bytes of the current message and start the next one. */
  private consume(n: number): void {
    this.start += n;
    if (this.start === this.end) {
      this.start = this.end = 0;
      if (this.borrowed || this.buf.length > SHRINK_ABOVE) this.releaseBuffer();
    }
    this.phase = 'request-line';
    this.scan = this.lineStart = this.headersStart = this.bodyStart = this.bodyLength = 0;
    // The finished request owns the old field list; the next one starts a fresh one.
    this.fields = [];
    this.headerMap = NO_FIELDS;
  }

  private append(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.start === this.end && this.phase === 'request-line' && this.scan === 0) {
      // Nothing pending (the usual case: one whole request per segment): parse the caller's bytes where they
      // are, without a copy or a buffer of our own. Requests keep strings and a copied body, never views.
      this.buf = bytes;
      this.borrowed = true;
      this.start = 0;
      this.end = bytes.length;
      return;
    }
    if (this.end + bytes.length > this.buf.length) {
      const live = this.end - this.start;
      const need = live + bytes.length;
      if (need <= this.buf.length) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        const grown = new Uint8Array(Math.max(need, this.buf.length * 2, INITIAL_CAPACITY));
        grown.set(this.buf.subarray(this.start, this.end));
        this.buf = grown;
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(bytes, this.end);
    this.end += bytes.length;
  }

  /** Copies an unfinished tail out of a borrowed array into a buffer of our own. */
  private ownPendingBytes(): void {
    const live = this.end - this.start;
    if (live === 0) {
      this.releaseBuffer();
      return;
    }
    const own = new Uint8Array(Math.max(live, INITIAL_CAPACITY));
    own.set(this.buf.subarray(this.start, this.end));
    this.buf = own;
    this.borrowed = false;
    this.start = 0;
    this.end = live;
  }

  private releaseBuffer(): void {
    this.buf = NO_BYTES;
    this.borrowed = false;
  }

  private die(): void {
    this.phase = 'dead';
    this.releaseBuffer();
    this.start = this.end = 0;
  }
}

/** Offset of `byte` in bytes[from, to) relative to `from`, or -1: no subarray view allocated per line. */
function indexOfByte(bytes: Uint8Array, byte: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (bytes[i] === byte) return i - from;
  return -1;
}

function setField(map: Record<string, string>, name: string, value: string): void {
  if (name === '__proto__')
    Object.defineProperty(map, name, { value, writable: true, enumerable: true, configurable: true });
  else map[name] = value;
}

function bad(why: string): HttpParseError {
  return fail(400, 'bad-request-line', `malformed request line: ${why}`);
}

function isDigit(x: number | undefined): boolean {
  return x !== undefined && x >= 0x30 && x <= 0x39;
}

const NO_BYTES = new Uint8Array(0);
/** Placeholder map between requests; finishHead always builds a fresh one for the request it finishes. */
const NO_FIELDS: Record<string, string> = Object.freeze(Object.create(null) as Record<string, string>);

/** Resolved limits are shared by every parser built from the same options object (the Host passes one). */
const resolvedByOptions = new WeakMap<Partial<HttpLimits>, HttpLimits>();
function sharedLimits(partial: Partial<HttpLimits>): HttpLimits {
  let resolved = resolvedByOptions.get(partial);
  if (resolved === undefined) {
    resolved = resolveLimits(partial);
    resolvedByOptions.set(partial, resolved);
  }
  return resolved;
}

/** RFC 9112 9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive". Connection is a token list. */
function keepAliveOf(version: HttpVersion, connection: string | undefined): boolean {
  if (connection === undefined) return version === '1.1'; // the common case, without the token list
  // One token, as clients send it (every SDK's "close"): no list is made.
  const single = connection.trim().toLowerCase();
  if (single === 'close') return false;
  if (single === 'keep-alive') return true;
  const tokens = (connection ?? '').split(',').map((t) => t.trim().toLowerCase());
  if (tokens.includes('close')) return false;
  return version === '1.1' || tokens.includes('keep-alive');
}

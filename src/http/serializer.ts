// Response serializer: status line, caller headers in order, framing headers we own, body. One allocation.
// Bad input here is a programmer error (our own handlers built it), so it throws instead of returning a value.
import { isTokenString } from './chars.ts';

/** Response headers in either shape a handler builds: [name, value] pairs (repeats allowed) or a record. */
type HeaderList = ReadonlyArray<readonly [string, string]>;
type HeaderRecord = Readonly<Record<string, string>>;
type Headers = HeaderList | HeaderRecord;

interface HttpResponse {
  status: number;
  /** Names as given (case kept), in order. Content-Length and Connection are added here, never by callers. */
  headers: Headers;
  /** A string is sent as UTF-8. */
  body: Uint8Array | string;
  /** Reason phrase when the sender's differs from RFC 9110's (EC2 answers "405 Not Allowed"). */
  reason?: string;
}

interface SerializeOptions {
  /** false adds `Connection: close`. */
  keepAlive: boolean;
  /** HEAD: Content-Length still announces the body that a GET would carry, but no body bytes follow. */
  omitBody: boolean;
  /** Headers written after Content-Length and before `Connection: close` (EC2: Date, Server). */
  trailingHeaders?: HeaderList;
}

const REASONS: Readonly<Record<number, string>> = {
  100: 'Continue',
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  301: 'Moved Permanently',
  302: 'Found',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  411: 'Length Required',
  413: 'Content Too Large',
  414: 'URI Too Long',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

/** RFC 9110 15 reason phrase; '' for codes we do not know (the reason phrase is optional on the wire). */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? '';
}

// Framing is ours: a caller-supplied copy would contradict the one we compute.
const RESERVED = new Set(['content-length', 'connection', 'transfer-encoding']);

function checkValue(name: string, value: string): void {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // CR/LF would split the header (response splitting); other controls and non-latin1 cannot be sent as octets.
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) {
      throw new TypeError(`header ${name}: value holds a forbidden character (code ${c})`);
    }
  }
}

const encoder = new TextEncoder();

/** Header names already checked (a server sends the same few names again and again): checked once each. */
const checkedNames = new Set<string>();
const MAX_CHECKED_NAMES = 256;

function checkName(name: string): void {
  if (checkedNames.has(name)) return;
  if (!isTokenString(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
  if (RESERVED.has(name.toLowerCase())) throw new TypeError(`header ${name} is set by serializeResponse itself`);
  if (checkedNames.size < MAX_CHECKED_NAMES) checkedNames.add(name);
}

/** Header lines as given, each name and value checked. */
function checkedLines(given: Headers): HeaderList {
  const lines: HeaderList = Array.isArray(given) ? (given as HeaderList) : Object.entries(given as HeaderRecord);
  for (let i = 0; i < lines.length; i++) {
    const [name, value] = lines[i] as readonly [string, string];
    checkName(name);
    checkValue(name, value);
  }
  return lines;
}

/** Latin-1 text at `at` (every char was checked to be <= 0xff, the rest is ASCII); returns where it ends. */
function writeText(out: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
  return at + text.length;
}

/** The bytes header lines take, "name: value\r\n" each. */
function linesLength(lines: HeaderList): number {
  let length = 0;
  for (let i = 0; i < lines.length; i++) {
    const [name, value] = lines[i] as readonly [string, string];
    length += name.length + value.length + 4;
  }
  return length;
}

/** Header lines at `at`; returns where they end. */
function writeLines(out: Uint8Array, at: number, lines: HeaderList): number {
  for (let i = 0; i < lines.length; i++) {
    const [name, value] = lines[i] as readonly [string, string];
    at = writeText(out, at, name);
    at = writeText(out, at, ': ');
    at = writeText(out, at, value);
    at = writeText(out, at, '\r\n');
  }
  return at;
}

/** One header line of a verbatim head: a fixed value, or one the serializer fills in. */
type VerbatimHeader = readonly [name: string, value: string | { fill: 'content-length' | 'date' }];

/**
 * A head written exactly as given — names in their case, in their order, nothing added — for responses whose
 * published captures differ from our usual layout. Content-Length and Date appear only where the caller puts them.
 */
export function serializeVerbatim(
  response: { status: number; reason: string; headers: readonly VerbatimHeader[]; body: Uint8Array | string },
  options: { date: string; omitBody: boolean },
): Uint8Array {
  const body = typeof response.body === 'string' ? encoder.encode(response.body) : response.body;
  checkValue('reason phrase', response.reason);
  let head = `HTTP/1.1 ${response.status} ${response.reason}\r\n`;
  for (const [name, given] of response.headers) {
    if (!isTokenString(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
    const value = typeof given === 'string' ? given : given.fill === 'date' ? options.date : String(body.length);
    checkValue(name, value);
    head += name + ': ' + value + '\r\n';
  }
  head += '\r\n';
  const bodyBytes = options.omitBody ? 0 : body.length;
  const out = new Uint8Array(head.length + bodyBytes);
  for (let i = 0; i < head.length; i++) out[i] = head.charCodeAt(i);
  if (bodyBytes > 0) out.set(body, head.length);
  return out;
}

/**
 * The head is measured, then written straight into the response's one buffer: building it as a string made a
 * rope of some thirty pieces per response and then a flat copy of it.
 */
export function serializeResponse(response: HttpResponse, options: SerializeOptions): Uint8Array {
  const { status } = response;
  if (!Number.isInteger(status) || status < 100 || status > 999) throw new RangeError(`invalid status ${status}`);
  const body = typeof response.body === 'string' ? encoder.encode(response.body) : response.body;
  if (response.reason !== undefined) checkValue('reason phrase', response.reason);
  const statusLine = `HTTP/1.1 ${status} ${response.reason ?? reasonPhrase(status)}\r\n`;
  const headers = checkedLines(response.headers);
  const trailing = checkedLines(options.trailingHeaders ?? []);
  const contentLength = `Content-Length: ${body.length}\r\n`;
  const connection = options.keepAlive ? '' : 'Connection: close\r\n';
  const headLength =
    statusLine.length + linesLength(headers) + contentLength.length + linesLength(trailing) + connection.length + 2;
  const bodyBytes = options.omitBody ? 0 : body.length;
  const out = new Uint8Array(headLength + bodyBytes);
  let at = writeText(out, 0, statusLine);
  at = writeLines(out, at, headers);
  at = writeText(out, at, contentLength);
  at = writeLines(out, at, trailing);
  at = writeText(out, at, connection);
  writeText(out, at, '\r\n');
  if (bodyBytes > 0) out.set(body, headLength);
  return out;
}

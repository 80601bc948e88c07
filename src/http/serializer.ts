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

function checkedHead(status: number, response: HttpResponse, contentLength: number, options: SerializeOptions): string {
  let head = `HTTP/1.1 ${status} ${response.reason ?? reasonPhrase(status)}\r\n`;
  const headers = response.headers;
  if (Array.isArray(headers)) {
    const list = headers as HeaderList;
    for (let i = 0; i < list.length; i++) {
      const [name, value] = list[i] as readonly [string, string];
      checkName(name);
      checkValue(name, value);
      head += name + ': ' + value + '\r\n';
    }
  } else {
    for (const [name, value] of Object.entries(headers as HeaderRecord)) {
      checkName(name);
      checkValue(name, value);
      head += name + ': ' + value + '\r\n';
    }
  }
  head += 'Content-Length: ' + contentLength + '\r\n';
  const trailing = options.trailingHeaders ?? [];
  for (let i = 0; i < trailing.length; i++) {
    const [name, value] = trailing[i] as readonly [string, string];
    checkName(name);
    checkValue(name, value);
    head += name + ': ' + value + '\r\n';
  }
  if (!options.keepAlive) head += 'Connection: close\r\n';
  return head + '\r\n';
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

export function serializeResponse(response: HttpResponse, options: SerializeOptions): Uint8Array {
  const { status } = response;
  if (!Number.isInteger(status) || status < 100 || status > 999) throw new RangeError(`invalid status ${status}`);
  const body = typeof response.body === 'string' ? encoder.encode(response.body) : response.body;
  if (response.reason !== undefined) checkValue('reason phrase', response.reason);
  const head = checkedHead(status, response, body.length, options);
  const bodyBytes = options.omitBody ? 0 : body.length;
  const out = new Uint8Array(head.length + bodyBytes);
  // Latin1 encoding: every char was checked to be <= 0xff above, and the rest is ASCII.
  for (let i = 0; i < head.length; i++) out[i] = head.charCodeAt(i);
  if (bodyBytes > 0) out.set(body, head.length);
  return out;
}

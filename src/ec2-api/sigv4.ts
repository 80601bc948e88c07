// AWS Signature Version 4, verifier side: rebuild the canonical request from what arrived, derive the signing key
// from the secret the caller looks up, and compare signatures in constant time. Pure: the clock is a parameter.
// The steps and names follow AWS's "Create a signed AWS API request" (canonical request, string to sign, scope).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
/** EC2's documented RequestExpired window: a request more than 15 minutes from our clock is refused. */
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

export interface SignableRequest {
  method: string;
  /** The path as sent, e.g. "/". */
  path: string;
  /** The raw query string without "?", as sent. */
  query: string;
  /** Header names in any case, in arrival order; repeated names allowed. */
  headers: ReadonlyArray<readonly [string, string]>;
  body: Uint8Array;
}

interface SignatureScope {
  accessKeyId: string;
  date: string; // YYYYMMDD
  region: string;
  service: string;
}

interface ParsedAuthorization {
  scope: SignatureScope;
  signedHeaders: string[];
  signature: string;
}

type SigV4Failure = { ok: false; reason: 'missing' | 'malformed' | 'scope' | 'expired' | 'signature'; message: string };

type ParseResult = ({ ok: true } & ParsedAuthorization) | SigV4Failure;

const CREDENTIAL = /^([A-Za-z0-9]{1,128})\/([0-9]{8})\/([a-z0-9-]{1,32})\/([a-z0-9-]{1,32})\/aws4_request$/;

/** Reads the Authorization header (the form every AWS SDK and the CLI send). */
export function parseAuthorization(headers: SignableRequest['headers']): ParseResult {
  const values = headers.filter(([name]) => name.toLowerCase() === 'authorization').map(([, value]) => value);
  if (values.length === 0) return { ok: false, reason: 'missing', message: 'the request is not signed' };
  if (values.length > 1) return { ok: false, reason: 'malformed', message: 'more than one Authorization header' };
  const value = (values[0] as string).trim();
  if (!value.startsWith(`${SIGV4_ALGORITHM} `)) {
    return { ok: false, reason: 'malformed', message: `only ${SIGV4_ALGORITHM} (Signature Version 4) is accepted` };
  }
  const fields = new Map<string, string>();
  for (const part of value.slice(SIGV4_ALGORITHM.length).split(',')) {
    const equals = part.indexOf('=');
    if (equals < 0) return { ok: false, reason: 'malformed', message: 'Authorization header is malformed' };
    fields.set(part.slice(0, equals).trim(), part.slice(equals + 1).trim());
  }
  const credential = CREDENTIAL.exec(fields.get('Credential') ?? '');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (
    !credential ||
    !signedHeaders ||
    !signature ||
    !/^[0-9a-f]{64}$/.test(signature) ||
    !/^[a-z0-9-]+(;[a-z0-9-]+)*$/.test(signedHeaders)
  ) {
    return { ok: false, reason: 'malformed', message: 'Authorization header is malformed' };
  }
  return {
    ok: true,
    scope: {
      accessKeyId: credential[1] as string,
      date: credential[2] as string,
      region: credential[3] as string,
      service: credential[4] as string,
    },
    signedHeaders: signedHeaders.split(';'),
    signature,
  };
}

/** RFC 3986 unreserved characters stay; everything else is %XX in upper case, as SigV4 requires. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, '%20'));
  } catch {
    return text; // a stray "%" is signed as sent, encoded once
  }
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  return query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const key = equals < 0 ? pair : pair.slice(0, equals);
      const value = equals < 0 ? '' : pair.slice(equals + 1);
      return [uriEncode(decodeComponent(key)), uriEncode(decodeComponent(value))] as const;
    })
    .sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

/** Each path segment encoded once (EC2 and every non-S3 service); the path is "/" for the Query API. */
function canonicalPath(path: string): string {
  if (path === '') return '/';
  return path
    .split('/')
    .map((segment) => uriEncode(decodeComponent(segment)))
    .join('/');
}

function canonicalHeaderValue(values: string[]): string {
  return values.map((value) => value.trim().replace(/\s+/g, ' ')).join(',');
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Task 1: the canonical request over exactly the headers the signer listed. */
export function canonicalRequest(request: SignableRequest, signedHeaders: readonly string[]): string {
  const lines = signedHeaders.map((name) => {
    const values = request.headers.filter(([header]) => header.toLowerCase() === name).map(([, value]) => value);
    return `${name}:${canonicalHeaderValue(values)}`;
  });
  return [
    request.method.toUpperCase(),
    canonicalPath(request.path),
    canonicalQuery(request.query),
    ...lines,
    '',
    signedHeaders.join(';'),
    sha256Hex(request.body),
  ].join('\n');
}

function credentialScope(scope: SignatureScope): string {
  return `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
}

/** Task 2. */
export function stringToSign(amzDate: string, scope: SignatureScope, canonical: string): string {
  return [SIGV4_ALGORITHM, amzDate, credentialScope(scope), sha256Hex(canonical)].join('\n');
}

/** Task 3: kSigning = HMAC chain over date, region, service and "aws4_request". */
function signingKey(secretAccessKey: string, scope: SignatureScope): Buffer {
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, scope.date), scope.region), scope.service), 'aws4_request');
}

function signature(secretAccessKey: string, scope: SignatureScope, toSign: string): string {
  return createHmac('sha256', signingKey(secretAccessKey, scope)).update(toSign).digest('hex');
}

function headerValue(headers: SignableRequest['headers'], name: string): string | undefined {
  return headers.find(([header]) => header.toLowerCase() === name)?.[1];
}

/** `20150830T123600Z` → epoch ms, or undefined when it is not that form. */
function parseAmzDate(text: string): number | undefined {
  const m = /^([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z$/.exec(text);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(ms) ? undefined : ms;
}

interface VerifyExpectations {
  region: string;
  service: string;
  nowMs: number;
  /** Skip the clock check (the published test vectors are dated 2015). */
  ignoreClock?: boolean;
}

type VerifyResult = { ok: true; scope: SignatureScope; sessionToken: string | undefined } | SigV4Failure;

/**
 * Verifies a parsed Authorization against the request and a secret. The caller parsed the header first to learn
 * the access key id and look its secret up.
 */
export function verifySignature(
  request: SignableRequest,
  auth: ParsedAuthorization,
  secretAccessKey: string,
  expect: VerifyExpectations,
): VerifyResult {
  const { scope } = auth;
  if (scope.service !== expect.service || scope.region !== expect.region) {
    return {
      ok: false,
      reason: 'scope',
      message: `credential scope must be */${expect.region}/${expect.service}/aws4_request, got ${credentialScope(scope)}`,
    };
  }
  if (!auth.signedHeaders.includes('host'))
    return { ok: false, reason: 'malformed', message: 'the host header must be signed' };
  const amzDate = headerValue(request.headers, 'x-amz-date');
  const signedDate = amzDate === undefined ? undefined : parseAmzDate(amzDate);
  if (amzDate === undefined || signedDate === undefined || !auth.signedHeaders.includes('x-amz-date')) {
    return { ok: false, reason: 'malformed', message: 'a signed X-Amz-Date header (YYYYMMDDTHHMMSSZ) is required' };
  }
  if (!amzDate.startsWith(scope.date))
    return { ok: false, reason: 'scope', message: 'X-Amz-Date does not match the credential scope date' };
  if (!expect.ignoreClock && Math.abs(expect.nowMs - signedDate) > MAX_CLOCK_SKEW_MS) {
    return {
      ok: false,
      reason: 'expired',
      message: `request time ${amzDate} is more than 15 minutes from the server's clock`,
    };
  }
  const expected = signature(
    secretAccessKey,
    scope,
    stringToSign(amzDate, scope, canonicalRequest(request, auth.signedHeaders)),
  );
  if (!timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(auth.signature, 'hex'))) {
    return { ok: false, reason: 'signature', message: 'the request signature does not match' };
  }
  return { ok: true, scope, sessionToken: headerValue(request.headers, 'x-amz-security-token') };
}

/** The signer's side, for tests and tools: the Authorization header value for a request and a secret. */
export function authorizationHeader(
  request: SignableRequest,
  scope: SignatureScope,
  secretAccessKey: string,
  signedHeaders: readonly string[],
): string {
  const amzDate = headerValue(request.headers, 'x-amz-date') ?? '';
  const sig = signature(secretAccessKey, scope, stringToSign(amzDate, scope, canonicalRequest(request, signedHeaders)));
  return `${SIGV4_ALGORITHM} Credential=${scope.accessKeyId}/${credentialScope(scope)}, SignedHeaders=${signedHeaders.join(';')}, Signature=${sig}`;
}

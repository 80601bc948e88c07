// Responses whose exact bytes real instances were seen to send, kept apart from the engine so each layout sits
// next to its source. The HTTP layer writes a `captured` head verbatim: names in their case, lines in their
// order, Date and Content-Length filled where the capture has them, and nothing else (no Connection: close, so
// the connection stays open as in the captures, where curl reports "left intact").
import type { CapturedHeader, ImdsResponse } from './types.ts';

const DATE = { fill: 'date' } as const;
const CONTENT_LENGTH = { fill: 'content-length' } as const;

function captured(status: number, reason: string, headers: readonly CapturedHeader[]): ImdsResponse {
  return { status, headers: [], body: '', captured: { reason, headers } };
}

/**
 * PUT /latest/api/token carrying X-Forwarded-For. aws/aws-sdk-kotlin#627 (2022-07-20, curl 7.74.0 from an EKS
 * pod, header names in lower case as received): `HTTP/1.1 403 Forbidden`, content-type: text/plain, date,
 * server: EC2ws, content-length: 0.
 */
export function forwardedTokenRefusal(): ImdsResponse {
  return captured(403, 'Forbidden', [
    ['content-type', 'text/plain'],
    ['date', DATE],
    ['server', 'EC2ws'],
    ['content-length', CONTENT_LENGTH],
  ]);
}

/**
 * PUT to a token path other than /latest/api/token: a version-specific one (EC2 User Guide, "Retrieve instance
 * metadata": 403 Forbidden) or one with a trailing slash. aws-beam/aws_credentials#47 (2023-01-27, curl 7.74.0,
 * PUT /latest/api/token/): `HTTP/1.1 403 Forbidden`, Content-Length: 0, Content-Type: text/plain, Date,
 * Server: EC2ws.
 */
export function tokenPathForbidden(): ImdsResponse {
  return captured(403, 'Forbidden', [
    ['Content-Length', CONTENT_LENGTH],
    ['Content-Type', 'text/plain'],
    ['Date', DATE],
    ['Server', 'EC2ws'],
  ]);
}

/**
 * Any method but PUT and OPTIONS on /latest/api/token. googleapis/google-auth-library-ruby#421 (2023-03-22,
 * curl 7.88.1, GET): `HTTP/1.1 405 Not Allowed` then `Allow: OPTIONS, PUT` (the capture stops there); the rest
 * (empty text/plain body) follows the same front end's 403 in aws-beam/aws_credentials#47 — that order is CHOICE.
 */
export function tokenMethodNotAllowed(): ImdsResponse {
  return captured(405, 'Not Allowed', [
    ['Allow', 'OPTIONS, PUT'],
    ['Content-Length', CONTENT_LENGTH],
    ['Content-Type', 'text/plain'],
    ['Date', DATE],
    ['Server', 'EC2ws'],
  ]);
}

/** Token paths under a dated version or with a trailing slash: /2021-03-23/api/token, /latest/api/token/. */
export function isOtherTokenPath(path: string, versions: readonly string[]): boolean {
  const match = /^\/([^/]+)\/api\/token\/?$/.exec(path);
  return match !== null && versions.includes(match[1] as string) && path !== '/latest/api/token';
}

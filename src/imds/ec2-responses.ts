// Responses whose exact bytes real instances were seen to send, kept apart from the engine so each layout sits
// next to its source. The HTTP layer writes a `captured` head verbatim: names in their case, lines in their
// order, Date and Content-Length filled where the capture has them, and nothing else (no Connection: close, so
// the connection stays open as in the captures, where curl reports "left intact").
import type { CapturedHeader, ImdsResponse } from './types.ts';

const DATE = { fill: 'date' } as const;
const CONTENT_LENGTH = { fill: 'content-length' } as const;

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** EC2's error page: a small XHTML document naming the status, sent as text/html. */
export function errorPage(status: number): string {
  const title = `${status} - ${REASONS[status] ?? 'Error'}`;
  return (
    '<?xml version="1.0" encoding="iso-8859-1"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n' +
    '\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n' +
    ` <head>\n  <title>${title}</title>\n </head>\n <body>\n  <h1>${title}</h1>\n </body>\n</html>\n`
  );
}

/** A status with EC2's error page: every refusal the engine makes, and every status a fault rule injects. */
export function errorResponse(status: number, extra: ReadonlyArray<readonly [string, string]> = []): ImdsResponse {
  return { status, headers: [['Content-Type', 'text/html'], ...extra], body: errorPage(status) };
}

/** 401: GET gets the XHTML page (343 bytes, as captured); HEAD an empty text/plain answer, as HEAD captures show. */
export function unauthorized(method: string): ImdsResponse {
  return method === 'HEAD' ? { status: 401, headers: [['Content-Type', 'text/plain']], body: '' } : errorResponse(401);
}

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

// Bounds on what one connection may make the parser hold. Every bound has its own status and error code,
// so a reviewer can map each one to the RFC 9112 / RFC 9110 rule it enforces.

export interface HttpLimits {
  /** Request line without its CRLF (method SP target SP version). Beyond: 414 'uri-too-long'. */
  maxRequestLineBytes: number;
  /** Header section after the request line, every CRLF included (the final empty line too). Beyond: 431. */
  maxHeaderBytes: number;
  /** Header field lines per request. Beyond: 431 'headers-too-large'. */
  maxHeaderCount: number;
  /** Content-Length of one request. Beyond: 413 'body-too-large'. */
  maxBodyBytes: number;
  /**
   * Bytes the parser may hold between pushes: the unfinished tail of a pipelined stream. A safety net that
   * caps per-connection memory whatever the other limits say. Beyond: 413 'buffer-full'. Defaults to
   * maxRequestLineBytes + 2 + maxHeaderBytes + maxBodyBytes (one largest request) when not given.
   */
  maxBufferedBytes: number;
}

export const DEFAULT_HTTP_LIMITS: Readonly<HttpLimits> = Object.freeze({
  maxRequestLineBytes: 8192,
  maxHeaderBytes: 16384,
  maxHeaderCount: 100,
  maxBodyBytes: 64 * 1024,
  // One largest-possible request (line + CRLF + headers + body) fits; anything more is a misbehaving peer.
  maxBufferedBytes: 8192 + 2 + 16384 + 64 * 1024,
});

export function resolveLimits(partial: Partial<HttpLimits> = {}): HttpLimits {
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS };
  for (const key of Object.keys(DEFAULT_HTTP_LIMITS) as Array<keyof HttpLimits>) {
    const value = partial[key];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 0)
      throw new RangeError(`HttpLimits.${key} must be a non-negative integer, got ${value}`);
    limits[key] = value;
  }
  // Unless set, the buffer bound follows the others, so raising maxBodyBytes alone is enough.
  if (partial.maxBufferedBytes === undefined) {
    limits.maxBufferedBytes = limits.maxRequestLineBytes + 2 + limits.maxHeaderBytes + limits.maxBodyBytes;
  }
  return limits;
}

// What the metadata engine sees of a request and what it answers; it never knows about packets.

export interface ImdsRequest {
  method: string;
  target: string;
  /** Lower-cased names, in arrival order. */
  headers: ReadonlyArray<readonly [string, string]>;
}

/**
 * How a request used the session-token protocol, for accounting per caller: a token issued or refused, a
 * metadata request with a valid token (v2), with a rejected token, without one (v1), or without one while
 * tokens are required (v1-rejected); none for anything else (endpoint disabled, wrong method).
 */
export type TokenUse = 'token-issued' | 'token-refused' | 'v2' | 'token-rejected' | 'v1' | 'v1-rejected' | 'none';

export interface ImdsResponse {
  status: number;
  headers: ReadonlyArray<readonly [string, string]>;
  body: string | Uint8Array;
  /** Set on responses whose bytes must leave with IP TTL = the instance's hop limit (token responses). */
  hopLimit?: number;
  /**
   * A response published captures show in a layout of its own: this reason phrase and exactly these header lines,
   * in this order and case, nothing added (no Server/Date/Connection unless listed). `headers` is then ignored.
   */
  captured?: { reason: string; headers: readonly CapturedHeader[] };
  tokenUse?: TokenUse;
  /** Set when role credentials were served: '1.0' without a token, '2.0' with one (as the metric's label). */
  credentialsDelivery?: '1.0' | '2.0';
}

/** A header of a head EC2 sends in a layout of its own: a fixed value, or one the HTTP layer fills in. */
export type CapturedHeader = readonly [name: string, value: string | { fill: 'content-length' | 'date' }];

// What the metadata engine sees of a request and what it answers; it never knows about packets.

export interface ImdsRequest {
  method: string;
  target: string;
  /** Lower-cased names, in arrival order. */
  headers: ReadonlyArray<readonly [string, string]>;
}

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
}

/** A header of a head EC2 sends in a layout of its own: a fixed value, or one the HTTP layer fills in. */
export type CapturedHeader = readonly [name: string, value: string | { fill: 'content-length' | 'date' }];

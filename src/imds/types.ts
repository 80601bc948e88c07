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
}

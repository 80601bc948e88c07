// Initial sequence numbers per RFC 6528: M + F(4-tuple, secret), with M a 4 µs clock and F a keyed hash.
import { createHmac } from 'node:crypto';
import type { Endpoints } from './types.ts';

/** RFC 9293 3.4.1: the ISN clock ticks every 4 microseconds, i.e. 250 ticks per millisecond. */
export const ISN_TICKS_PER_MS = 250;

/** The keyed-hash part F of RFC 6528 section 3: stable for a tuple and secret, unpredictable without the secret. */
export function isnOffset(secret: Uint8Array, endpoints: Endpoints): number {
  const tuple = Buffer.alloc(12);
  tuple.writeUInt32BE(endpoints.localAddr >>> 0, 0);
  tuple.writeUInt16BE(endpoints.localPort, 4);
  tuple.writeUInt32BE(endpoints.remoteAddr >>> 0, 6);
  tuple.writeUInt16BE(endpoints.remotePort, 10);
  return createHmac('sha256', secret).update(tuple).digest().readUInt32BE(0);
}

/** ISN = M + F(localip, localport, remoteip, remoteport, secretkey), modulo 2^32. */
export function initialSequenceNumber(secret: Uint8Array, endpoints: Endpoints, now: number): number {
  const clock = Math.floor(now * ISN_TICKS_PER_MS) % 0x1_0000_0000;
  return (clock + isnOffset(secret, endpoints)) % 0x1_0000_0000;
}

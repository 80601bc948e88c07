// SYN cookies (RFC 4987 3.6) laid out as Linux's net/ipv4/syncookies.c lays them out: the SYN-ACK's ISN is
//   hash1(tuple) + peer ISN + (minute counter << 24) + ((hash2(tuple, counter) + MSS index) mod 2^24)
// so the ACK that completes the handshake proves the SYN-ACK reached the peer and carries back the peer's MSS,
// while a full half-open table holds no state at all. Linux keeps the window scale, SACK and ECN bits in the
// TCP timestamp, not in the ISN; this stack negotiates none of them (RFC 7323 2.2: no window scale option from
// us means neither side scales), so the MSS index is everything a cookie must remember.
import * as crypto from 'node:crypto';
import type { Endpoints } from './types.ts';

/** Upper 8 bits: the minute counter; lower 24: hash plus MSS index (Linux's COOKIEBITS). */
const COOKIE_BITS = 24;
const COOKIE_MASK = (1 << COOKIE_BITS) - 1;
/** A cookie is good for the minute it was issued in and the next one (Linux's MAX_SYNCOOKIE_AGE = 2). */
export const MAX_SYN_COOKIE_AGE_MINUTES = 2;
const MINUTE_MS = 60_000;

/** MSS values a cookie can carry, smallest first (Linux's msstab for IPv4; index fits in two bits). */
export const COOKIE_MSS_TABLE: readonly number[] = [536, 1300, 1440, 1460];

const oneShotHash = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'buffer') => Buffer }).hash;

/** Reused input: secret, tuple, counter, which hash (1 or 2). */
let block = Buffer.alloc(0);
let blockSecret: Uint8Array | undefined;

function cookieHash(secret: Uint8Array, endpoints: Endpoints, counter: number, which: 1 | 2): number {
  if (blockSecret !== secret) {
    block = Buffer.alloc(secret.length + 17);
    block.set(secret, 0);
    blockSecret = secret;
  }
  const at = block.length - 17;
  block.writeUInt32BE(endpoints.localAddr >>> 0, at);
  block.writeUInt16BE(endpoints.localPort, at + 4);
  block.writeUInt32BE(endpoints.remoteAddr >>> 0, at + 6);
  block.writeUInt16BE(endpoints.remotePort, at + 10);
  block.writeUInt32BE(counter >>> 0, at + 12);
  block[at + 16] = which;
  if (oneShotHash) return oneShotHash('sha256', block, 'buffer').readUInt32BE(0);
  return crypto.createHmac('sha256', secret).update(block.subarray(at)).digest().readUInt32BE(0);
}

/** The minute counter a cookie issued at `now` carries (8 bits of it survive in the cookie). */
function cookieCounter(now: number): number {
  return Math.floor(now / MINUTE_MS) >>> 0;
}

/** Largest table MSS not above the peer's: a cookie connection never sends segments bigger than the peer allows. */
export function cookieMssIndex(peerMss: number): number {
  for (let index = COOKIE_MSS_TABLE.length - 1; index > 0; index -= 1) {
    if (peerMss >= (COOKIE_MSS_TABLE[index] as number)) return index;
  }
  return 0;
}

/** The ISN of a stateless SYN-ACK for a SYN with sequence number `peerIsn` from `endpoints`. */
export function encodeSynCookie(
  secret: Uint8Array,
  endpoints: Endpoints,
  peerIsn: number,
  mssIndex: number,
  now: number,
): number {
  const counter = cookieCounter(now);
  const data = (cookieHash(secret, endpoints, counter, 2) + mssIndex) & COOKIE_MASK;
  return (cookieHash(secret, endpoints, 0, 1) + peerIsn + ((counter << COOKIE_BITS) >>> 0) + data) >>> 0;
}

/**
 * Checks the ACK of a cookie SYN-ACK: `cookie` is SEG.ACK − 1 and `peerIsn` is SEG.SEQ − 1. Returns the MSS
 * the cookie carries, or undefined when the cookie is forged, from another tuple or too old.
 */
export function checkSynCookie(
  secret: Uint8Array,
  endpoints: Endpoints,
  peerIsn: number,
  cookie: number,
  now: number,
): number | undefined {
  const counter = cookieCounter(now);
  const unhashed = (cookie - cookieHash(secret, endpoints, 0, 1) - peerIsn) >>> 0;
  const age = (counter - (unhashed >>> COOKIE_BITS)) & 0xff;
  if (age >= MAX_SYN_COOKIE_AGE_MINUTES) return undefined;
  const index = (unhashed - cookieHash(secret, endpoints, counter - age, 2)) & COOKIE_MASK;
  return COOKIE_MSS_TABLE[index];
}

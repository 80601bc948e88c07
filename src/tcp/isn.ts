// Initial sequence numbers per RFC 6528: M + F(4-tuple, secret), with M a 4 µs clock and F a keyed hash.
import * as crypto from 'node:crypto';
import type { Endpoints } from './types.ts';

/** RFC 9293 3.4.1: the ISN clock ticks every 4 microseconds, i.e. 250 ticks per millisecond. */
const ISN_TICKS_PER_MS = 250;

/** One-shot SHA-256 (Node >= 20.12): no Hmac object per SYN, which the profile showed at 4% of a connection. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'buffer') => Buffer }).hash;

/** Reused input block: secret then tuple; rebuilt only when the secret changes. */
let block = Buffer.alloc(0);
let blockSecret: Uint8Array | undefined;

/**
 * The keyed-hash part F of RFC 6528 section 3: stable for a tuple and secret, unpredictable without the secret.
 * F = SHA-256(secret || tuple), the construction RFC 6528 itself suggests (with MD5); HMAC where no one-shot hash.
 */
export function isnOffset(secret: Uint8Array, endpoints: Endpoints): number {
  if (blockSecret !== secret) {
    block = Buffer.alloc(secret.length + 12);
    block.set(secret, 0);
    blockSecret = secret;
  }
  const at = block.length - 12;
  block.writeUInt32BE(endpoints.localAddr >>> 0, at);
  block.writeUInt16BE(endpoints.localPort, at + 4);
  block.writeUInt32BE(endpoints.remoteAddr >>> 0, at + 6);
  block.writeUInt16BE(endpoints.remotePort, at + 10);
  if (oneShotHash) return oneShotHash('sha256', block, 'buffer').readUInt32BE(0);
  return crypto.createHmac('sha256', secret).update(block.subarray(at)).digest().readUInt32BE(0);
}

/** ISN = M + F(localip, localport, remoteip, remoteport, secretkey), modulo 2^32. */
export function initialSequenceNumber(secret: Uint8Array, endpoints: Endpoints, now: number): number {
  const clock = Math.floor(now * ISN_TICKS_PER_MS) % 0x1_0000_0000;
  return (clock + isnOffset(secret, endpoints)) % 0x1_0000_0000;
}

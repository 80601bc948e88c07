// HMAC-SHA-256 (RFC 2104) for one fixed key over short messages, computed as two one-shot SHA-256 calls on
// buffers padded once at construction. Node's createHmac builds a keyed object per call, which the flow
// benchmark's profile showed as the largest single cost of issuing and checking a token.
import * as crypto from 'node:crypto';

const SHA256_BLOCK_BYTES = 64;
const SHA256_BYTES = 32;

type OneShotHash = (algorithm: string, data: Uint8Array, encoding: 'buffer') => Buffer;
/** crypto.hash exists from Node 20.12; older runtimes fall back to createHmac. */
const oneShotHash = (crypto as { hash?: OneShotHash }).hash;

export class HmacSha256 {
  private readonly key: Uint8Array;
  /** (key ^ ipad) followed by room for the message, reused by every call (callers are synchronous). */
  private inner = Buffer.alloc(0);
  /** (key ^ opad) followed by the inner digest. */
  private readonly outer = Buffer.alloc(SHA256_BLOCK_BYTES + SHA256_BYTES);
  private readonly innerPad = Buffer.alloc(SHA256_BLOCK_BYTES);

  constructor(key: Uint8Array) {
    this.key = Uint8Array.from(key);
    // RFC 2104 section 2: keys longer than the block are hashed first, shorter ones zero-padded.
    const block = Buffer.alloc(SHA256_BLOCK_BYTES);
    block.set(key.length > SHA256_BLOCK_BYTES ? crypto.createHash('sha256').update(key).digest() : key);
    for (let i = 0; i < SHA256_BLOCK_BYTES; i++) {
      this.innerPad[i] = (block[i] as number) ^ 0x36;
      this.outer[i] = (block[i] as number) ^ 0x5c;
    }
  }

  /** HMAC of the concatenation of parts. */
  digest(...parts: Uint8Array[]): Buffer {
    if (!oneShotHash) {
      const hmac = crypto.createHmac('sha256', this.key);
      for (const part of parts) hmac.update(part);
      return hmac.digest();
    }
    let length = SHA256_BLOCK_BYTES;
    for (const part of parts) length += part.length;
    if (this.inner.length !== length) {
      this.inner = Buffer.alloc(length);
      this.inner.set(this.innerPad, 0);
    }
    let at = SHA256_BLOCK_BYTES;
    for (const part of parts) {
      this.inner.set(part, at);
      at += part.length;
    }
    this.outer.set(oneShotHash('sha256', this.inner, 'buffer'), SHA256_BLOCK_BYTES);
    return oneShotHash('sha256', this.outer, 'buffer');
  }
}

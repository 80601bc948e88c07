// Session tokens that the service never stores: version, expiry and a nonce, sealed with an HMAC under a
// per-boot key. Memory does not grow with sessions, and another appliance's key refuses the token.
import { createHmac, timingSafeEqual } from 'node:crypto';

const TOKEN_VERSION = 1;
const NONCE_BYTES = 16;
const MAC_BYTES = 24;
const BODY_BYTES = 1 + 4 + NONCE_BYTES; // version, expiry (unix seconds), nonce

export type TokenVerdict = 'valid' | 'malformed' | 'forged' | 'expired';

export class TokenAuthority {
  constructor(
    private readonly key: Uint8Array,
    private readonly randomBytes: (n: number) => Uint8Array,
  ) {
    if (key.length < 32) throw new Error('token key must be at least 32 bytes');
  }

  issue(ttlSeconds: number, nowMs: number): string {
    const body = Buffer.alloc(BODY_BYTES);
    body[0] = TOKEN_VERSION;
    body.writeUInt32BE(Math.floor(nowMs / 1000) + ttlSeconds, 1);
    body.set(this.randomBytes(NONCE_BYTES), 5);
    return Buffer.concat([body, this.mac(body)]).toString('base64');
  }

  verify(token: string, nowMs: number): TokenVerdict {
    const raw = Buffer.from(token, 'base64');
    if (raw.length !== BODY_BYTES + MAC_BYTES || raw.toString('base64') !== token || raw[0] !== TOKEN_VERSION) {
      return 'malformed';
    }
    const body = raw.subarray(0, BODY_BYTES);
    if (!timingSafeEqual(raw.subarray(BODY_BYTES), this.mac(body))) return 'forged';
    return body.readUInt32BE(1) * 1000 > nowMs ? 'valid' : 'expired';
  }

  private mac(body: Uint8Array): Buffer {
    return createHmac('sha256', this.key).update(body).digest().subarray(0, MAC_BYTES);
  }
}

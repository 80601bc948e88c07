// Session tokens that the service need not store: version, expiry and a nonce, sealed with an HMAC under a
// per-boot key that also covers the instance id. Another appliance's key, or another instance served with the
// same key, refuses the token (EC2: a token is valid only on its instance). SDKs reuse one token for hours,
// so tokens recently issued or verified are remembered, a bounded number of them, to skip the HMAC on reuse;
// memory stays bounded whatever the number of sessions.
import { timingSafeEqual } from 'node:crypto';
import { HmacSha256 } from './hmac-sha256.ts';

const TOKEN_VERSION = 1;
const NONCE_BYTES = 16;
const MAC_BYTES = 24;
const BODY_BYTES = 1 + 4 + NONCE_BYTES; // version, expiry (unix seconds), nonce
/** Tokens remembered as genuine; past it the oldest is forgotten (and verified by HMAC again if it returns). */
const REMEMBERED_TOKENS = 4096;

export type TokenVerdict = 'valid' | 'malformed' | 'forged' | 'expired';

export class TokenAuthority {
  /** Length-prefixed instance id, so no (instance id, body) pair can collide with another. */
  private readonly boundInstance: Buffer;
  private readonly hmac: HmacSha256;
  /** Genuine tokens and their expiry (ms), oldest first. Only ever holds tokens this authority sealed. */
  private readonly genuine = new Map<string, number>();

  constructor(
    key: Uint8Array,
    private readonly randomBytes: (n: number) => Uint8Array,
    /** The instance the tokens are bound to; '' for an unbound authority. */
    instanceId = '',
  ) {
    if (key.length < 32) throw new Error('token key must be at least 32 bytes');
    const id = Buffer.from(instanceId, 'utf8');
    this.boundInstance = Buffer.alloc(2 + id.length);
    this.boundInstance.writeUInt16BE(id.length, 0);
    this.boundInstance.set(id, 2);
    this.hmac = new HmacSha256(key);
  }

  issue(ttlSeconds: number, nowMs: number): string {
    const body = Buffer.alloc(BODY_BYTES);
    body[0] = TOKEN_VERSION;
    body.writeUInt32BE(Math.floor(nowMs / 1000) + ttlSeconds, 1);
    body.set(this.randomBytes(NONCE_BYTES), 5);
    const token = Buffer.concat([body, this.mac(body)]).toString('base64');
    this.remember(token, body.readUInt32BE(1) * 1000);
    return token;
  }

  verify(token: string, nowMs: number): TokenVerdict {
    const knownExpiry = this.genuine.get(token);
    if (knownExpiry !== undefined) {
      if (knownExpiry > nowMs) return 'valid';
      this.genuine.delete(token);
      return 'expired';
    }
    const raw = Buffer.from(token, 'base64');
    if (raw.length !== BODY_BYTES + MAC_BYTES || raw.toString('base64') !== token || raw[0] !== TOKEN_VERSION) {
      return 'malformed';
    }
    const body = raw.subarray(0, BODY_BYTES);
    // Constant-time compare: a timing side channel must not reveal how much of a forged MAC was right.
    if (!timingSafeEqual(raw.subarray(BODY_BYTES), this.mac(body))) return 'forged';
    const expiresAtMs = body.readUInt32BE(1) * 1000;
    if (expiresAtMs <= nowMs) return 'expired';
    this.remember(token, expiresAtMs);
    return 'valid';
  }

  /** Expiry of a token that verify() called valid, in ms since the epoch. */
  expiresAtMs(token: string): number {
    return this.genuine.get(token) ?? Buffer.from(token, 'base64').readUInt32BE(1) * 1000;
  }

  /** How many genuine tokens are remembered (bounded by REMEMBERED_TOKENS). */
  get rememberedCount(): number {
    return this.genuine.size;
  }

  private remember(token: string, expiresAtMs: number): void {
    if (this.genuine.size >= REMEMBERED_TOKENS) {
      const oldest = this.genuine.keys().next().value;
      if (oldest !== undefined) this.genuine.delete(oldest);
    }
    this.genuine.set(token, expiresAtMs);
  }

  private mac(body: Uint8Array): Buffer {
    return this.hmac.digest(this.boundInstance, body).subarray(0, MAC_BYTES);
  }
}

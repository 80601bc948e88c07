// Session tokens that the service need not store: a fixed prefix, expiry and a nonce, sealed with an HMAC under a
// per-boot key that also covers the instance id. Shaped like EC2's (captures 2022-2025: 56 characters of
// URL-safe base64 with "==" padding, i.e. 40 bytes, beginning AQAEA, i.e. bytes 01 00 04 00):
//   01 00 04 00 | expiry, unix seconds (4) | nonce (8) | HMAC-SHA256 truncated (24). Another appliance's key, or another instance served with the
// same key, refuses the token (EC2: a token is valid only on its instance). SDKs reuse one token for hours,
// so tokens recently issued or verified are remembered, a bounded number of them, to skip the HMAC on reuse;
// memory stays bounded whatever the number of sessions.
import { timingSafeEqual } from 'node:crypto';
import { HmacSha256 } from './hmac-sha256.ts';

const PREFIX = Buffer.from([0x01, 0x00, 0x04, 0x00]);
const EXPIRY_OFFSET = PREFIX.length;
const NONCE_BYTES = 8;
const MAC_BYTES = 24;
const BODY_BYTES = PREFIX.length + 4 + NONCE_BYTES; // prefix, expiry (unix seconds), nonce
/** 40 bytes → 56 characters of base64url with padding, as EC2's. */
const TOKEN_CHARS = 56;
const TOKEN_SHAPE = /^AQAEA[A-Za-z0-9_-]{49}==$/;
/** Tokens remembered as genuine; past it the oldest is forgotten (and verified by HMAC again if it returns). */
const REMEMBERED_TOKENS = 4096;

type TokenVerdict = 'valid' | 'malformed' | 'forged' | 'expired';

export class TokenAuthority {
  /** Length-prefixed instance id, so no (instance id, body) pair can collide with another. */
  private readonly boundInstance: Buffer;
  private readonly hmac: HmacSha256;
  /** Genuine tokens and their expiry (ms). Only ever holds tokens this authority sealed. */
  private readonly genuine = new Map<string, number>();
  /**
   * The order they were remembered in, a ring: the oldest is forgotten first. (A Map's first key, after many
   * deletes, is found by stepping over every deleted entry since its last rehash: an O(n) step per token issued.)
   */
  private readonly order = new Array<string | undefined>(REMEMBERED_TOKENS);
  private next = 0;

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
    body.set(PREFIX, 0);
    body.writeUInt32BE(Math.floor(nowMs / 1000) + ttlSeconds, EXPIRY_OFFSET);
    body.set(this.randomBytes(NONCE_BYTES), EXPIRY_OFFSET + 4);
    const token = encode(Buffer.concat([body, this.mac(body)]));
    this.remember(token, body.readUInt32BE(EXPIRY_OFFSET) * 1000);
    return token;
  }

  verify(token: string, nowMs: number): TokenVerdict {
    const knownExpiry = this.genuine.get(token);
    if (knownExpiry !== undefined) {
      if (knownExpiry > nowMs) return 'valid';
      this.genuine.delete(token);
      return 'expired';
    }
    // Strict shape, and the one canonical encoding of the bytes: no second spelling of a token verifies.
    if (token.length !== TOKEN_CHARS || !TOKEN_SHAPE.test(token)) return 'malformed';
    const raw = Buffer.from(token, 'base64url');
    if (
      raw.length !== BODY_BYTES + MAC_BYTES ||
      encode(raw) !== token ||
      !raw.subarray(0, PREFIX.length).equals(PREFIX)
    ) {
      return 'malformed';
    }
    const body = raw.subarray(0, BODY_BYTES);
    // Constant-time compare: a timing side channel must not reveal how much of a forged MAC was right.
    if (!timingSafeEqual(raw.subarray(BODY_BYTES), this.mac(body))) return 'forged';
    const expiresAtMs = body.readUInt32BE(EXPIRY_OFFSET) * 1000;
    if (expiresAtMs <= nowMs) return 'expired';
    this.remember(token, expiresAtMs);
    return 'valid';
  }

  /** Expiry of a token that verify() called valid, in ms since the epoch. */
  expiresAtMs(token: string): number {
    return this.genuine.get(token) ?? Buffer.from(token, 'base64url').readUInt32BE(EXPIRY_OFFSET) * 1000;
  }

  /** How many genuine tokens are remembered (bounded by REMEMBERED_TOKENS). */
  get rememberedCount(): number {
    return this.genuine.size;
  }

  private remember(token: string, expiresAtMs: number): void {
    // A token is remembered only while the map lacks it, so each one in the map holds exactly one slot (an
    // expired one verify() deleted leaves its slot to a delete that finds nothing).
    const oldest = this.order[this.next];
    if (oldest !== undefined) this.genuine.delete(oldest);
    this.order[this.next] = token;
    this.next = (this.next + 1) % REMEMBERED_TOKENS;
    this.genuine.set(token, expiresAtMs);
  }

  private mac(body: Uint8Array): Buffer {
    return this.hmac.digest(this.boundInstance, body).subarray(0, MAC_BYTES);
  }
}

/** base64url with "=" padding, as EC2's tokens are written. */
function encode(bytes: Buffer): string {
  const text = bytes.toString('base64url');
  return text + '='.repeat((4 - (text.length % 4)) % 4);
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { TokenAuthority } from '../../src/imds/index.ts';

const key = new Uint8Array(32).fill(7);
const otherKey = new Uint8Array(32).fill(8);
let counter = 0;
const randomBytes = (n: number) => new Uint8Array(n).fill(++counter);
/** The token's bytes and back, in EC2's spelling (base64url, "=" padded). */
const decode = (token: string) => Buffer.from(token, 'base64url');
const encode = (raw: Buffer) => raw.toString('base64url') + '==';

test('a token issued is valid until its TTL has passed, then expired', () => {
  const authority = new TokenAuthority(key, randomBytes);
  const issuedAt = 1_700_000_000_000;
  const token = authority.issue(60, issuedAt);
  assert.equal(authority.verify(token, issuedAt), 'valid');
  assert.equal(authority.verify(token, issuedAt + 59_000), 'valid');
  assert.equal(authority.verify(token, issuedAt + 60_000), 'expired');
});

test('every token is distinct (fresh nonce) and printable', () => {
  const authority = new TokenAuthority(key, randomBytes);
  const a = authority.issue(21600, 0);
  const b = authority.issue(21600, 0);
  assert.notEqual(a, b);
  assert.match(a, /^[A-Za-z0-9_-]+=*$/);
});

test("tokens are shaped like EC2's: 56 characters of padded base64url beginning AQAEA", () => {
  const authority = new TokenAuthority(key, cryptoRandomBytes, 'i-0b22a22eec53b9321');
  for (let i = 0; i < 200; i++) {
    const token = authority.issue(1 + i * 100, 1_700_000_000_000);
    assert.equal(token.length, 56);
    assert.match(token, /^AQAEA[A-Za-z0-9_-]{49}==$/);
  }
});

test('only the canonical spelling of a token verifies', () => {
  const authority = new TokenAuthority(key, randomBytes);
  let token = authority.issue(60, 0);
  while (!/[-_]/.test(token)) token = authority.issue(60, 0);
  assert.equal(
    authority.verify(token.replaceAll('-', '+').replaceAll('_', '/'), 0),
    'malformed',
    'standard base64 alphabet',
  );
  assert.equal(authority.verify(token.slice(0, -2), 0), 'malformed', 'unpadded');
  assert.equal(authority.verify(` ${token}`, 0), 'malformed');
  const raw = decode(token);
  raw[2] = 5; // another prefix, MAC recomputed or not: not an EC2-shaped token
  assert.equal(authority.verify(encode(raw), 0), 'malformed');
});

test('a token from another appliance key is refused as forged', () => {
  const token = new TokenAuthority(otherKey, randomBytes).issue(60, 0);
  assert.equal(new TokenAuthority(key, randomBytes).verify(token, 0), 'forged');
});

test('tampered, truncated and garbage tokens are refused', () => {
  const authority = new TokenAuthority(key, randomBytes);
  const token = authority.issue(60, 0);
  const raw = decode(token);
  raw[7] ^= 1; // extend the expiry without the key
  assert.equal(authority.verify(encode(raw), 0), 'forged');
  assert.equal(authority.verify(token.slice(0, -4), 0), 'malformed');
  assert.equal(authority.verify('', 0), 'malformed');
  assert.equal(authority.verify('not a token at all', 0), 'malformed');
});

test('a short key is a programmer error', () => {
  assert.throws(() => new TokenAuthority(new Uint8Array(16), randomBytes), /at least 32 bytes/);
});

test('a token is bound to the instance id in its MAC', () => {
  const token = new TokenAuthority(key, randomBytes, 'i-0aaaaaaaaaaaaaaaa').issue(60, 0);
  assert.equal(new TokenAuthority(key, randomBytes, 'i-0aaaaaaaaaaaaaaaa').verify(token, 0), 'valid');
  assert.equal(new TokenAuthority(key, randomBytes, 'i-0bbbbbbbbbbbbbbbb').verify(token, 0), 'forged');
});

test('remembered tokens: bounded, and a forgotten one still verifies by its MAC; forgeries are never remembered', () => {
  const authority = new TokenAuthority(key, cryptoRandomBytes); // 5,000 distinct nonces
  const first = authority.issue(60, 0);
  for (let i = 0; i < 5000; i++) authority.issue(60, 0);
  assert.equal(authority.rememberedCount, 4096);
  assert.equal(authority.verify(first, 59_000), 'valid', 'forgotten, then checked by HMAC and remembered again');
  assert.equal(authority.verify(first, 60_000), 'expired');
  const raw = decode(first);
  raw[7] ^= 1;
  const before = authority.rememberedCount;
  assert.equal(authority.verify(encode(raw), 0), 'forged');
  assert.equal(authority.verify(encode(raw), 0), 'forged', 'still forged the second time');
  assert.equal(authority.rememberedCount, before);
});

test('a token first seen by an authority (not issued there) is verified by MAC, then expires on time', () => {
  const token = new TokenAuthority(key, randomBytes).issue(60, 0);
  const other = new TokenAuthority(key, randomBytes);
  assert.equal(other.expiresAtMs(token), 60_000);
  assert.equal(other.verify(token, 30_000), 'valid');
  assert.equal(other.verify(token, 60_000), 'expired');
  assert.equal(
    other.verify(token, 10_000),
    'valid',
    'an expired answer does not poison a later check at an earlier time',
  );
});

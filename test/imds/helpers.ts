// Shared fixtures: one set of identity keys for the whole run (generation is slow), a fixed clock and request builders.
import { generateIdentityKeys } from '../../src/appliance/boot-engine.ts';
import { ImdsEngine, createIdentitySigner, defaultInstance, RecordingMetrics } from '../../src/imds/index.ts';
import type { IdentitySigner, ImdsRequest, InstanceModel } from '../../src/imds/index.ts';

export const BOOT_MS = Date.parse('2026-11-25T08:00:00Z');
export const NOW_MS = BOOT_MS + 3600_000;

let signer: IdentitySigner | undefined;

export function identitySigner(): IdentitySigner {
  signer ??= createIdentitySigner({ keys: generateIdentityKeys(), nowMs: BOOT_MS });
  return signer;
}

let counter = 0;
export const randomBytes = (n: number): Uint8Array => {
  counter++;
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = (counter * 31 + i * 7) & 0xff;
  return bytes;
};

export const TOKEN_KEY = new Uint8Array(32).fill(1);
export const CREDENTIAL_KEY = new Uint8Array(32).fill(2);

export function makeEngine(
  instance: InstanceModel = defaultInstance(),
  metrics = new RecordingMetrics(),
): {
  engine: ImdsEngine;
  metrics: RecordingMetrics;
} {
  const engine = new ImdsEngine(instance, {
    tokenKey: TOKEN_KEY,
    credentialKey: CREDENTIAL_KEY,
    randomBytes,
    identitySigner: identitySigner(),
    bootWallMs: BOOT_MS,
    metrics,
  });
  return { engine, metrics };
}

export function get(target: string, headers: Array<[string, string]> = []): ImdsRequest {
  return { method: 'GET', target, headers };
}

export function tokenPut(ttl = '21600', headers: Array<[string, string]> = []): ImdsRequest {
  return {
    method: 'PUT',
    target: '/latest/api/token',
    headers: [['x-aws-ec2-metadata-token-ttl-seconds', ttl], ...headers],
  };
}

export function fetchToken(engine: ImdsEngine, wallMs = NOW_MS, ttl = '21600'): string {
  const response = engine.handle(tokenPut(ttl), wallMs);
  if (response.status !== 200) throw new Error(`token PUT gave ${response.status}`);
  return String(response.body);
}

export function bodyText(body: string | Uint8Array): string {
  return typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
}

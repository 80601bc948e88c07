// An engine with fresh per-boot secrets: token and credential keys, and the RSA key that signs the identity
// document. The daemon and the benchmark's node:http baseline start the same engine this way.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { pooledRandomBytes } from './random-pool.ts';
import { ImdsEngine, createIdentitySigner, type InstanceModel, type MetricsSink } from '../imds/index.ts';

export function bootEngine(instance: InstanceModel, metrics: MetricsSink, bootWallMs = Date.now()): ImdsEngine {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return new ImdsEngine(instance, {
    tokenKey: randomBytes(32),
    credentialKey: randomBytes(32),
    randomBytes: pooledRandomBytes(),
    identitySigner: createIdentitySigner({
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      nowMs: bootWallMs,
    }),
    bootWallMs,
    metrics,
  });
}

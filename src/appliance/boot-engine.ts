// An engine with fresh per-boot secrets: token and credential keys, and the lab CA and keys that sign the
// identity document. The daemon and the benchmark's node:http baseline start the same engine this way.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { pooledRandomBytes } from './random-pool.ts';
import {
  IDENTITY_KEY_SPECS,
  ImdsEngine,
  createIdentitySigner,
  type IdentityKeys,
  type InstanceModel,
  type MetricsSink,
} from '../imds/index.ts';

/** Fresh identity keys: the lab CA, RSA for `signature`, DSA for `pkcs7`, RSA-2048 for `rsa2048`. */
export function generateIdentityKeys(): IdentityKeys {
  const pem = (spec: (typeof IDENTITY_KEY_SPECS)[keyof typeof IDENTITY_KEY_SPECS]): string => {
    const { privateKey } =
      spec.type === 'dsa'
        ? generateKeyPairSync('dsa', { modulusLength: spec.modulusLength, divisorLength: spec.divisorLength })
        : generateKeyPairSync('rsa', { modulusLength: spec.modulusLength });
    return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  };
  return {
    ca: pem(IDENTITY_KEY_SPECS.ca),
    signature: pem(IDENTITY_KEY_SPECS.signature),
    pkcs7: pem(IDENTITY_KEY_SPECS.pkcs7),
    rsa2048: pem(IDENTITY_KEY_SPECS.rsa2048),
  };
}

export function bootEngine(instance: InstanceModel, metrics: MetricsSink, bootWallMs = Date.now()): ImdsEngine {
  return new ImdsEngine(instance, {
    tokenKey: randomBytes(32),
    credentialKey: randomBytes(32),
    randomBytes: pooledRandomBytes(),
    identitySigner: createIdentitySigner({ keys: generateIdentityKeys(), nowMs: bootWallMs }),
    bootWallMs,
    metrics,
  });
}

// Role credentials that need no state: time since boot is cut into periods of (lifetime − refresh) seconds, and
// each period's keys are an HMAC of the role and the period index. A set expires `lifetime` after its period
// starts, so the next set appears `refresh` seconds before the current one expires and what is served always
// has an Expiration in the future.
import { createHmac } from 'node:crypto';
import { ec2Json, isoSeconds } from './format.ts';

export interface CredentialSchedule {
  lifetimeSeconds: number;
  refreshSeconds: number;
}

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  token: string;
  lastUpdatedMs: number;
  expirationMs: number;
  period: number;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function derive(key: Uint8Array, label: string, bytes: number): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0; blocks.length * 32 < bytes; i++) {
    blocks.push(createHmac('sha256', key).update(`${label}\0${i}`).digest());
  }
  return Buffer.concat(blocks).subarray(0, bytes);
}

/** Seconds between two credential sets; never below one so a misconfigured role cannot divide by zero. */
export function periodSeconds(schedule: CredentialSchedule): number {
  return Math.max(1, schedule.lifetimeSeconds - schedule.refreshSeconds);
}

/** The credentials of `subject` (e.g. `role:NAME`) current at wallMs. */
export function issueCredentials(
  credentialKey: Uint8Array,
  subject: string,
  schedule: CredentialSchedule,
  bootWallMs: number,
  wallMs: number,
): IssuedCredentials {
  const periodMs = periodSeconds(schedule) * 1000;
  const period = Math.floor((wallMs - bootWallMs) / periodMs);
  const startMs = bootWallMs + period * periodMs;
  const label = `${subject}\0${period}`;
  const idBytes = derive(credentialKey, `akid\0${label}`, 16);
  // STS temporary keys: ASIA + 16 base32 characters.
  const accessKeyId = 'ASIA' + [...idBytes].map((b) => BASE32[b & 31]).join('');
  const secretAccessKey = derive(credentialKey, `secret\0${label}`, 30).toString('base64');
  const token = derive(credentialKey, `token\0${label}`, 318).toString('base64');
  return {
    accessKeyId,
    secretAccessKey,
    token,
    lastUpdatedMs: startMs,
    expirationMs: startMs + Math.max(schedule.lifetimeSeconds, periodSeconds(schedule)) * 1000,
    period,
  };
}

/** Body of iam/security-credentials/ROLE and identity-credentials/ec2/security-credentials/ec2-instance. */
export function credentialsJson(credentials: IssuedCredentials): string {
  return ec2Json([
    ['Code', 'Success'],
    ['LastUpdated', isoSeconds(credentials.lastUpdatedMs)],
    ['Type', 'AWS-HMAC'],
    ['AccessKeyId', credentials.accessKeyId],
    ['SecretAccessKey', credentials.secretAccessKey],
    ['Token', credentials.token],
    ['Expiration', isoSeconds(credentials.expirationMs)],
  ]);
}

// Role credentials that need no state: time since boot is cut into periods of (lifetime − refresh) seconds, and
// each period's keys are an HMAC of the role and the period index. A set expires `lifetime` after its period
// starts, so the next set appears `refresh` seconds before the current one expires and what is served always
// has an Expiration in the future.
import { createHmac } from 'node:crypto';
import { ec2Json, isoSeconds } from './format.ts';
import type { IamRole } from './instance.ts';

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
function periodSeconds(schedule: CredentialSchedule): number {
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

/** Where the role's periods count from: boot (epoch 0), or the last forced rotation and the schedule it set. */
interface CredentialRotation {
  epoch: number;
  baseMs: number;
  schedule?: CredentialSchedule;
}

/**
 * The instance role's credential sets over time: periods counted from boot, restarted by each forced rotation,
 * whose epoch derives keys of its own. Holds no keys, only where the periods start.
 */
export class RoleCredentialIssuer {
  private rotation: CredentialRotation;
  /** The set a forced rotation replaced: a client may still hold it until it expires. */
  private replaced: IssuedCredentials | undefined;

  constructor(
    private readonly credentialKey: Uint8Array,
    private readonly role: IamRole | undefined,
    bootWallMs: number,
  ) {
    this.rotation = { epoch: 0, baseMs: bootWallMs };
  }

  /** The set served at wallMs; undefined without a role. */
  at(wallMs: number): IssuedCredentials | undefined {
    if (this.role === undefined) return undefined;
    const { epoch, baseMs } = this.rotation;
    return issueCredentials(
      this.credentialKey,
      `role:${this.role.name}#${epoch}`,
      this.schedule(this.role),
      baseMs,
      wallMs,
    );
  }

  /** Replaces the set now; a schedule given here (lifetime, lead time as refresh) holds until the next rotation. */
  rotate(wallMs: number, scheduleOverride?: CredentialSchedule): IssuedCredentials | undefined {
    this.replaced = this.recent(wallMs)[0];
    this.rotation = { epoch: this.rotation.epoch + 1, baseMs: wallMs, schedule: scheduleOverride };
    return this.at(wallMs);
  }

  /** The set served at wallMs and the one before it while it has not expired (a rotation's replaced set too). */
  recent(wallMs: number): IssuedCredentials[] {
    const current = this.at(wallMs);
    if (current === undefined || this.role === undefined) return [];
    const previousAt = current.lastUpdatedMs - periodSeconds(this.schedule(this.role)) * 1000;
    const previous = previousAt >= this.rotation.baseMs ? this.at(previousAt) : this.replaced;
    return previous !== undefined && previous.expirationMs > wallMs ? [current, previous] : [current];
  }

  private schedule(role: IamRole): CredentialSchedule {
    return (
      this.rotation.schedule ?? {
        lifetimeSeconds: role.credentialLifetimeSeconds,
        refreshSeconds: role.credentialRefreshSeconds,
      }
    );
  }
}

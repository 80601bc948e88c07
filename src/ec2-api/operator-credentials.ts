// The operator's EC2 API keys: from the config, or generated at start (kept in memory only, shown by
// `imds-hop ec2-api credentials`), and the shapes the AWS CLI accepts them in.
import { randomBytes } from 'node:crypto';
import type { AccessKey } from './authenticate.ts';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Long-term IAM user keys look like AKIA + 16 base32 characters, with a 40-character secret. */
export function generateOperatorKey(random: (n: number) => Uint8Array = randomBytes): AccessKey {
  const id = [...random(16)].map((b) => BASE32[b & 31]).join('');
  const secret = Buffer.from(random(30)).toString('base64');
  return { accessKeyId: `AKIA${id}`, secretAccessKey: secret };
}

export interface CredentialsInfo extends AccessKey {
  region: string;
  /** http://HOST:PORT of the EC2 API listener. */
  endpoint: string;
  generated: boolean;
}

export type CredentialsFormat = 'env' | 'configure';

/** `env`: export lines for a shell; `configure`: `aws configure set` commands for a named profile. */
export function formatCredentials(info: CredentialsInfo, format: CredentialsFormat, profile = 'imds-hop'): string {
  if (format === 'env') {
    return [
      `export AWS_ACCESS_KEY_ID=${info.accessKeyId}`,
      `export AWS_SECRET_ACCESS_KEY=${info.secretAccessKey}`,
      `export AWS_DEFAULT_REGION=${info.region}`,
      `export AWS_ENDPOINT_URL_EC2=${info.endpoint}`,
      '',
    ].join('\n');
  }
  return [
    `aws configure set aws_access_key_id ${info.accessKeyId} --profile ${profile}`,
    `aws configure set aws_secret_access_key ${info.secretAccessKey} --profile ${profile}`,
    `aws configure set region ${info.region} --profile ${profile}`,
    `aws configure set endpoint_url ${info.endpoint} --profile ${profile}`,
    '',
  ].join('\n');
}

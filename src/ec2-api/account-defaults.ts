// Account-level metadata defaults (ModifyInstanceMetadataDefaults), kept in a small JSON file so that they apply
// at the next launch (the next `serve`) as EC2 applies them to instances launched after the change.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AccountMetadataDefaults } from '../imds/index.ts';
import { OperatorError } from '../errors/operator-error.ts';

export const DEFAULT_ACCOUNT_DEFAULTS_FILE = '/var/lib/imds-hop/account-metadata-defaults.json';
const MAX_FILE_BYTES = 4096;

export class AccountDefaultsError extends OperatorError {
  constructor(message: string) {
    super('ACCOUNT_DEFAULTS_INVALID', message);
  }
}

const TOGGLES = ['enabled', 'disabled'];
const RULES: Record<keyof AccountMetadataDefaults, (value: unknown) => boolean> = {
  httpTokens: (value) => value === 'optional' || value === 'required',
  httpPutResponseHopLimit: (value) => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 64,
  httpEndpoint: (value) => TOGGLES.includes(value as string),
  instanceMetadataTags: (value) => TOGGLES.includes(value as string),
};
const EXPECTED: Record<keyof AccountMetadataDefaults, string> = {
  httpTokens: '"optional" or "required"',
  httpPutResponseHopLimit: 'an integer from 1 to 64',
  httpEndpoint: '"enabled" or "disabled"',
  instanceMetadataTags: '"enabled" or "disabled"',
};

/** The one rule for a defaults record, whether it comes from the file or from the API. */
export function validateAccountDefaults(value: unknown): AccountMetadataDefaults {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new AccountDefaultsError('expected a JSON object');
  const result: AccountMetadataDefaults = {};
  for (const [key, field] of Object.entries(value)) {
    if (!Object.hasOwn(RULES, key)) {
      throw new AccountDefaultsError(`unknown key "${key}"; expected ${Object.keys(RULES).join(', ')}`);
    }
    const name = key as keyof AccountMetadataDefaults;
    if (!RULES[name](field)) throw new AccountDefaultsError(`${key} must be ${EXPECTED[name]}, got ${JSON.stringify(field)}`);
    (result as Record<string, unknown>)[name] = field;
  }
  return result;
}

/** The defaults in the file; none when the file does not exist. A present but broken file is an error. */
export function loadAccountDefaults(path: string): AccountMetadataDefaults {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new AccountDefaultsError(`cannot read ${path}: ${(error as Error).message}`);
  }
  if (text.length > MAX_FILE_BYTES) throw new AccountDefaultsError(`${path}: larger than ${MAX_FILE_BYTES} bytes`);
  try {
    return validateAccountDefaults(JSON.parse(text));
  } catch (error) {
    throw new AccountDefaultsError(`${path}: ${(error as Error).message}`);
  }
}

/** Written whole to a temporary file and renamed, so a crash never leaves half a file for the next launch. */
export function saveAccountDefaults(path: string, defaults: AccountMetadataDefaults): void {
  const valid = validateAccountDefaults(defaults);
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(valid, null, 2)}\n`, { mode: 0o644 });
  renameSync(temporary, path);
}

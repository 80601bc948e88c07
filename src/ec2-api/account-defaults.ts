// Account-level metadata defaults (ModifyInstanceMetadataDefaults), kept in a small JSON file so that they apply
// at the next launch (the next `serve`) as EC2 applies them to instances launched after the change.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { METADATA_OPTION_RULES, RuleViolation, type AccountMetadataDefaults } from '../imds/index.ts';
import { OperatorError } from '../errors/operator-error.ts';

export const DEFAULT_ACCOUNT_DEFAULTS_FILE = '/var/lib/imds-hop/account-metadata-defaults.json';
const MAX_FILE_BYTES = 4096;

export class AccountDefaultsError extends OperatorError {
  constructor(message: string) {
    super('ACCOUNT_DEFAULTS_INVALID', message);
  }
}

/** The options an account can default (ModifyInstanceMetadataDefaults), each checked by its option's rule. */
const FIELDS: ReadonlyArray<keyof AccountMetadataDefaults> = [
  'httpTokens',
  'httpPutResponseHopLimit',
  'httpEndpoint',
  'instanceMetadataTags',
];

/** The one rule for a defaults record, whether it comes from the file or from the API. */
export function validateAccountDefaults(value: unknown): AccountMetadataDefaults {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new AccountDefaultsError('expected a JSON object');
  const result: AccountMetadataDefaults = {};
  for (const [key, field] of Object.entries(value)) {
    const name = FIELDS.find((candidate) => candidate === key);
    if (name === undefined) throw new AccountDefaultsError(`unknown key "${key}"; expected ${FIELDS.join(', ')}`);
    try {
      (result as Record<string, unknown>)[name] = METADATA_OPTION_RULES[name].check(field);
    } catch (error) {
      if (error instanceof RuleViolation) throw new AccountDefaultsError(error.restated(key));
      throw error;
    }
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

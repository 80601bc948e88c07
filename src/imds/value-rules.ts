// One definition of each rule for values an operator hands the appliance: the CLI, the config loader, the
// control socket and the engine all check against these, so none can accept what another refuses (a notice of
// 1e300 seconds passed the socket once, and broke every later metadata request with an invalid date).

export class RuleViolation extends Error {
  constructor(
    readonly rule: string,
    message: string,
    /** What would have been accepted, for an error line. */
    readonly expected: string,
  ) {
    super(message);
    this.name = 'RuleViolation';
  }
}

export interface IntegerRule {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** The value itself when it is an integer within min..max; RuleViolation otherwise. */
  check(value: unknown): number;
  /** Canonical decimal text (no sign, exponent, fraction or leading zero) within min..max. */
  fromText(text: string): number;
}

function integerRule(name: string, min: number, max: number): IntegerRule {
  const expected = `an integer from ${min} to ${max}`;
  const check = (value: unknown): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new RuleViolation(name, `${name} must be ${expected}, got ${JSON.stringify(value) ?? String(value)}`, expected);
    }
    return value;
  };
  return {
    name,
    min,
    max,
    check,
    fromText: (text: string) => {
      if (!/^(0|[1-9][0-9]{0,15})$/.test(text)) throw new RuleViolation(name, `${name} must be ${expected}, got ${JSON.stringify(text)}`, expected);
      return check(Number(text));
    },
  };
}

export interface TextRule {
  readonly name: string;
  check(value: unknown): string;
}

function textRule(name: string, pattern: RegExp, expected: string): TextRule {
  return {
    name,
    check: (value: unknown) => {
      if (typeof value !== 'string' || !pattern.test(value)) {
        throw new RuleViolation(name, `${name} must be ${expected}, got ${JSON.stringify(value) ?? String(value)}`, expected);
      }
      return value;
    },
  };
}

export function oneOfRule<T extends string>(name: string, choices: readonly T[]): { readonly name: string; readonly choices: readonly T[]; check(value: unknown): T } {
  return {
    name,
    choices,
    check: (value: unknown) => {
      if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
      throw new RuleViolation(name, `${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(value) ?? String(value)}`, `one of ${choices.join(' | ')}`);
    },
  };
}

/** http-put-response-hop-limit (EC2 API InstanceMetadataOptionsRequest: 1..64). */
export const HOP_LIMIT = integerRule('hop limit', 1, 64);
/** Seconds from now to a spot interruption: EC2 gives two minutes; up to about 11 days lets a lab wait. */
export const NOTICE_SECONDS = integerRule('notice seconds', 0, 999_999);
/** Event times in ms since the epoch: years 1970 to 9999, which every date formatter can print. */
export const EVENT_TIME_MS = integerRule('event time', 0, 253_402_300_799_999);
/** Maintenance descriptions are served verbatim: printable, one line, bounded. */
export const EVENT_DESCRIPTION = textRule('description', /^[^\u0000-\u001f\u007f]{1,256}$/u, '1 to 256 printable characters');
/** Maintenance event ids, as "events list" prints them. */
export const EVENT_ID = textRule('event id', /^[A-Za-z0-9-]{1,64}$/, '1 to 64 letters, digits or dashes');
/** Auto Scaling target lifecycle states (InService, Terminated, Warmed:Running, ...). */
export const LIFECYCLE_STATE = textRule('lifecycle state', /^[A-Za-z][A-Za-z:]{0,63}$/, 'a state name such as InService or Warmed:Running');

// One definition of each rule for values an operator hands the appliance: the CLI, the config loader, the
// control socket, the EC2 API and the engine all check against these, so none can accept what another refuses
// (a notice of 1e300 seconds passed the socket once, and broke every later metadata request with an invalid date;
// a tag key the config accepted was silently left out of tags/instance by the engine).
// The metadata options' rules (hop limit, http-tokens, …) live beside their validation in metadata-options.ts.

import { isIPv4, isIPv6 } from 'node:net';

export class RuleViolation extends Error {
  constructor(
    readonly rule: string,
    /** What would have been accepted, for an error line: "an integer from 1 to 64". */
    readonly expected: string,
    /** The refused value, as it can be printed. */
    readonly got: string,
    /** A value of the right shape outside the allowed range (config errors tell the two apart). */
    readonly outOfRange = false,
  ) {
    super(`${rule} must be ${expected}, got ${got}`);
    this.name = 'RuleViolation';
  }

  /** The same refusal under another name (an option's field, a config key). */
  restated(name: string): string {
    return `${name} must be ${this.expected}, got ${this.got}`;
  }
}

/** Any value, printable in one line of an error. */
function shown(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** A rule: the value itself (or its canonical form) when allowed, RuleViolation otherwise. */
export interface Rule<T> {
  readonly name: string;
  check(value: unknown): T;
}

interface IntegerRule extends Rule<number> {
  readonly min: number;
  readonly max: number;
  /** Canonical decimal text (no sign, exponent, fraction or leading zero) within min..max. */
  fromText(text: string): number;
}

export function integerRule(name: string, min: number, max: number): IntegerRule {
  const expected = `an integer from ${min} to ${max}`;
  const check = (value: unknown): number => {
    if (typeof value !== 'number' || !Number.isInteger(value)) throw new RuleViolation(name, expected, shown(value));
    if (value < min || value > max) throw new RuleViolation(name, expected, shown(value), true);
    return value;
  };
  return {
    name,
    min,
    max,
    check,
    fromText: (text: string) => {
      if (!/^(0|[1-9][0-9]{0,15})$/.test(text)) throw new RuleViolation(name, expected, shown(text));
      return check(Number(text));
    },
  };
}

function textRule(name: string, pattern: RegExp, expected: string): Rule<string> {
  return {
    name,
    check: (value: unknown) => {
      if (typeof value !== 'string' || !pattern.test(value)) throw new RuleViolation(name, expected, shown(value));
      return value;
    },
  };
}

interface OneOfRule<T extends string> extends Rule<T> {
  readonly choices: readonly T[];
}

/** `"a" or "b"`, `one of "a", "b", "c"`. */
function describeChoices(choices: readonly string[]): string {
  const quoted = choices.map((choice) => JSON.stringify(choice));
  return quoted.length === 2 ? `${quoted[0]} or ${quoted[1]}` : `one of ${quoted.join(', ')}`;
}

export function oneOfRule<T extends string>(name: string, choices: readonly T[]): OneOfRule<T> {
  return {
    name,
    choices,
    check: (value: unknown) => {
      if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
      throw new RuleViolation(name, describeChoices(choices), shown(value));
    },
  };
}

// ---- instance events -------------------------------------------------------------------------------------------

/** spot/instance-action's actions (EC2 User Guide, "Spot Instance interruption notices"). */
export const SPOT_ACTION = oneOfRule('spot action', ['terminate', 'stop', 'hibernate'] as const);
export type SpotAction = (typeof SPOT_ACTION.choices)[number];
/** Scheduled event codes (EC2 User Guide, "Scheduled events for your instances"). */
export const MAINTENANCE_CODE = oneOfRule('maintenance code', [
  'instance-reboot',
  'system-reboot',
  'system-maintenance',
  'instance-retirement',
  'instance-stop',
] as const);
export type MaintenanceCode = (typeof MAINTENANCE_CODE.choices)[number];

/** Seconds from now to a spot interruption: EC2 gives two minutes; up to about 11 days lets a lab wait. */
export const NOTICE_SECONDS = integerRule('notice seconds', 0, 999_999);
/** Event times in ms since the epoch: years 1970 to 9999, which every date formatter can print. */
export const EVENT_TIME_MS = integerRule('event time', 0, 253_402_300_799_999);
/** Maintenance descriptions are served verbatim: printable, one line, bounded. */
export const EVENT_DESCRIPTION = textRule(
  'description',
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this rule refuses
  /^[^\u0000-\u001f\u007f]{1,256}$/u,
  '1 to 256 printable characters',
);
/** Maintenance event ids, as "events list" prints them. */
export const EVENT_ID = textRule('event id', /^[A-Za-z0-9-]{1,64}$/, '1 to 64 letters, digits or dashes');
/** The values autoscaling/target-lifecycle-state takes (EC2 User Guide, instance metadata categories). */
export const LIFECYCLE_STATE = oneOfRule('lifecycle state', [
  'InService',
  'Standby',
  'Terminated',
  'Detached',
  'Warmed:Hibernated',
  'Warmed:Running',
  'Warmed:Stopped',
  'Warmed:Terminated',
] as const);

// ---- the appliance --------------------------------------------------------------------------------------------

export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * Where a listener binds (metrics, the EC2 API; their flags and config keys): HOST:PORT with an IPv4 address,
 * localhost or a bracketed IPv6 address, port 1..65535. Whether a non-loopback host is allowed is the caller's.
 */
export const LISTEN_ADDRESS: Rule<ListenAddress> = {
  name: 'listen address',
  check: (value: unknown) => {
    const violation = new RuleViolation(
      'listen address',
      'HOST:PORT with an IPv4 address, localhost or [IPv6], e.g. 127.0.0.1:9469',
      shown(value),
    );
    const match = typeof value === 'string' ? /^(\[[^\]]+\]|[^:[\]\s]+):([0-9]{1,5})$/.exec(value) : null;
    const port = Number(match?.[2]);
    if (match === null || port < 1 || port > 65535) throw violation;
    const text = match[1] as string;
    const host = text.startsWith('[') ? text.slice(1, -1) : text;
    if (text.startsWith('[') ? !isIPv6(host) : host !== 'localhost' && !isIPv4(host)) throw violation;
    return { host, port };
  },
};

/** IP TTL of every packet but token responses ([appliance] default-ttl, serve --default-ttl): never 0. */
export const DEFAULT_TTL = integerRule('default TTL', 1, 255);
/** Seed of the fault rules' probability rolls ([faults] seed, serve --fault-seed, faults seed): 32 bits. */
export const FAULT_SEED = integerRule('fault seed', 0, 0xffff_ffff);

// ---- the instance ----------------------------------------------------------------------------------------------

/**
 * Tag keys while tags are exposed in metadata (EC2 User Guide, "View tags for your EC2 instances using instance
 * metadata"): letters, digits and + - = . , _ : @ only, no spaces or "/", not ".", ".." or "_index"; at most 128
 * characters (EC2 User Guide, "Tag restrictions"). EC2 refuses the launch otherwise, so the config refuses it too.
 */
const MAX_TAG_KEY_CHARS = 128;
export const TAG_KEY: Rule<string> = {
  name: 'tag key',
  check: (value: unknown) => {
    const expected = 'letters, digits and + - = . , _ : @ only; no "/" or spaces; not ".", ".." or "_index"';
    if (
      typeof value !== 'string' ||
      !/^[A-Za-z0-9+\-=.,_:@]+$/.test(value) ||
      value === '.' ||
      value === '..' ||
      value === '_index'
    ) {
      throw new RuleViolation('tag key', expected, shown(value));
    }
    if (value.length > MAX_TAG_KEY_CHARS)
      throw new RuleViolation(
        'tag key',
        `at most ${MAX_TAG_KEY_CHARS} characters`,
        `a key of ${value.length} characters`,
        true,
      );
    return value;
  },
};

/**
 * A MAC address the appliance sends from or serves: six colon-separated hex pairs, unicast (a multicast source
 * MAC would make every frame sent from it invalid). Returned in lower case, as IMDS serves MACs.
 */
export const UNICAST_MAC: Rule<string> = {
  name: 'MAC address',
  check: (value: unknown) => {
    if (typeof value !== 'string' || !/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(value)) {
      throw new RuleViolation('MAC address', 'xx:xx:xx:xx:xx:xx', shown(value));
    }
    if ((parseInt(value.slice(0, 2), 16) & 1) !== 0) {
      throw new RuleViolation('MAC address', 'unicast, not multicast: first octet even', shown(value));
    }
    return value.toLowerCase();
  },
};

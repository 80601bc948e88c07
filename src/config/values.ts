// Value parsers: text in, typed value out, or a ValueProblem saying what is wrong and what was expected.
// They know nothing of files or lines; the loader attaches those.
import { isIPv6 } from 'node:net';
import { ValueProblem } from './config-error.ts';
import { RuleViolation, UNICAST_MAC } from '../imds/value-rules.ts';

const show = (text: string) => JSON.stringify(text);

export function integer(text: string, min: number, max: number): number {
  // Canonical decimal only: `0x10`, `1e3`, `+5`, `010` are surprises in a config file.
  if (!/^(0|[1-9][0-9]*)$/.test(text)) {
    throw new ValueProblem('invalid-value', `${show(text)} is not an integer`, `whole number ${min}..${max}`);
  }
  const n = Number(text);
  if (n < min || n > max) throw new ValueProblem('out-of-range', `${text} is out of range`, `${min}..${max}`);
  return n;
}

export function oneOf<T extends string>(text: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(text)) return text as T;
  throw new ValueProblem('invalid-value', `${show(text)} is not allowed`, `one of ${choices.join(' | ')}`);
}

/** The one rule for `[appliance] connection` and `serve --connection`. */
export const CONNECTION_POLICIES = ['close', 'keep-alive'] as const;
export type ConnectionPolicy = (typeof CONNECTION_POLICIES)[number];
export function connectionPolicy(text: string): ConnectionPolicy {
  return oneOf(text, CONNECTION_POLICIES);
}

export function boolean(text: string): boolean {
  return oneOf(text, ['true', 'false'] as const) === 'true';
}

export function ipv4(text: string): string {
  const octets = text.split('.');
  // No leading zeros: 010 is octal to inet_aton and decimal to humans.
  if (octets.length !== 4 || !octets.every((o) => /^(0|[1-9][0-9]{0,2})$/.test(o) && Number(o) <= 255)) {
    throw new ValueProblem('invalid-value', `${show(text)} is not an IPv4 address`, 'dotted quad such as 172.31.16.10');
  }
  return text;
}

export function ipv6(text: string): string {
  if (!isIPv6(text))
    throw new ValueProblem('invalid-value', `${show(text)} is not an IPv6 address`, 'e.g. 2600:1f18::10');
  return text.toLowerCase();
}

export function cidr4(text: string): string {
  const m = /^([^/]+)\/(0|[1-9][0-9]?)$/.exec(text);
  const expected = 'IPv4 network such as 172.31.0.0/16';
  if (m === null || Number(m[2]) > 32)
    throw new ValueProblem('invalid-value', `${show(text)} is not an IPv4 CIDR block`, expected);
  try {
    ipv4(m[1]);
  } catch {
    throw new ValueProblem('invalid-value', `${show(text)} is not an IPv4 CIDR block`, expected);
  }
  const prefix = Number(m[2]);
  const address = m[1].split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const hostBits = 2 ** (32 - prefix);
  if (address % hostBits !== 0) {
    throw new ValueProblem('invalid-value', `${text} has host bits set`, `network address of the /${prefix}`);
  }
  return text;
}

/**
 * A value checked by a rule the CLI, the control socket and the engine share (imds/value-rules.ts,
 * imds/metadata-options.ts), its refusal told as a config problem.
 */
export function byRule<T>(check: (text: string) => T): (text: string) => T {
  return (text: string) => {
    try {
      return check(text);
    } catch (error) {
      if (!(error instanceof RuleViolation)) throw error;
      if (error.outOfRange) throw new ValueProblem('out-of-range', `${error.got} is out of range`, error.expected);
      throw new ValueProblem('invalid-value', `${error.got} is not a valid ${error.rule}`, error.expected);
    }
  };
}

/** Unicast, lower-cased (IMDS serves MACs in lower case): the rule `serve --mac` applies too. */
export const mac = byRule(UNICAST_MAC.check);

/** EC2 resource ids: prefix, dash, 8 (legacy) or 17 lower-case hex digits. */
export function resourceId(text: string, prefix: string): string {
  if (!new RegExp(`^${prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`).test(text)) {
    throw new ValueProblem(
      'invalid-value',
      `${show(text)} is not a valid ${prefix}- id`,
      `${prefix}- followed by 8 or 17 lower-case hex digits`,
    );
  }
  return text;
}

export function accountId(text: string): string {
  if (!/^[0-9]{12}$/.test(text))
    throw new ValueProblem('invalid-value', `${show(text)} is not an AWS account id`, '12 digits');
  return text;
}

export function region(text: string): string {
  if (!/^[a-z]{2}(-[a-z]+)+-[0-9]+$/.test(text)) {
    throw new ValueProblem(
      'invalid-value',
      `${show(text)} is not a region name`,
      'e.g. us-east-1, eu-west-3, us-gov-west-1',
    );
  }
  return text;
}

export function availabilityZone(text: string): string {
  if (!/^[a-z]{2}(-[a-z0-9]+)+[a-z]$/.test(text)) {
    throw new ValueProblem(
      'invalid-value',
      `${show(text)} is not an availability zone name`,
      'region plus a letter, e.g. us-east-1a',
    );
  }
  return text;
}

export function availabilityZoneId(text: string): string {
  if (!/^[a-z]+[0-9]+(-[a-z0-9]+)*-az[0-9]+$/.test(text)) {
    throw new ValueProblem('invalid-value', `${show(text)} is not an availability zone id`, 'e.g. use1-az4');
  }
  return text;
}

export function instanceType(text: string): string {
  if (!/^[a-z][a-z0-9-]*\.[a-z0-9-]+$/.test(text)) {
    throw new ValueProblem('invalid-value', `${show(text)} is not an instance type`, 'family.size, e.g. t3.micro');
  }
  return text;
}

export function hostname(text: string): string {
  const labels = text.split('.');
  if (text.length > 253 || !labels.every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(l))) {
    throw new ValueProblem(
      'invalid-value',
      `${show(text)} is not a DNS host name`,
      'dot-separated labels of letters, digits and inner dashes',
    );
  }
  return text;
}

export function isoUtc(text: string): string {
  // IMDS prints pending-time as second-precision UTC; anything else would be served verbatim and confuse clients.
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z$/.exec(text);
  const expected = 'ISO-8601 UTC such as 2026-11-25T08:00:00Z';
  if (m === null) throw new ValueProblem('invalid-value', `${show(text)} is not a UTC timestamp`, expected);
  const date = new Date(text);
  if (Number.isNaN(date.getTime()) || date.toISOString().replace('.000Z', 'Z') !== text) {
    throw new ValueProblem('invalid-value', `${show(text)} is not a real date and time`, expected);
  }
  return text;
}

/** Comma-separated list; an empty value is the empty list. */
export function list<T>(text: string, item: (text: string) => T): T[] {
  if (text.trim() === '') return [];
  return text.split(',').map((part) => {
    const trimmed = part.trim();
    if (trimmed === '')
      throw new ValueProblem('invalid-value', `empty item in list ${show(text)}`, 'comma-separated values');
    return item(trimmed);
  });
}

export function nonEmpty(text: string, what: string): string {
  if (text === '') throw new ValueProblem('invalid-value', `${what} is empty`, `a ${what}`);
  return text;
}

/** Linux interface names: IFNAMSIZ-1 bytes, no slash or whitespace. */
export function interfaceName(text: string): string {
  if (!/^[^\s/:]{1,15}$/.test(text) || text === '.' || text === '..') {
    throw new ValueProblem(
      'invalid-value',
      `${show(text)} is not a network interface name`,
      '1..15 characters, no "/", ":" or spaces',
    );
  }
  return text;
}

// A fault rule: which requests it matches, what it does to them, how often and for how long. This file is the one
// definition of a rule's keys and values: the ini `[fault "NAME"]` section, `imds-hop faults add` and the control
// socket all hand it the same text fields.
import { compilePathPattern, type PathPattern } from './path-pattern.ts';
import { FaultSpecError, checkKnownKeys, choiceField, integerField } from './spec-error.ts';

const FAULT_ACTIONS = [
  'delay',
  'drop',
  'reset',
  'close',
  'status',
  'truncate',
  'expired-credentials',
  'credential-error',
] as const;
type FaultActionKind = (typeof FAULT_ACTIONS)[number];

export type FaultAction =
  /** Answer normally, `delayMs` late. */
  | { kind: 'delay' }
  /** No answer at all; the connection stays open (the client times out). */
  | { kind: 'drop' }
  /** RST instead of an answer. */
  | { kind: 'reset' }
  /** FIN instead of an answer. */
  | { kind: 'close' }
  /** This status with EC2's error page instead of the answer. */
  | { kind: 'status'; status: number }
  /** The answer cut after `bytes` bytes of body, then FIN. */
  | { kind: 'truncate'; bytes: number }
  /** Role credentials whose Expiration passed `expiredSeconds` ago. */
  | { kind: 'expired-credentials'; expiredSeconds: number }
  /** 200 with {"Code": code, "Message": message}: what IMDS sends when it cannot get the role's credentials. */
  | { kind: 'credential-error'; code: string; message: string };

export type TokenCondition = 'any' | 'present' | 'absent';

export interface FaultRule {
  name: string;
  /** Upper-case methods; empty matches every method. */
  methods: readonly string[];
  path: PathPattern | undefined;
  token: TokenCondition;
  /** An IPv4/IPv6 address, an IPv4 CIDR block or a MAC; undefined matches every source. */
  source: string | undefined;
  action: FaultAction;
  /** Waited before the action (for `delay`, the whole point). */
  delayMs: number;
  /** 0..1, rolled with the rule's own seeded stream. */
  probability: number;
  /** Injections before the rule retires; undefined = unlimited. */
  count: number | undefined;
  /** The rule applies from `startAfterMs` after it was added, for `durationMs` (undefined = for ever). */
  startAfterMs: number;
  durationMs: number | undefined;
}

export const RULE_KEYS = [
  'method',
  'path',
  'token',
  'source',
  'action',
  'delay-ms',
  'status',
  'truncate-bytes',
  'expired-seconds',
  'code',
  'message',
  'probability',
  'count',
  'start-after',
  'duration',
] as const;

/** Keys that only one action reads; given with another action they are a mistake. */
const ACTION_KEYS: Record<string, FaultActionKind> = {
  status: 'status',
  'truncate-bytes': 'truncate',
  'expired-seconds': 'expired-credentials',
  code: 'credential-error',
  message: 'credential-error',
};

const MAX_DELAY_MS = 600_000;
const MAX_SECONDS = 7 * 24 * 3600;
const RULE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HTTP_METHOD = /^[A-Z]{1,16}$/;

function checkRuleName(name: string): string {
  if (!RULE_NAME.test(name)) {
    throw new FaultSpecError(
      'name',
      `${JSON.stringify(name)} is not a rule name`,
      '1..64 of letters, digits, ".", "_" and "-", starting with a letter or digit',
    );
  }
  return name;
}

/** Parses a rule from its text fields; throws FaultSpecError naming the first bad key. */
export function parseFaultRule(name: string, fields: Readonly<Record<string, string>>): FaultRule {
  checkRuleName(name);
  checkKnownKeys(fields, RULE_KEYS);
  const get = (key: (typeof RULE_KEYS)[number]): string | undefined =>
    Object.hasOwn(fields, key) ? fields[key] : undefined;
  const actionText = get('action');
  if (actionText === undefined) throw new FaultSpecError('action', 'missing', `one of ${FAULT_ACTIONS.join(' | ')}`);
  const kind = choiceField('action', actionText, FAULT_ACTIONS);
  for (const [key, owner] of Object.entries(ACTION_KEYS)) {
    if (get(key as (typeof RULE_KEYS)[number]) !== undefined && owner !== kind) {
      throw new FaultSpecError(key, `only used with action = ${owner}`, `remove it, or set action = ${owner}`);
    }
  }
  const delayText = get('delay-ms');
  const delayMs = delayText === undefined ? 0 : integerField('delay-ms', delayText, 0, MAX_DELAY_MS);
  if (kind === 'delay' && delayMs === 0)
    throw new FaultSpecError('delay-ms', 'missing or 0 with action = delay', `1..${MAX_DELAY_MS}`);
  if (kind === 'drop' && delayMs > 0)
    throw new FaultSpecError(
      'delay-ms',
      'a dropped request is never answered, so there is nothing to delay',
      'remove delay-ms',
    );

  let action: FaultAction;
  switch (kind) {
    case 'status': {
      const text = get('status');
      if (text === undefined)
        throw new FaultSpecError('status', 'missing with action = status', 'an HTTP status 400..599');
      action = { kind, status: integerField('status', text, 400, 599) };
      break;
    }
    case 'truncate': {
      const text = get('truncate-bytes');
      if (text === undefined)
        throw new FaultSpecError(
          'truncate-bytes',
          'missing with action = truncate',
          'body bytes to send before closing',
        );
      action = { kind, bytes: integerField('truncate-bytes', text, 0, 1 << 20) };
      break;
    }
    case 'expired-credentials': {
      const text = get('expired-seconds');
      action = {
        kind,
        expiredSeconds: text === undefined ? 60 : integerField('expired-seconds', text, 1, MAX_SECONDS),
      };
      break;
    }
    case 'credential-error': {
      const code = get('code') ?? 'Failure';
      if (!/^[A-Za-z][A-Za-z0-9.]{0,63}$/.test(code))
        throw new FaultSpecError(
          'code',
          `${JSON.stringify(code)} is not an error code`,
          'a word such as Failure or AssumeRoleUnauthorizedAccess',
        );
      const message = get('message') ?? 'Instance profile credentials are unavailable';
      // eslint-disable-next-line no-control-regex -- control characters are what this check rejects
      if (message.length === 0 || message.length > 512 || /[\u0000-\u001f\u007f]/.test(message)) {
        throw new FaultSpecError(
          'message',
          'empty, too long or with control characters',
          '1..512 printable characters',
        );
      }
      action = { kind, code, message };
      break;
    }
    default:
      action = { kind };
  }

  const methodText = get('method');
  const methods =
    methodText === undefined || methodText === '' ? [] : methodText.split(',').map((m) => m.trim().toUpperCase());
  for (const method of methods) {
    if (!HTTP_METHOD.test(method))
      throw new FaultSpecError(
        'method',
        `${JSON.stringify(method)} is not an HTTP method`,
        'e.g. GET, PUT or GET,HEAD',
      );
  }
  const pathText = get('path');
  if (pathText !== undefined && !/^\/[\x21-\x7e]*$/.test(pathText)) {
    throw new FaultSpecError(
      'path',
      `${JSON.stringify(pathText)} is not a path`,
      'starts with "/"; a prefix, or a glob with * ** ?',
    );
  }
  const probabilityText = get('probability');
  let probability = 1;
  if (probabilityText !== undefined) {
    probability = /^(0|1|0?\.[0-9]{1,6}|1\.0{1,6})$/.test(probabilityText) ? Number(probabilityText) : NaN;
    if (Number.isNaN(probability))
      throw new FaultSpecError(
        'probability',
        `${JSON.stringify(probabilityText)} is not a probability`,
        'a decimal 0..1 such as 0.25',
      );
  }
  const countText = get('count');
  const startText = get('start-after');
  const durationText = get('duration');
  return {
    name,
    methods,
    path: pathText === undefined ? undefined : compilePathPattern(pathText),
    token: choiceField('token', get('token') ?? 'any', ['any', 'present', 'absent'] as const),
    source: get('source') === undefined ? undefined : parseSource(get('source') as string),
    action,
    delayMs,
    probability,
    count: countText === undefined ? undefined : integerField('count', countText, 1, 1_000_000_000),
    startAfterMs: startText === undefined ? 0 : integerField('start-after', startText, 0, MAX_SECONDS) * 1000,
    durationMs: durationText === undefined ? undefined : integerField('duration', durationText, 1, MAX_SECONDS) * 1000,
  };
}

function parseSource(text: string): string {
  const lower = text.toLowerCase();
  const ipv4 = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;
  const [address, prefix] = lower.split('/');
  if (ipv4.test(address as string) && (prefix === undefined || /^([0-9]|[12][0-9]|3[0-2])$/.test(prefix))) return lower;
  if (prefix === undefined && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(lower)) return lower;
  if (prefix === undefined && /^[0-9a-f:]{2,39}$/.test(lower) && lower.includes(':')) return lower;
  throw new FaultSpecError(
    'source',
    `${JSON.stringify(text)} is not a source`,
    'an IPv4 address or CIDR block, an IPv6 address or a MAC',
  );
}

/** The rule as the text fields that would define it again: what `faults list` shows. */
export function ruleFields(rule: FaultRule): Record<string, string> {
  const fields: Record<string, string> = { action: rule.action.kind };
  if (rule.methods.length > 0) fields.method = rule.methods.join(',');
  if (rule.path) fields.path = rule.path.text;
  if (rule.token !== 'any') fields.token = rule.token;
  if (rule.source) fields.source = rule.source;
  if (rule.delayMs > 0) fields['delay-ms'] = String(rule.delayMs);
  const action = rule.action;
  if (action.kind === 'status') fields.status = String(action.status);
  if (action.kind === 'truncate') fields['truncate-bytes'] = String(action.bytes);
  if (action.kind === 'expired-credentials') fields['expired-seconds'] = String(action.expiredSeconds);
  if (action.kind === 'credential-error') Object.assign(fields, { code: action.code, message: action.message });
  if (rule.probability !== 1) fields.probability = String(rule.probability);
  if (rule.count !== undefined) fields.count = String(rule.count);
  if (rule.startAfterMs > 0) fields['start-after'] = String(rule.startAfterMs / 1000);
  if (rule.durationMs !== undefined) fields.duration = String(rule.durationMs / 1000);
  return fields;
}

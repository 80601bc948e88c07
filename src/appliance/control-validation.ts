// Every control-socket request is checked, field by field, against the same rules the CLI and the config apply
// (imds/value-rules.ts, imds/metadata-options.ts) before anything acts on it: the socket is root-only, but root
// makes typos and scripts send what the CLI would never build.
import { CERTIFICATE_KINDS } from '../imds/identity.ts';
import type { MetadataOptions } from '../imds/instance.ts';
import { METADATA_OPTION_RULES } from '../imds/metadata-options.ts';
import {
  EVENT_DESCRIPTION,
  EVENT_ID,
  EVENT_TIME_MS,
  LIFECYCLE_STATE,
  MAINTENANCE_CODE,
  NOTICE_SECONDS,
  RuleViolation,
  SPOT_ACTION,
  oneOfRule,
} from '../imds/value-rules.ts';
import type { ControlRequest, EventCommand } from './control-protocol.ts';

export class ControlValidationError extends Error {
  constructor(
    readonly code: 'BAD_REQUEST' | 'BAD_VALUE',
    message: string,
  ) {
    super(message);
    this.name = 'ControlValidationError';
  }
}

const CERTIFICATE_KIND = oneOfRule('certificate kind', CERTIFICATE_KINDS);

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Refuses fields nobody defined: a misspelt field silently ignored would be worse than an error. */
function onlyFields(object: Fields, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) throw new ControlValidationError('BAD_REQUEST', `${where}: unknown field "${key}"`);
  }
}

function ruled<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof RuleViolation) throw new ControlValidationError('BAD_VALUE', error.message);
    throw error;
  }
}

/** Each option by its rule (metadata-options.ts), the one the engine applies again when it takes the patch. */
function optionsPatch(set: Fields): Partial<MetadataOptions> {
  onlyFields(set, Object.keys(METADATA_OPTION_RULES), 'options');
  const patch: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(set)) {
    if (value !== undefined)
      patch[field] = ruled(() => METADATA_OPTION_RULES[field as keyof MetadataOptions].check(value));
  }
  return patch as Partial<MetadataOptions>;
}

function eventCommand(value: unknown): EventCommand {
  if (!isObject(value)) throw new ControlValidationError('BAD_REQUEST', 'events: "command" must be an object');
  const optional = <T>(field: string, check: (v: unknown) => T): T | undefined =>
    value[field] === undefined ? undefined : ruled(() => check(value[field]));
  switch (value.kind) {
    case 'spot-interruption':
      onlyFields(value, ['kind', 'action', 'noticeSeconds'], 'spot-interruption');
      return {
        kind: 'spot-interruption',
        action: ruled(() => SPOT_ACTION.check(value.action)),
        noticeSeconds: ruled(() => NOTICE_SECONDS.check(value.noticeSeconds)),
      };
    case 'maintenance': {
      onlyFields(value, ['kind', 'code', 'description', 'notBeforeMs', 'notAfterMs'], 'maintenance');
      const command: Extract<EventCommand, { kind: 'maintenance' }> = {
        kind: 'maintenance',
        code: ruled(() => MAINTENANCE_CODE.check(value.code)),
      };
      const description = optional('description', EVENT_DESCRIPTION.check);
      const notBeforeMs = optional('notBeforeMs', EVENT_TIME_MS.check);
      const notAfterMs = optional('notAfterMs', EVENT_TIME_MS.check);
      if (description !== undefined) command.description = description;
      if (notBeforeMs !== undefined) command.notBeforeMs = notBeforeMs;
      if (notAfterMs !== undefined) command.notAfterMs = notAfterMs;
      return command;
    }
    case 'cancel-maintenance':
      onlyFields(value, ['kind', 'eventId'], 'cancel-maintenance');
      return { kind: 'cancel-maintenance', eventId: ruled(() => EVENT_ID.check(value.eventId)) };
    case 'lifecycle-state':
      onlyFields(value, ['kind', 'state'], 'lifecycle-state');
      return { kind: 'lifecycle-state', state: optional('state', LIFECYCLE_STATE.check) };
    case 'rebalance':
    case 'clear':
    case 'list':
      onlyFields(value, ['kind'], value.kind);
      return { kind: value.kind };
    default:
      throw new ControlValidationError(
        'BAD_REQUEST',
        `events: unknown command kind ${JSON.stringify(value.kind) ?? 'undefined'}`,
      );
  }
}

/** A parsed JSON value as a ControlRequest, or ControlValidationError saying which field is wrong. */
export function parseControlRequest(value: unknown): ControlRequest {
  if (!isObject(value)) throw new ControlValidationError('BAD_REQUEST', 'control request must be a JSON object');
  switch (value.op) {
    case 'options':
      onlyFields(value, ['op', 'set'], 'options');
      if (value.set === undefined) return { op: 'options' };
      if (!isObject(value.set)) throw new ControlValidationError('BAD_REQUEST', 'options: "set" must be an object');
      return { op: 'options', set: optionsPatch(value.set) };
    case 'events':
      onlyFields(value, ['op', 'command'], 'events');
      return { op: 'events', command: eventCommand(value.command) };
    case 'identity-cert':
      onlyFields(value, ['op', 'kind'], 'identity-cert');
      return value.kind === undefined
        ? { op: 'identity-cert' }
        : { op: 'identity-cert', kind: ruled(() => CERTIFICATE_KIND.check(value.kind)) };
    case 'rotate-credentials': {
      onlyFields(value, ['op', 'lifetimeSeconds', 'leadTimeSeconds'], 'rotate-credentials');
      // The schedule's values are checked where the schedule is built (daemon credentialSchedule).
      const request: Extract<ControlRequest, { op: 'rotate-credentials' }> = { op: 'rotate-credentials' };
      if (value.lifetimeSeconds !== undefined) request.lifetimeSeconds = value.lifetimeSeconds as number;
      if (value.leadTimeSeconds !== undefined) request.leadTimeSeconds = value.leadTimeSeconds as number;
      return request;
    }
    case 'faults':
      onlyFields(value, ['op', 'command'], 'faults');
      if (!isObject(value.command))
        throw new ControlValidationError('BAD_REQUEST', 'faults: "command" must be an object');
      // Fault commands are checked by the fault injector's own parser (handleFaultCommand).
      return { op: 'faults', command: value.command as Extract<ControlRequest, { op: 'faults' }>['command'] };
    case 'throttle':
      onlyFields(value, ['op', 'set'], 'throttle');
      if (value.set === undefined) return { op: 'throttle' };
      if (!isObject(value.set)) throw new ControlValidationError('BAD_REQUEST', 'throttle: "set" must be an object');
      return { op: 'throttle', set: value.set as Record<string, string> };
    case 'metrics':
    case 'status':
    case 'callers':
    case 'ec2-api-credentials':
      onlyFields(value, ['op'], value.op);
      return { op: value.op };
    default:
      throw new ControlValidationError('BAD_REQUEST', 'unknown control operation');
  }
}

// The control socket's fault and throttle commands: text fields in, parsed by the fault layer's one definition
// of each rule, a FaultSpecError out as BAD_FAULT naming the key.
import type { Logger } from 'pino';
import { FaultSpecError } from '../faults/index.ts';
import { FAULT_SEED, RuleViolation } from '../imds/value-rules.ts';
import { ControlRequestError } from './control-server.ts';
import type { FaultCommand } from './control-protocol.ts';
import type { FaultInjector } from './fault-injector.ts';

function textFields(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ControlRequestError('BAD_REQUEST', 'fields must be an object of text values');
  const fields: Record<string, string> = Object.create(null);
  for (const [key, text] of Object.entries(value)) {
    if (typeof text !== 'string')
      throw new ControlRequestError('BAD_FAULT', `${key}: must be text, got ${JSON.stringify(text)}`);
    fields[key] = text;
  }
  return fields;
}

function checked<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof FaultSpecError || error instanceof RuleViolation)
      throw new ControlRequestError('BAD_FAULT', error.message);
    throw error;
  }
}

export function handleFaultCommand(
  command: FaultCommand,
  injector: FaultInjector,
  nowMs: number,
  log: Logger,
): unknown {
  switch (command?.kind) {
    case 'add': {
      const status = checked(() => injector.addRule(String(command.name), textFields(command.fields), nowMs));
      log.info({ rule: status.name, fields: status.fields }, 'fault rule added');
      return status;
    }
    case 'list':
      return injector.listRules(nowMs);
    case 'clear': {
      const removed = injector.clearRules(command.name);
      if (command.name !== undefined && removed === 0)
        throw new ControlRequestError('NO_SUCH_RULE', `no fault rule named ${command.name}`);
      log.info({ rule: command.name ?? '(all)', removed }, 'fault rules cleared');
      return { removed };
    }
    case 'early-boot': {
      const settings = checked(() => injector.armEarlyBoot(textFields(command.fields), nowMs));
      log.info({ ...settings }, 'early-boot window armed');
      return {
        refuseSeconds: settings.refuseMs / 1000,
        errorSeconds: settings.errorMs / 1000,
        errorStatus: settings.errorStatus,
      };
    }
    case 'seed': {
      checked(() => FAULT_SEED.check(command.seed));
      injector.reseed(command.seed);
      log.info({ seed: command.seed }, 'fault seed set');
      return { seed: command.seed };
    }
    default:
      throw new ControlRequestError(
        'BAD_REQUEST',
        'unknown faults command; expected add, list, clear, early-boot or seed',
      );
  }
}

export function handleThrottle(set: Record<string, string> | undefined, injector: FaultInjector, log: Logger): unknown {
  if (set === undefined) return injector.throttleSettings();
  const before = injector.throttleSettings();
  const after = checked(() => injector.setThrottle(textFields(set)));
  log.info({ before, after }, 'throttle changed');
  return after;
}

// EC2's unsteady first seconds after launch, as reported by users: connections refused for a while, then errors
// (401, or 404 while the metadata is not yet in place), then normal service. A window is armed at a start time;
// its phase at any time is a pure function of the clock.
import { FaultSpecError, checkKnownKeys, choiceField, integerField } from './spec-error.ts';

export interface EarlyBootSettings {
  refuseMs: number;
  errorMs: number;
  errorStatus: 401 | 404;
}

type BootPhase = 'refuse' | 'error' | 'normal';

export const EARLY_BOOT_KEYS = ['refuse-seconds', 'error-seconds', 'error-status'] as const;
const MAX_SECONDS = 3600;

export function parseEarlyBoot(fields: Readonly<Record<string, string>>): EarlyBootSettings {
  checkKnownKeys(fields, EARLY_BOOT_KEYS);
  const seconds = (key: string) =>
    Object.hasOwn(fields, key) ? integerField(key, fields[key] as string, 0, MAX_SECONDS) : 0;
  const settings: EarlyBootSettings = {
    refuseMs: seconds('refuse-seconds') * 1000,
    errorMs: seconds('error-seconds') * 1000,
    errorStatus: Object.hasOwn(fields, 'error-status')
      ? (Number(choiceField('error-status', fields['error-status'] as string, ['401', '404'] as const)) as 401 | 404)
      : 401,
  };
  if (settings.refuseMs === 0 && settings.errorMs === 0) {
    throw new FaultSpecError(
      'refuse-seconds',
      'both windows are 0: nothing would happen',
      'refuse-seconds and/or error-seconds > 0',
    );
  }
  return settings;
}

export class EarlyBootWindow {
  constructor(
    readonly settings: EarlyBootSettings,
    readonly startMs: number,
  ) {}

  phase(nowMs: number): BootPhase {
    const elapsed = nowMs - this.startMs;
    if (elapsed < this.settings.refuseMs) return 'refuse';
    if (elapsed < this.settings.refuseMs + this.settings.errorMs) return 'error';
    return 'normal';
  }

  /** True once the window is over for good: the appliance can forget it. */
  over(nowMs: number): boolean {
    return this.phase(nowMs) === 'normal';
  }
}

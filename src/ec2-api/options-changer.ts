// A metadata-options change as EC2 reports it: ModifyInstanceMetadataOptions answers State "pending" with the new
// values, the change takes effect a moment later, and from then on DescribeInstances shows "applied". The EC2 API
// and `imds-hop options` both change options through this one path.
import type { MetadataOptions } from '../imds/index.ts';
import type { OptionsView } from './responses.ts';

interface OptionsPort {
  current(): MetadataOptions;
  /** Validates a patch over a base (throws OptionsError), all or nothing. */
  validate(base: MetadataOptions, patch: Partial<MetadataOptions>): MetadataOptions;
  /** Puts the options in force on the running appliance. */
  apply(next: MetadataOptions): void;
}

type Scheduler = (run: () => void, delayMs: number) => void;

export class MetadataOptionsChanger {
  private pending: { options: MetadataOptions } | undefined;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly port: OptionsPort,
    /** How long a change stays pending (CHOICE: EC2 documents no figure; configurable, default 0). */
    private readonly applyDelayMs: number,
    private readonly schedule: Scheduler = (run, delayMs) => void setTimeout(run, delayMs),
  ) {}

  view(): OptionsView {
    return this.pending
      ? { state: 'pending', options: { ...this.pending.options } }
      : { state: 'applied', options: this.port.current() };
  }

  /** Starts a change; a later change while one is pending builds on it and supersedes it. */
  modify(patch: Partial<MetadataOptions>): OptionsView {
    const next = this.port.validate(this.pending?.options ?? this.port.current(), patch);
    const change = { options: next };
    this.pending = change;
    this.schedule(() => {
      if (this.pending !== change) return;
      this.pending = undefined;
      this.port.apply(next);
      for (const waiter of this.waiters.splice(0)) waiter();
    }, this.applyDelayMs);
    return { state: 'pending', options: { ...next } };
  }

  /** Resolves once no change is pending. */
  whenApplied(): Promise<void> {
    if (!this.pending) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

// What `serve` created, undone in reverse order on the way out (or when a later start-up step fails): a failing
// step is logged and the others still run, so one stuck resource never leaves the tap or the socket behind.
import type { Logger } from 'pino';

type Cleanup = () => Promise<void> | void;

export class Cleanups {
  private readonly steps: Cleanup[] = [];

  constructor(private readonly log: Logger) {}

  push(step: Cleanup): void {
    this.steps.push(step);
  }

  /** Runs every step once, newest first; later calls run only steps pushed since. */
  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        this.log.warn({ err: error }, 'cleanup step failed');
      }
    }
  }
}

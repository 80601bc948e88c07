// SIGTERM must always end the appliance and free its tap. Cleanup normally lets the event loop drain and the
// process exit by itself; if anything keeps the loop alive (a handle a fault left open, a hung cleanup step),
// this ends the process anyway. A second signal exits at once.
import type { Logger } from 'pino';

/** How long cleanup may take before the process exits regardless. */
const EXIT_GRACE_MS = 5_000;

export function exitEvenIfStuck(log: Logger, graceMs = EXIT_GRACE_MS): void {
  // Unreferenced: it never keeps the process alive, it only fires if something else does.
  setTimeout(() => {
    log.warn({ graceMs }, 'still running after cleanup: exiting now');
    process.exit(process.exitCode ?? 0);
  }, graceMs).unref();
  const again = () => {
    log.warn('second signal: exiting now');
    process.exit(130);
  };
  process.once('SIGINT', again);
  process.once('SIGTERM', again);
}

// The narrow port the Host hands its protocol modules, as smoltcp's interface layer hands its handlers an inner
// context: the modules decide what to answer; the Host owns the link, the counters and the log.
import type { RateLimitedLog } from './rate-limited-log.ts';

export interface HostPort {
  /** Sends one whole frame on the link; counted as sent or as a send failure. `frame` may be reused on return. */
  transmit(frame: Uint8Array): void;
  /** Counts one frame dropped for `reason` (frames-dropped-REASON). */
  drop(reason: string): void;
  /** Counts an event that is not a drop: a reply sent, an error received. */
  count(name: string): void;
  /** Log lines hostile traffic can trigger, rate-limited per kind. */
  readonly log: RateLimitedLog;
}

// Fault isolation for the frame path: an exception while handling one frame costs that frame (and at most its
// connection), never the data path. Nothing thrown here reaches the native addon's callback.
import type { FramesHandler } from '../link/index.ts';
import type { ImdsResponse } from '../imds/index.ts';

/** What a request gets when answering it threw: the connection carries on with the next request. */
export const INTERNAL_ERROR_RESPONSE: ImdsResponse = Object.freeze({
  status: 500,
  headers: [['Content-Type', 'text/plain'] as const],
  body: '',
});

/**
 * A batch handler that runs `handle` on each frame inside its own try/catch, then `afterBatch` (re-arming
 * timers) whatever happened, and reports every fault to `onFault`, which must not throw either.
 */
export function guardFrames(
  handle: (frame: Uint8Array, now: number) => void,
  nowMs: () => number,
  stopped: () => boolean,
  afterBatch: () => void,
  onFault: (error: unknown) => void,
): FramesHandler {
  const report = (error: unknown) => {
    try {
      onFault(error);
    } catch {
      // Reporting failed too (a broken log destination): the frame is already dropped, nothing more to do.
    }
  };
  return (frames) => {
    if (stopped()) return;
    const now = nowMs();
    for (const frame of frames) {
      try {
        handle(frame, now);
      } catch (error) {
        report(error);
      }
    }
    try {
      afterBatch();
    } catch (error) {
      report(error);
    }
  };
}

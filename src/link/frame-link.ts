// The one interface every backend implements: Ethernet frames in, Ethernet frames out.

import { OperatorError } from '../errors/operator-error.ts';

export type FramesHandler = (frames: readonly Uint8Array[]) => void;

export interface FrameLink {
  /** Interface name as the OS knows it (or a label for in-memory links). */
  readonly name: string;
  /**
   * Queue one whole Ethernet frame for transmission; false when the OS refused it (counted by the caller). The link
   * copies what it keeps: the caller may reuse `frame`'s bytes as soon as this returns.
   */
  send(frame: Uint8Array): boolean;
  /** Register the single consumer of received frames; frames arrive in batches, in order. */
  onFrames(handler: FramesHandler): void;
  /** How frames cross to the OS, when that can differ (a tap: "io_uring", or "syscalls (why not io_uring)"). */
  readonly io?: string;
  /** The link's own counters (failures it learns of after send() returned, batching), for metrics and logs. */
  counters?(): Record<string, number>;
  /** Stop receiving and release the device. Idempotent. */
  close(): Promise<void>;
}

/** Operator-facing failure to open or configure a link, with a stable code. */
export class LinkError extends OperatorError {}

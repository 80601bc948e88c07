// Two FrameLinks joined back to back, for tests: what one side sends, the other receives on a later turn.
import type { FrameLink, FramesHandler } from './frame-link.ts';

export function createMemoryLinkPair(names: [string, string] = ['mem0', 'mem1']): [FrameLink, FrameLink] {
  const a = new MemoryLink(names[0]);
  const b = new MemoryLink(names[1]);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

class MemoryLink implements FrameLink {
  peer: MemoryLink | undefined;
  private handler: FramesHandler | undefined;
  private inbox: Uint8Array[] = [];
  private scheduled = false;
  private closed = false;

  constructor(readonly name: string) {}

  send(frame: Uint8Array): boolean {
    if (this.closed || !this.peer || this.peer.closed) return false;
    this.peer.enqueue(frame.slice()); // a copy: the sender may reuse its buffer
    return true;
  }

  onFrames(handler: FramesHandler): void {
    if (this.handler) throw new Error('onFrames handler already registered');
    this.handler = handler;
    this.scheduleDelivery();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.inbox = [];
  }

  private enqueue(frame: Uint8Array): void {
    this.inbox.push(frame);
    this.scheduleDelivery();
  }

  private scheduleDelivery(): void {
    if (this.scheduled || !this.handler || this.inbox.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const batch = this.inbox;
      this.inbox = [];
      if (!this.closed && batch.length > 0) this.handler?.(batch);
    });
  }
}

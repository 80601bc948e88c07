// A FrameLink over a Linux TAP device that this process owns: the device disappears when the fd closes,
// so even a killed appliance leaves no interface behind.
import { closeSync, existsSync } from 'node:fs';
import { LinkError, type FrameLink, type FramesHandler } from './frame-link.ts';
import { loadNativeBindings, type NativeBindings } from './native.ts';
import { SendBatch } from './send-batch.ts';

/** tapIo "syscalls": a read() or write() per frame even where io_uring could batch them (serve --tap-io). */
export function openTapLink(requestedName: string, tapIo: 'auto' | 'syscalls' = 'auto'): FrameLink {
  if (!existsSync('/dev/net/tun')) {
    throw new LinkError(
      'TUN_MISSING',
      '/dev/net/tun does not exist: load the tun module (modprobe tun) or run where it exists',
    );
  }
  const native = loadNativeBindings();
  const io = tapIo === 'syscalls' ? native.tapIo('syscalls') : native.tapIo();
  let opened: { fd: number; name: string };
  try {
    opened = native.openTap(requestedName);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EPERM' || code === 'EACCES') {
      throw new LinkError('NOT_PERMITTED', `cannot create tap "${requestedName}": needs root (CAP_NET_ADMIN)`, {
        cause: error,
      });
    }
    if (code === 'EBUSY') {
      throw new LinkError('TAP_BUSY', `tap "${requestedName}" is already in use by another process`, { cause: error });
    }
    throw new LinkError('TAP_OPEN_FAILED', `cannot create tap "${requestedName}": ${(error as Error).message}`, {
      cause: error,
    });
  }
  return new TapLink(opened.fd, opened.name, native, io);
}

/** Handler faults reported on stderr before going quiet (each one is still counted by the caller's guard). */
const REPORTED_HANDLER_FAULTS = 10;

class TapLink implements FrameLink {
  private watcher: { stop(): void } | undefined;
  private closed = false;
  private handlerFaults = 0;
  /** Frames sent during one turn of the event loop, written by one native call at its end. */
  private readonly batch: SendBatch;

  constructor(
    private readonly fd: number,
    readonly name: string,
    private readonly native: NativeBindings,
    readonly io: string,
  ) {
    this.batch = new SendBatch((bytes, lengths, count) => native.writeFrames(fd, bytes, lengths, count));
  }

  /** Queued, and true; a frame the OS refuses when the batch is written is counted in counters() instead. */
  send(frame: Uint8Array): boolean {
    if (this.closed) return false;
    return this.batch.add(frame);
  }

  counters(): Record<string, number> {
    return {
      'link-send-failures': this.batch.failures,
      'link-send-flushes': this.batch.flushes,
      'link-frames-flushed': this.batch.framesFlushed,
    };
  }

  onFrames(handler: FramesHandler): void {
    if (this.watcher) throw new Error('onFrames handler already registered');
    // Plain Uint8Array views into the batch's one buffer: every parse layer slices them, and Buffer's own subarray
    // (a JS FastBuffer construction) cost more per frame than the typed-array builtin. The batch buffer is the
    // frames' own (the addon copies out of its pool), so a layer may keep a view.
    // The handler guards itself (appliance/fault-guard.ts); this catch is the last line before the addon, whose
    // own check would catch the rest.
    this.watcher = new this.native.FrameWatcher(
      this.fd,
      (bytes, lengths, count) => {
        const views = new Array<Uint8Array>(count);
        let offset = bytes.byteOffset;
        for (let i = 0; i < count; i++) {
          const length = lengths[i] as number;
          views[i] = new Uint8Array(bytes.buffer, offset, length);
          offset += length;
        }
        try {
          handler(views);
        } catch (error) {
          this.reportHandlerFault(error);
        }
      },
      (error) => this.reportHandlerFault(error),
    );
  }

  private reportHandlerFault(error: unknown): void {
    this.handlerFaults += 1;
    if (this.handlerFaults > REPORTED_HANDLER_FAULTS) return;
    process.stderr.write(
      `imds-hop: tap ${this.name}: frame handler threw, frames dropped, link keeps reading: ${String(error)}\n`,
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.batch.flush(); // what was sent before close still leaves
    this.closed = true;
    this.watcher?.stop();
    closeSync(this.fd);
  }
}

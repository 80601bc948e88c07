// Loads the N-API addon from native-bindings/ with an error that says how to build it.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LinkError } from './frame-link.ts';

export interface SocketOwner {
  pid?: number;
  files?: { comm?: Buffer; cmdline?: Buffer; cgroup?: Buffer; status?: Buffer; exe?: string; netns?: string };
}

export interface NativeBindings {
  openTap(name: string): { fd: number; name: string };
  /**
   * Watches `fd` and hands the frames readable on each wake-up to `onFrames` at once: `bytes` holds them back to
   * back (a batch of its own, safe to keep views of), `lengths[0..count)` their lengths (one table reused for every
   * batch: read it before returning). An exception escaping `onFrames` is taken off the N-API environment (never
   * left pending), counted in callbackExceptions and passed to `onError`.
   */
  FrameWatcher: new (
    fd: number,
    onFrames: (bytes: Buffer, lengths: Uint32Array, count: number) => void,
    onError?: (error: unknown) => void,
  ) => FrameWatcherHandle;
  /**
   * How frames cross to and from taps: "io_uring" (a batch per system call), or "syscalls (why not io_uring)"
   * — decided at the first call or frame; `tapIo('syscalls')` first means never io_uring (tap-uring.cc).
   */
  tapIo(mode?: 'syscalls'): string;
  /** Writes frames packed back to back in `bytes` (lengths[0..count)), in one io_uring submission or one write() each; returns how many went out whole. */
  writeFrames(fd: number, bytes: Uint8Array, lengths: Uint32Array, count: number): number;
  /** One netlink request and the kernel's whole answer, on the thread pool (callers.cc). */
  netlinkExchange(protocol: number, request: Buffer): Promise<Buffer>;
  /**
   * The processes holding some socket inodes (likely pids first, then newest first) and their /proc files (comm,
   * cmdline, cgroup, status; exe and netns links), one answer per socket in order, on the thread pool
   * (callers.cc). The search stops once no sock_diag lookup finds its inode any more: the sockets were closed.
   * At most 256 sockets a search.
   */
  findSocketOwners(
    sockets: Array<{ inode: number; request: Buffer }>,
    maxProcesses: number,
    likelyPids?: number[],
  ): Promise<SocketOwner[]>;
  /** One sock_diag exchange on this thread; the kernel answers inside the send. Empty when it did not. */
  sockDiagNow(request: Buffer): Buffer;
  /** One process's /proc files (as in SocketOwner), read on the thread pool; empty of those it no longer has. */
  readProcessFiles(pid: number): Promise<NonNullable<SocketOwner['files']>>;
  /**
   * Attaches the connect hook (connect-hook.cc) to the cgroup v2 directory: every connect() below it records its
   * pid and comm by socket cookie — the pid alone when the kernel refuses this process the comm helper (no
   * CAP_PERFMON). Throws naming the step that failed; nothing stays attached then.
   */
  connectHookStart(cgroupDir: string): { records: 'pid-and-comm' | 'pid'; tuples: string; slots: string };
  /** Who called connect() on the socket with this cookie, while the hook remembers it. */
  connectHookOwner(cookie: bigint): { pid: number; comm: string } | undefined;
  /**
   * The same, by the connection's 4-tuple key (src/callers/tuple-key.ts), filed by the hook's sock_ops program as
   * the SYN left — when `tuples` was "attached" (else the reason it is not).
   */
  connectHookOwnerByTuple(key: Uint8Array): { pid: number; comm: string } | undefined;
  /**
   * Of connectHookOwnerByTuple's answers since start, those read from the hook's slots (a read-only mapping of a map
   * the sock_ops program also writes: no bpf() syscall) — when `slots` was "mapped".
   */
  connectHookSlotHits(): number;
  /** Detaches the hook (the kernel also does when the process exits). */
  connectHookStop(): void;
  /** MADV_PAGEOUT over this process's read-only file-backed mappings (page-out.cc); returns the bytes advised. */
  pageOutCode(): number;
}

export interface FrameWatcherHandle {
  stop(): void;
  readonly callbackExceptions: number;
}

const addonPath = fileURLToPath(new URL('../../native-bindings/build/Release/imds_hop_native.node', import.meta.url));

let cached: NativeBindings | undefined;

export function loadNativeBindings(): NativeBindings {
  if (cached) return cached;
  if (!existsSync(addonPath)) {
    throw new LinkError(
      'NATIVE_ADDON_MISSING',
      `native addon not built (${addonPath} is missing): run "npm run build:native"`,
    );
  }
  const require = createRequire(import.meta.url);
  cached = require(addonPath) as NativeBindings;
  return cached;
}

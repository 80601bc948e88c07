// What /proc says about a process, and a short memory of it for the connect hook's owners: a client opening many
// connections is read once, not once per connection. An entry is reused only for the same pid with the same
// comm at connect() — an exec changes the comm (when the hook may record it; else '' and the TTL alone) — and
// only for PROCESS_INFO_TTL_MS, so a process that exec'd, moved to another cgroup or changed its arguments is read
// again soon. Bounded; concurrent first lookups share one read.
import type { SocketOwner } from '../link/index.ts';

export interface ProcessInfo {
  pid: number;
  command: string;
  executable: string | undefined;
  argv: string[];
  uid: number | undefined;
  cgroupText: string;
  /** e.g. "net:[4026531840]" */
  netnsLink: string | undefined;
}

export type ProcessFiles = NonNullable<SocketOwner['files']>;

/** What /proc said about a process, from the raw files the native side read. */
export function processInfoFromFiles(pid: number, files: ProcessFiles): ProcessInfo | undefined {
  if (!files.comm) return undefined; // exited before its files were read
  const uid = /^Uid:\s+(\d+)/m.exec(files.status?.toString('utf8') ?? '')?.[1];
  return {
    pid,
    command: files.comm.toString('utf8').trim(),
    executable: files.exe,
    argv: files.cmdline
      ? files.cmdline
          .toString('utf8')
          .split('\0')
          .filter((arg) => arg.length > 0)
      : [],
    uid: uid === undefined ? undefined : Number(uid),
    cgroupText: files.cgroup?.toString('utf8') ?? '',
    netnsLink: files.netns,
  };
}

const PROCESS_INFO_TTL_MS = 2_000;
const MAX_PROCESSES_REMEMBERED = 1_024;

interface Remembered {
  comm: string;
  atMs: number;
  info: Promise<ProcessInfo | undefined>;
  /** The info once its read finished: what `known` answers without a promise. */
  settled?: ProcessInfo;
}

export class ProcessInfoCache {
  private readonly byPid = new Map<number, Remembered>();
  readonly counters = { hits: 0, reads: 0 };

  constructor(
    private readonly readFiles: (pid: number) => Promise<ProcessFiles>,
    private readonly monotonicMs: () => number,
  ) {}

  /**
   * The process as read within the TTL, when that read has finished: the connection of a client seen a moment
   * ago is named without a promise. Undefined otherwise (then `lookup`). `comm` as for `lookup`.
   */
  known(pid: number, comm: string): ProcessInfo | undefined {
    const remembered = this.fresh(pid, comm);
    if (remembered?.settled) this.counters.hits += 1;
    return remembered?.settled;
  }

  /** `comm` is the name the connect hook saw: a different one means another program now runs as this pid. */
  lookup(pid: number, comm: string): Promise<ProcessInfo | undefined> {
    const now = this.monotonicMs();
    const remembered = this.fresh(pid, comm, now);
    if (remembered) {
      this.counters.hits += 1;
      return remembered.info;
    }
    this.counters.reads += 1;
    const info = this.readFiles(pid).then(
      (files) => processInfoFromFiles(pid, files),
      () => undefined,
    );
    this.byPid.delete(pid); // re-inserted last: the oldest entry is the first in the map
    if (this.byPid.size >= MAX_PROCESSES_REMEMBERED) this.byPid.delete(this.byPid.keys().next().value as number);
    const entry: Remembered = { comm, atMs: now, info };
    this.byPid.set(pid, entry);
    // A process that had exited by the read is not remembered as gone: its pid may come back as another one.
    void info.then((found) => {
      if (found) entry.settled = found;
      else if (this.byPid.get(pid) === entry) this.byPid.delete(pid);
    });
    return info;
  }

  private fresh(pid: number, comm: string, now = this.monotonicMs()): Remembered | undefined {
    const remembered = this.byPid.get(pid);
    return remembered && remembered.comm === comm && now - remembered.atMs < PROCESS_INFO_TTL_MS
      ? remembered
      : undefined;
  }
}

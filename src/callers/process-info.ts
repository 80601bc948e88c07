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
}

export class ProcessInfoCache {
  private readonly byPid = new Map<number, Remembered>();
  readonly counters = { hits: 0, reads: 0 };

  constructor(
    private readonly readFiles: (pid: number) => Promise<ProcessFiles>,
    private readonly monotonicMs: () => number,
  ) {}

  /** `comm` is the name the connect hook saw: a different one means another program now runs as this pid. */
  lookup(pid: number, comm: string): Promise<ProcessInfo | undefined> {
    const now = this.monotonicMs();
    const remembered = this.byPid.get(pid);
    if (remembered && remembered.comm === comm && now - remembered.atMs < PROCESS_INFO_TTL_MS) {
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
    this.byPid.set(pid, { comm, atMs: now, info });
    // A process that had exited by the read is not remembered as gone: its pid may come back as another one.
    void info.then((found) => {
      if (!found && this.byPid.get(pid)?.info === info) this.byPid.delete(pid);
    });
    return info;
  }
}

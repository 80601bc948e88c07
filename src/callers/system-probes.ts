// What attribution asks the system, each question asynchronous and bounded: the kernel's socket diagnostics and
// connection tracking (netlink, through the native addon), the process that connected a socket (the connect
// hook; else a search of fd tables for its inode) and what /proc says about it; the names of network namespaces
// and cgroups come from system-names.ts. Answers that change slowly are cached.
import { endianness } from 'node:os';
import { loadNativeBindings, type SocketOwner } from '../link/index.ts';
import { ProcessInfoCache, processInfoFromFiles, type ProcessInfo } from './process-info.ts';
import { SystemNames, cgroup2Mount } from './system-names.ts';
import { TUPLE_KEY_BYTES, tupleKey } from './tuple-key.ts';
import {
  NETLINK_NETFILTER,
  encodeConntrackLookup,
  encodeSockDiagLookup,
  parseConntrackReply,
  parseSockDiagReply,
  type DiagSocket,
  type NetlinkAnswer,
  type SocketEndpoint,
} from './netlink-messages.ts';

/** A local socket found by its 4-tuple, and the process holding it when that was found in time. */
export interface LocalSocket {
  /** Absent when the connect hook named the process by 4-tuple, without asking sock_diag. */
  socket?: NetlinkAnswer<DiagSocket>;
  /** What the connect hook recorded of a process that exited before its /proc files could be read. */
  exited?: { pid: number; comm: string };
  process?: ProcessInfo;
}

/** How local callers are found: by the connect hook, or by searching fd tables (and why not the hook). */
export type AttributionMethod =
  /**
   * records: 'pid' when the kernel refused the hook the comm (an exec is then noticed only after the cache TTL);
   * tuples: 'attached' when callers are found by 4-tuple without a sock_diag exchange, else why not;
   * slots: 'mapped' when most of those lookups are a read of shared memory, no syscall, else why not.
   */
  | { method: 'connect-hook'; cgroup: string; records: 'pid-and-comm' | 'pid'; tuples: string; slots: string }
  | { method: 'fd-search'; reason: string };

/** The questions the resolver asks; an interface so its decisions are tested without a kernel. */
export interface SystemProbes {
  /** Sets up what naming local callers needs; `useHook` false never attaches the connect hook. */
  start(useHook: boolean): Promise<AttributionMethod>;
  stop(): void;
  readonly counters: Record<string, number>;
  /** The socket and its process: at once when that is known without waiting (see LinuxProbes), else a promise. */
  localSocket(local: SocketEndpoint, remote: SocketEndpoint): LocalSocket | Promise<LocalSocket>;
  conntrackOriginal(service: SocketEndpoint, client: SocketEndpoint): Promise<NetlinkAnswer<SocketEndpoint>>;
  /** Name of a network namespace (by its "net:[inode]" link), when it is a named one (/run/netns). */
  netnsName(netnsLink: string): Promise<string | undefined>;
  /** The named network namespace on this host that has `address` on one of its interfaces. */
  netnsOwningAddress(address: string): Promise<string | undefined>;
  cgroupPathById(id: bigint): Promise<string | undefined>;
}

/** Processes searched for one socket: enough for a busy host, bounded for a hostile one. */
const MAX_PROCESSES_SEARCHED = 32_768;
/** Searches on the thread pool at once: libuv's pool has 4 threads, and other file work needs one too. */
const SEARCHES_AT_ONCE = 3;
/** Sockets one search looks for at most (the addon's bound too). */
const MAX_SOCKETS_PER_SEARCH = 256;
/** Owners found recently are searched first: a client opening many connections is found at once. */
const LIKELY_OWNERS = 16;

export class LinuxProbes implements SystemProbes {
  private get native() {
    return loadNativeBindings();
  }
  private seq = 1;
  private hookActive = false;
  private tuplesAttached = false;
  /** Of hook-owners-by-tuple, those read from the slots (kept when the hook stops). */
  private slotHits = 0;
  private readonly key = new Uint8Array(TUPLE_KEY_BYTES);
  private readonly processes = new ProcessInfoCache(
    (pid) => this.native.readProcessFiles(pid),
    () => performance.now(),
  );
  private readonly hookCounters = { 'hook-owners-by-tuple': 0, 'hook-owners': 0, 'hook-misses': 0, 'fd-searches': 0 };
  private readonly likelyOwners: number[] = [];
  private readonly waitingForSearch: Array<{
    inode: number;
    request: Buffer;
    resolve: (owner: SocketOwner) => void;
    reject: (error: unknown) => void;
  }> = [];
  private searchesRunning = 0;
  private readonly names = new SystemNames();

  get counters(): Record<string, number> {
    if (this.hookActive) this.slotHits = this.native.connectHookSlotHits();
    return {
      ...this.hookCounters,
      'hook-owners-from-slots': this.slotHits,
      'process-reads': this.processes.counters.reads,
      'process-reads-saved': this.processes.counters.hits,
    };
  }

  async start(useHook: boolean): Promise<AttributionMethod> {
    if (!useHook) return { method: 'fd-search', reason: 'the connect hook is off (--callers fd-search)' };
    const cgroup = await cgroup2Mount();
    if (!cgroup) return { method: 'fd-search', reason: 'no cgroup v2 hierarchy is mounted' };
    let started: { records: 'pid-and-comm' | 'pid'; tuples: string; slots: string };
    try {
      started = this.native.connectHookStart(cgroup);
    } catch (error) {
      return { method: 'fd-search', reason: `the connect hook could not be attached: ${(error as Error).message}` };
    }
    this.hookActive = true;
    this.tuplesAttached = started.tuples === 'attached' && endianness() === 'LE';
    return { method: 'connect-hook', cgroup, ...started };
  }

  stop(): void {
    if (this.hookActive) {
      this.slotHits = this.native.connectHookSlotHits();
      this.native.connectHookStop();
    }
    this.hookActive = false;
    this.tuplesAttached = false;
  }

  /**
   * The socket is looked up before this returns — at the client's SYN its socket surely exists. Its
   * owner is the process the connect hook saw connect it; a socket the hook did not see (connected before it was
   * attached, or no hook) has its owner searched for on the thread pool.
   */
  localSocket(local: SocketEndpoint, remote: SocketEndpoint): LocalSocket | Promise<LocalSocket> {
    if (this.tuplesAttached) {
      const owner = this.native.connectHookOwnerByTuple(tupleKey(local, remote, this.key));
      if (owner) {
        this.hookCounters['hook-owners-by-tuple'] += 1;
        // A client that connected a moment ago (every connection of a busy one) is answered without a promise.
        const known = this.processes.known(owner.pid, owner.comm);
        return known ? { process: known } : this.hooked(owner);
      }
    }
    return this.askKernel(local, remote);
  }

  /** The socket by sock_diag, its owner from the hook's record by cookie, else searched for in fd tables. */
  private async askKernel(local: SocketEndpoint, remote: SocketEndpoint): Promise<LocalSocket> {
    const lookup = Buffer.from(encodeSockDiagLookup(local, remote, this.nextSeq()));
    const socket = parseSockDiagReply(this.native.sockDiagNow(lookup));
    if (!socket.ok || socket.value.inode === 0) return { socket };
    if (this.hookActive) {
      const owner = this.native.connectHookOwner(socket.value.cookie);
      if (owner) {
        this.hookCounters['hook-owners'] += 1;
        return this.hooked(owner, socket);
      }
      this.hookCounters['hook-misses'] += 1;
    }
    this.hookCounters['fd-searches'] += 1;
    const found = await this.findOwner(socket.value.inode, lookup);
    const pid = found.pid;
    if (pid === undefined || !found.files) return { socket };
    if (!this.likelyOwners.includes(pid)) {
      this.likelyOwners.unshift(pid);
      if (this.likelyOwners.length > LIKELY_OWNERS) this.likelyOwners.pop();
    }
    return { socket, process: processInfoFromFiles(pid, found.files) };
  }

  /** The process the connect hook saw connect, from /proc (cached), or what the hook recorded if it is gone. */
  private async hooked(owner: { pid: number; comm: string }, socket?: LocalSocket['socket']): Promise<LocalSocket> {
    const info = await this.processes.lookup(owner.pid, owner.comm);
    return info ? { socket, process: info } : { socket, exited: owner };
  }

  /**
   * Up to SEARCHES_AT_ONCE searches run side by side (a slow search — a client that is not a recent owner — must not
   * hold up the next curl, which may exit a millisecond after its answer); sockets arriving while all of them run
   * wait together for the next free one, so one pass over a busy client's fd table names every connection it opened
   * meanwhile (a search per connection cost a flow several times its own CPU). The queue is bounded by the
   * resolver's in-flight limit.
   */
  private findOwner(inode: number, request: Buffer): Promise<SocketOwner> {
    return new Promise((resolve, reject) => {
      this.waitingForSearch.push({ inode, request, resolve, reject });
      if (this.searchesRunning < SEARCHES_AT_ONCE) this.searchNext();
    });
  }

  private searchNext(): void {
    const batch = this.waitingForSearch.splice(0, MAX_SOCKETS_PER_SEARCH);
    if (batch.length === 0) return;
    this.searchesRunning += 1;
    this.native
      .findSocketOwners(
        batch.map(({ inode, request }) => ({ inode, request })),
        MAX_PROCESSES_SEARCHED,
        this.likelyOwners,
      )
      .then(
        (owners) => batch.forEach((entry, i) => entry.resolve(owners[i] ?? {})),
        (error: unknown) => batch.forEach((entry) => entry.reject(error)),
      )
      .finally(() => {
        this.searchesRunning -= 1;
        this.searchNext();
      });
  }

  async conntrackOriginal(service: SocketEndpoint, client: SocketEndpoint): Promise<NetlinkAnswer<SocketEndpoint>> {
    try {
      const reply = await this.native.netlinkExchange(
        NETLINK_NETFILTER,
        Buffer.from(encodeConntrackLookup(service, client, this.nextSeq())),
      );
      return parseConntrackReply(reply);
    } catch (error) {
      // No connection tracking in this kernel or namespace (nf_conntrack_netlink absent): nothing was forwarded.
      return { ok: false, reason: 'error', errno: (error as { errno?: number }).errno };
    }
  }

  netnsName(netnsLink: string): Promise<string | undefined> {
    return this.names.netnsName(netnsLink);
  }

  netnsOwningAddress(address: string): Promise<string | undefined> {
    return this.names.netnsOwningAddress(address);
  }

  cgroupPathById(id: bigint): Promise<string | undefined> {
    return this.names.cgroupPathById(id);
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }
}

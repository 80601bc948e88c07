// Names the caller of one connection: the local socket with that 4-tuple (sock_diag) and the process holding it;
// else the connection-tracking entry (a client forwarded through NAT) and the namespace owning its address; else
// the address and MAC it came from. Asynchronous and bounded: the packet path never waits for an answer, and when
// too many are in flight a connection is named by its address at once.
import { MAX_COMMAND_LINE, redactCommandLine, shortName, truncate, type CallerIdentity } from './caller.ts';
import { containerOf, containerOfPath, cgroupPathOf } from './cgroup.ts';
import type { SocketEndpoint } from './netlink-messages.ts';
import type { ProcessInfo } from './process-info.ts';
import type { LocalSocket, SystemProbes } from './system-probes.ts';

/** A connection as imds-hop saw it arrive. */
export interface ConnectionSource {
  client: SocketEndpoint;
  service: SocketEndpoint;
  clientText: string;
  mac: string | undefined;
}

/** local: tap backend, clients may be processes here; address: pcap backend, clients are elsewhere on the link. */
export type AttributionMode = 'local' | 'address';

const MAX_IN_FLIGHT = 64;
const MAX_SOURCES_PER_PROCESS = 8;

export class CallerResolver {
  readonly counters = { resolved: 0, process: 0, forwarded: 0, address: 0, unresolved: 0, busy: 0, failed: 0 };
  private inFlight = 0;
  private readonly identities = new WeakMap<ProcessInfo, Map<string, CallerIdentity>>();

  constructor(
    private readonly mode: AttributionMode,
    private readonly probes: SystemProbes,
  ) {}

  /** At once when the caller is known without waiting (a client seen a moment ago), else a promise. */
  resolve(source: ConnectionSource): CallerIdentity | Promise<CallerIdentity> {
    if (this.mode === 'address') return this.done(byAddress(source));
    if (this.inFlight >= MAX_IN_FLIGHT) {
      this.counters.busy += 1;
      return this.done({ ...byAddress(source), note: 'attribution busy: too many connections being named at once' });
    }
    let found: LocalSocket | Promise<LocalSocket>;
    try {
      // The client's socket sees itself as local and the service as remote.
      found = this.probes.localSocket(source.client, source.service);
    } catch (error) {
      return this.failed(source, error);
    }
    if (!(found instanceof Promise) && found.process) {
      const known = this.knownIdentity(found.process, source);
      if (known) return this.done(known);
    }
    return this.resolveLater(source, found);
  }

  private async resolveLater(
    source: ConnectionSource,
    found: LocalSocket | Promise<LocalSocket>,
  ): Promise<CallerIdentity> {
    this.inFlight += 1;
    try {
      return this.done(await this.identify(source, await found));
    } catch (error) {
      return this.failed(source, error);
    } finally {
      this.inFlight -= 1;
    }
  }

  private failed(source: ConnectionSource, error: unknown): CallerIdentity {
    this.counters.failed += 1;
    return this.done({ ...byAddress(source), note: `attribution failed: ${(error as Error).message}` });
  }

  private done(identity: CallerIdentity): CallerIdentity {
    this.counters.resolved += 1;
    this.counters[identity.kind] += 1;
    return identity;
  }

  /** The identity worked out before for this ProcessInfo and source, if it was. */
  private knownIdentity(info: ProcessInfo, source: ConnectionSource): CallerIdentity | undefined {
    return this.identities.get(info)?.get(sourceKeyOf(source));
  }

  /**
   * A process's identity, worked out once per read of its /proc files (ProcessInfoCache hands out the same
   * ProcessInfo until it reads them again) and per source it connects from: a client opening many connections
   * gets one shared identity object, not a new one per connection.
   */
  private async processIdentity(
    info: ProcessInfo,
    socket: LocalSocket['socket'],
    source: ConnectionSource,
  ): Promise<CallerIdentity> {
    let bySource = this.identities.get(info);
    if (!bySource) {
      bySource = new Map();
      this.identities.set(info, bySource);
    }
    const sourceKey = sourceKeyOf(source);
    const known = bySource.get(sourceKey);
    if (known) return known;
    const netnsName = info.netnsLink ? await this.probes.netnsName(info.netnsLink) : undefined;
    const identity: CallerIdentity = {
      kind: 'process',
      name: shortName(info.command, info.argv),
      pid: info.pid,
      command: info.command,
      executable: info.executable,
      commandLine: truncate(redactCommandLine(info.argv), MAX_COMMAND_LINE),
      uid: info.uid ?? (socket?.ok ? socket.value.uid : undefined),
      cgroup: cgroupPathOf(info.cgroupText),
      container: containerOf(info.cgroupText),
      netns: info.netnsLink ? (netnsName ? `${netnsName} ${info.netnsLink}` : info.netnsLink) : undefined,
      sourceAddress: source.clientText,
      sourceMac: source.mac,
    };
    // Bounded: a process connecting from more sources than this is worked out afresh for the others.
    if (bySource.size < MAX_SOURCES_PER_PROCESS) bySource.set(sourceKey, identity);
    return identity;
  }

  private async identify(source: ConnectionSource, found: LocalSocket): Promise<CallerIdentity> {
    const { socket, process: info, exited } = found;
    if (info) return this.processIdentity(info, socket, source);
    if (exited) {
      // The connect hook saw it connect; it was gone before its /proc files were read (a quick curl).
      const uid = socket?.ok ? socket.value.uid : undefined;
      return {
        kind: 'unresolved',
        name: `${exited.comm || `pid ${exited.pid}`} (exited before it was read)`,
        pid: exited.pid,
        command: exited.comm || undefined,
        uid,
        sourceAddress: source.clientText,
        sourceMac: source.mac,
        note: 'the connect hook saw this process connect; it exited before its /proc files could be read',
      };
    }
    if (socket?.ok && socket.value.inode !== 0) {
      const cgroup =
        socket.value.cgroupId === undefined ? undefined : await this.probes.cgroupPathById(socket.value.cgroupId);
      return {
        kind: 'unresolved',
        name: `uid ${socket.value.uid} in ${cgroup ?? `cgroup id ${socket.value.cgroupId ?? '?'}`}`,
        uid: socket.value.uid,
        cgroup,
        container: cgroup ? containerOfPath(cgroup) : undefined,
        sourceAddress: source.clientText,
        sourceMac: source.mac,
        note: 'a local socket whose process exited before it could be named',
      };
    }
    const original = await this.probes.conntrackOriginal(source.service, source.client);
    if (original.ok) {
      const address = formatAddress(original.value.address);
      if (address !== source.clientText) {
        const netns = await this.probes.netnsOwningAddress(address);
        return {
          kind: 'forwarded',
          name: netns ? `${address} (netns ${netns})` : address,
          netns,
          sourceAddress: source.clientText,
          sourceMac: source.mac,
          originalAddress: address,
        };
      }
    }
    return { ...byAddress(source), note: 'no local socket and no NAT entry for this connection' };
  }
}

/** A connection named by where it came from: what the pcap backend knows, and the local fallback. */
function byAddress(source: ConnectionSource): CallerIdentity {
  return { kind: 'address', name: source.clientText, sourceAddress: source.clientText, sourceMac: source.mac };
}

/** Identities are per process and per source it connects from. */
function sourceKeyOf(source: ConnectionSource): string {
  return `${source.clientText}|${source.mac ?? ''}`;
}

export function formatAddress(address: Uint8Array): string {
  if (address.length === 4) return address.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((address[i] ?? 0) << 8) | (address[i + 1] ?? 0)).toString(16));
  // The longest run of zero groups collapses to "::" (RFC 5952).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}

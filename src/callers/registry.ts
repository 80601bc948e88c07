// Every caller's counts, fed per request and per connection. Pure: connections are opened, their requests
// arrive before or after attribution finishes (held per connection until it does), and what deserves a log line
// (a caller's first IMDSv1 request, its first credentials without a token, its fallback to IMDSv1 after its token
// died on the way) comes back as events. Every table is bounded.
import type { TokenUse } from '../imds/index.ts';
import { callerKey, type CallerIdentity } from './caller.ts';

export type { TokenUse };

export interface RequestRecord {
  use: TokenUse;
  /** Set when the request fetched role credentials: '1.0' without a token, '2.0' with one. */
  credentials?: '1.0' | '2.0';
  path: string;
  atMs: number;
}

export interface CallerStats {
  key: string;
  identity: CallerIdentity;
  pids: number[];
  requests: number;
  v1: number;
  v1Rejected: number;
  v2: number;
  tokensIssued: number;
  tokenRequestsRefused: number;
  tokensRejected: number;
  credentials: { '1.0': number; '2.0': number };
  /** Times it fell back to IMDSv1 after one of its token responses died at a router. */
  fallbacksToV1: number;
  /** The hop its last token response died at, when that was the last thing that happened to its tokens. */
  tokenDiedAtHop?: number;
  lastPath: string;
  firstSeenMs: number;
  lastSeenMs: number;
}

export type CallerEvent =
  | { kind: 'first-v1'; caller: CallerStats; path: string }
  | { kind: 'first-v1-credentials'; caller: CallerStats; path: string }
  | { kind: 'fell-back-to-v1'; caller: CallerStats; hop: number; path: string };

interface RegistryLimits {
  maxCallers: number;
  /** Connections tracked at once (open, or closed and waiting for attribution). */
  maxConnections: number;
  /** Requests held per connection while its caller is not known yet. */
  maxPendingRequests: number;
  /** Pids remembered per caller. */
  maxPids: number;
}

const DEFAULT_REGISTRY_LIMITS: RegistryLimits = {
  maxCallers: 1024,
  maxConnections: 65536,
  maxPendingRequests: 64,
  maxPids: 16,
};

/** Callers past maxCallers are counted together under this one. */
const OVERFLOW_CALLER: CallerIdentity = { kind: 'address', name: 'other callers (table full)', sourceAddress: '*' };

interface TrackedConnection {
  endpointKey: string;
  caller?: CallerStats;
  pending: RequestRecord[];
  tokenDiedAtHop?: number;
  closed: boolean;
}

export class CallerRegistry {
  private readonly callersByKey = new Map<string, CallerStats>();
  private readonly connections = new Map<number, TrackedConnection>();
  private readonly connectionByEndpoint = new Map<string, number>();
  private readonly flagged = new Map<string, { v1: boolean; v1Credentials: boolean }>();
  readonly counters = { pendingRequestsDropped: 0, connectionsEvicted: 0, callersOverflowed: 0, fallbacksToV1: 0 };

  constructor(private readonly limits: RegistryLimits = DEFAULT_REGISTRY_LIMITS) {}

  /** A new connection from address:port (as imds-hop sees it). */
  open(connection: number, address: string, port: number): void {
    if (this.connections.size >= this.limits.maxConnections) {
      const oldest = this.connections.keys().next().value;
      if (oldest !== undefined) this.forget(oldest);
      this.counters.connectionsEvicted += 1;
    }
    const endpointKey = `${address}|${port}`;
    this.connections.set(connection, { endpointKey, pending: [], closed: false });
    this.connectionByEndpoint.set(endpointKey, connection);
  }

  /** Attribution finished: the held requests count for the caller now, in their order. */
  resolved(connection: number, identity: CallerIdentity, atMs: number): CallerEvent[] {
    const tracked = this.connections.get(connection);
    if (!tracked || tracked.caller) return [];
    const caller = this.callerFor(identity, atMs);
    tracked.caller = caller;
    if (identity.pid !== undefined && !caller.pids.includes(identity.pid)) {
      caller.pids.push(identity.pid);
      if (caller.pids.length > this.limits.maxPids) caller.pids.shift();
    }
    if (tracked.tokenDiedAtHop !== undefined) caller.tokenDiedAtHop = tracked.tokenDiedAtHop;
    const events: CallerEvent[] = [];
    for (const record of tracked.pending.splice(0)) this.count(caller, record, events);
    if (tracked.closed) this.forget(connection);
    return events;
  }

  request(connection: number, record: RequestRecord): CallerEvent[] {
    const tracked = this.connections.get(connection);
    if (!tracked) return [];
    if (!tracked.caller) {
      if (tracked.pending.length < this.limits.maxPendingRequests) tracked.pending.push(record);
      else this.counters.pendingRequestsDropped += 1;
      return [];
    }
    const events: CallerEvent[] = [];
    this.count(tracked.caller, record, events);
    return events;
  }

  /** A token response to address:port died at hop `hop` (ICMP time-exceeded from a router). */
  tokenDied(address: string, port: number, hop: number): void {
    const connection = this.connectionByEndpoint.get(`${address}|${port}`);
    const tracked = connection === undefined ? undefined : this.connections.get(connection);
    if (!tracked) return;
    tracked.tokenDiedAtHop = hop;
    if (tracked.caller) tracked.caller.tokenDiedAtHop = hop;
  }

  closed(connection: number): void {
    const tracked = this.connections.get(connection);
    if (!tracked) return;
    if (tracked.caller) this.forget(connection);
    else tracked.closed = true; // kept until attribution answers, so its requests still count
  }

  /** Callers, most requests first. */
  callers(): CallerStats[] {
    return [...this.callersByKey.values()].sort((a, b) => b.requests - a.requests || a.firstSeenMs - b.firstSeenMs);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  private forget(connection: number): void {
    const tracked = this.connections.get(connection);
    if (!tracked) return;
    this.connections.delete(connection);
    if (this.connectionByEndpoint.get(tracked.endpointKey) === connection)
      this.connectionByEndpoint.delete(tracked.endpointKey);
  }

  private callerFor(identity: CallerIdentity, atMs: number): CallerStats {
    let key = callerKey(identity);
    let existing = this.callersByKey.get(key);
    if (existing) return existing;
    if (this.callersByKey.size >= this.limits.maxCallers) {
      this.counters.callersOverflowed += 1;
      key = callerKey(OVERFLOW_CALLER);
      existing = this.callersByKey.get(key);
      if (existing) return existing;
      identity = OVERFLOW_CALLER;
    }
    const { pid: _pid, ...shared } = identity; // the pid belongs to one connection; the caller lists them all
    const caller: CallerStats = {
      key,
      identity: shared,
      pids: [],
      requests: 0,
      v1: 0,
      v1Rejected: 0,
      v2: 0,
      tokensIssued: 0,
      tokenRequestsRefused: 0,
      tokensRejected: 0,
      credentials: { '1.0': 0, '2.0': 0 },
      fallbacksToV1: 0,
      lastPath: '',
      firstSeenMs: atMs,
      lastSeenMs: atMs,
    };
    this.callersByKey.set(key, caller);
    return caller;
  }

  private count(caller: CallerStats, record: RequestRecord, events: CallerEvent[]): void {
    caller.requests += 1;
    caller.lastPath = record.path;
    caller.lastSeenMs = Math.max(caller.lastSeenMs, record.atMs);
    caller.firstSeenMs = Math.min(caller.firstSeenMs, record.atMs);
    let flags = this.flagged.get(caller.key);
    if (!flags) {
      flags = { v1: false, v1Credentials: false };
      this.flagged.set(caller.key, flags);
    }
    switch (record.use) {
      case 'token-issued':
        caller.tokensIssued += 1;
        break;
      case 'token-refused':
        caller.tokenRequestsRefused += 1;
        break;
      case 'v2':
        caller.v2 += 1;
        caller.tokenDiedAtHop = undefined; // it has a working token now
        break;
      case 'token-rejected':
        caller.tokensRejected += 1;
        break;
      case 'v1':
      case 'v1-rejected':
        if (record.use === 'v1') caller.v1 += 1;
        else caller.v1Rejected += 1;
        if (!flags.v1) {
          flags.v1 = true;
          events.push({ kind: 'first-v1', caller, path: record.path });
        }
        if (caller.tokenDiedAtHop !== undefined) {
          caller.fallbacksToV1 += 1;
          this.counters.fallbacksToV1 += 1;
          events.push({ kind: 'fell-back-to-v1', caller, hop: caller.tokenDiedAtHop, path: record.path });
          caller.tokenDiedAtHop = undefined;
        }
        break;
      case 'none':
        break;
    }
    if (record.credentials) {
      caller.credentials[record.credentials] += 1;
      if (record.credentials === '1.0' && !flags.v1Credentials) {
        flags.v1Credentials = true;
        events.push({ kind: 'first-v1-credentials', caller, path: record.path });
      }
    }
  }
}

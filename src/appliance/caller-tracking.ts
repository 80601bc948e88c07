// Caller attribution wired to a Host: each connection is named once, asynchronously (the Host never waits), its
// requests counted for that caller; a caller's first IMDSv1 request, first credentials without a token and
// fallback to IMDSv1 after its token died at a router are logged once each. Its registry feeds the per-caller
// Prometheus series (prometheus-exposition.ts).
import type { Logger } from 'pino';
import {
  CallerRegistry,
  CallerResolver,
  formatAddress,
  type CallerEvent,
  type CallerIdentity,
  type CallerStats,
  type SystemProbes,
  type AttributionMethod,
  type AttributionMode,
} from '../callers/index.ts';
import { targetPath, type ImdsResponse } from '../imds/index.ts';
import type { ConnectionId } from '../tcp/index.ts';
import { formatMacAddress } from '../wire/index.ts';
import type { ConnectionObserver, ObservedConnection } from './connection-observer.ts';

const MAX_PATH = 200;

export interface CallersSnapshot {
  enabled: boolean;
  mode?: AttributionMode;
  /** How local callers are found (the tap backend): the connect hook, or fd-table searches and why. */
  method?: AttributionMethod;
  callers: CallerStats[];
  counters: Record<string, number>;
}

/** Namings started at a SYN and not yet claimed by an accepted connection; past it the oldest is dropped. */
const MAX_EARLY_NAMINGS = 1024;

export class CallerTracking implements ConnectionObserver {
  readonly registry = new CallerRegistry();
  private readonly resolver: CallerResolver;
  /** By "address|port": namings begun at the SYN (done, or under way), claimed when the handshake completes. */
  private readonly early = new Map<string, CallerIdentity | Promise<CallerIdentity>>();

  private method: AttributionMethod | undefined;
  /** Most connections come from the address and MAC the last one came from: their text is made once. */
  private readonly clientTexts = new LastText(formatAddress);
  private readonly macTexts = new LastText(formatMacAddress);

  constructor(
    readonly mode: AttributionMode,
    private readonly probes: SystemProbes,
    private readonly log: Logger,
    private readonly wallMs: () => number = Date.now,
  ) {
    this.resolver = new CallerResolver(mode, probes);
  }

  /** Attaches the connect hook when local callers are named and `useHook`; says how callers will be found. */
  async start(useHook: boolean): Promise<void> {
    if (this.mode !== 'local') return;
    this.method = await this.probes.start(useHook);
    if (this.method.method === 'connect-hook')
      this.log.info(
        {
          cgroup: this.method.cgroup,
          records: this.method.records,
          tuples: this.method.tuples,
          slots: this.method.slots,
        },
        'callers: named by the connect hook (eBPF on the cgroup v2 root)',
      );
    else
      this.log.warn(
        { reason: this.method.reason },
        'callers: named by searching /proc fd tables, which costs CPU per new connection',
      );
  }

  stop(): void {
    this.probes.stop();
  }

  connecting(connection: ObservedConnection): void {
    const clientText = this.clientTexts.of(connection.clientAddress);
    const key = `${clientText}|${connection.clientPort}`;
    if (this.early.has(key)) return; // a retransmitted SYN
    if (this.early.size >= MAX_EARLY_NAMINGS) this.early.delete(this.early.keys().next().value as string);
    this.early.set(key, this.name(connection, clientText));
  }

  opened(id: ConnectionId, connection: ObservedConnection): void {
    const clientText = this.clientTexts.of(connection.clientAddress);
    const key = `${clientText}|${connection.clientPort}`;
    this.registry.open(id, clientText, connection.clientPort);
    const naming = this.early.get(key) ?? this.name(connection, clientText);
    this.early.delete(key);
    if (naming instanceof Promise)
      void naming.then((identity) => this.report(this.registry.resolved(id, identity, this.wallMs())));
    else this.report(this.registry.resolved(id, naming, this.wallMs()));
  }

  private name(connection: ObservedConnection, clientText: string): CallerIdentity | Promise<CallerIdentity> {
    const startedMs = performance.now();
    const naming = this.resolver.resolve({
      client: { address: connection.clientAddress, port: connection.clientPort },
      service: { address: connection.serviceAddress, port: connection.servicePort },
      clientText,
      mac: connection.clientMac ? this.macTexts.of(connection.clientMac) : undefined,
    });
    if (this.log.isLevelEnabled('debug')) {
      void Promise.resolve(naming).then((identity) =>
        this.log.debug(
          {
            client: clientText,
            port: connection.clientPort,
            caller: identity,
            ms: Math.round((performance.now() - startedMs) * 100) / 100,
          },
          'connection named',
        ),
      );
    }
    return naming;
  }

  answered(id: ConnectionId, target: string, response: ImdsResponse): void {
    const path = targetPath(target);
    this.report(
      this.registry.request(id, {
        use: response.tokenUse ?? 'none',
        credentials: response.credentialsDelivery,
        path: path.length > MAX_PATH ? path.slice(0, MAX_PATH) : path,
        atMs: this.wallMs(),
      }),
    );
  }

  closed(id: ConnectionId): void {
    this.registry.closed(id);
  }

  tokenDied(client: string, clientPort: number, hop: number): void {
    this.registry.tokenDied(client, clientPort, hop);
  }

  snapshot(): CallersSnapshot {
    return {
      enabled: true,
      mode: this.mode,
      method: this.method,
      callers: this.registry.callers(),
      counters: {
        ...this.registry.counters,
        ...prefixed('attributions-', this.resolver.counters),
        ...(this.mode === 'local' ? this.probes.counters : {}),
        'connections-tracked': this.registry.connectionCount,
      },
    };
  }

  private report(events: CallerEvent[]): void {
    for (const event of events) {
      const { caller } = event;
      const fields = { caller: caller.identity, pids: caller.pids, path: event.path };
      const name = caller.identity.name;
      if (event.kind === 'first-v1') this.log.warn(fields, `${name} used IMDSv1: its first request without a token`);
      else if (event.kind === 'first-v1-credentials')
        this.log.warn(fields, `${name} fetched role credentials without a token (IMDSv1)`);
      else {
        this.log.warn(
          { ...fields, hop: event.hop, fallbacks: caller.fallbacksToV1 },
          `${name} fell back to IMDSv1 after its token died at hop ${event.hop} — raise the hop limit to ${event.hop + 1} or run it on the instance`,
        );
      }
    }
  }
}

function prefixed(prefix: string, record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [`${prefix}${key}`, value]));
}

/** The text of the last bytes asked for, kept until other bytes are asked for. */
class LastText {
  private bytes = new Uint8Array(0);
  private text = '';

  constructor(private readonly format: (bytes: Uint8Array) => string) {}

  of(bytes: Uint8Array): string {
    if (!this.same(bytes)) {
      this.bytes = bytes.slice();
      this.text = this.format(bytes);
    }
    return this.text;
  }

  private same(bytes: Uint8Array): boolean {
    if (bytes.length !== this.bytes.length) return false;
    for (let i = 0; i < bytes.length; i++) if (bytes[i] !== this.bytes[i]) return false;
    return true;
  }
}

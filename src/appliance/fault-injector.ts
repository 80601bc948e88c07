// Faults on demand, wired to the packet path and the request path: the packet allowance (drop before TCP), the
// connection cap and the early-boot refusals (RST to the SYN), and per request the early-boot errors, 429 mode
// and the fault rules. The decisions are the fault layer's pure code; this class holds their state (the cap's in
// source-connections.ts), renders what they decide with the engine's own responses, and logs and counts every
// injection by rule.
import type { Logger } from 'pino';
import {
  EarlyBootWindow,
  FaultSet,
  LogLimiter,
  PacketAllowance,
  TokenBucket,
  parseEarlyBoot,
  parseFaultRule,
  parseThrottle,
  throttleFields,
  type EarlyBootSettings,
  type FaultRule,
  type RequestFacts,
  type RuleStatus,
  type ThrottleSettings,
} from '../faults/index.ts';
import { ec2Json, errorResponse, isoSeconds, requestPath, type ImdsRequest } from '../imds/index.ts';
import { Counters } from './counters.ts';
import type { SessionResponse } from './http-session.ts';
import { SourceConnections } from './source-connections.ts';

export interface FaultConfig {
  seed: number;
  throttle: ThrottleSettings;
  earlyBoot: EarlyBootSettings | undefined;
  rules: FaultRule[];
}

export interface RequestPeer {
  address: string;
  mac: string | undefined;
}

interface FaultEngine {
  handle(request: ImdsRequest, wallMs: number): SessionResponse;
}

type FaultMetric = (name: string, labels: Record<string, string>) => void;

/** Sources whose packet buckets and pending handshakes are remembered; past it the least recent is forgotten. */
const MAX_SOURCES = 4096;
const TOKEN_HEADER = 'x-aws-ec2-metadata-token';
const NO_CONTENT: SessionResponse = { status: 0, headers: [], body: '' };

export class FaultInjector {
  readonly counters = new Counters();
  private readonly rules: FaultSet;
  private throttle: ThrottleSettings;
  private packets: PacketAllowance;
  private requestBucket: TokenBucket | undefined;
  private readonly connections = new SourceConnections(MAX_SOURCES);
  private boot: EarlyBootWindow | undefined;
  private readonly logLimiter = new LogLimiter(5, 10_000);

  constructor(
    config: FaultConfig,
    private readonly engine: FaultEngine,
    private readonly metric: FaultMetric,
    private readonly log: Logger,
    startMs: number,
  ) {
    this.rules = new FaultSet(config.seed);
    for (const rule of config.rules) this.rules.add(rule, startMs);
    this.throttle = config.throttle;
    this.packets = new PacketAllowance(this.throttle, MAX_SOURCES);
    this.requestBucket = this.throttle.requestRate ? new TokenBucket(this.throttle.requestRate) : undefined;
    this.boot = config.earlyBoot ? new EarlyBootWindow(config.earlyBoot, startMs) : undefined;
  }

  // ---- packets and connections -------------------------------------------------------------------------------

  /** An IP packet to the service; false means drop it here, before TCP or ICMP sees it. */
  admitPacket(source: number | string, nowMs: number): boolean {
    if (!this.packets.active) return true;
    const verdict = this.packets.admit(source, nowMs);
    if (verdict === 'pass') return true;
    // A flood comes through here: plain counters only (the metrics read them), and a log line only when permitted.
    this.counters.increment('linklocal-allowance-exceeded');
    this.counters.increment(`linklocal-allowance-exceeded-${verdict}`);
    const permit = this.logLimiter.permit('throttle/packet-allowance', nowMs);
    if (permit) {
      const details = {
        rule: 'throttle/packet-allowance',
        action: 'drop-packet',
        over: verdict,
        source: typeof source === 'number' ? ipv4Text(source) : source,
      };
      this.log.warn(permit.suppressed > 0 ? { ...details, suppressed: permit.suppressed } : details, 'fault injected');
    }
    return false;
  }

  admitIpv6Packet(source: Uint8Array, nowMs: number): boolean {
    if (!this.packets.active) return true;
    return this.admitPacket(Buffer.from(source.buffer, source.byteOffset, 16).toString('hex'), nowMs);
  }

  /** The TCP stack asks before a SYN opens a connection: refused (RST) in the early-boot window and over the cap. */
  readonly admitSyn = (remoteAddr: number, nowMs: number): boolean => {
    if (this.boot?.phase(nowMs) === 'refuse') {
      this.counters.increment('connections-refused-early-boot');
      this.report('early-boot', 'refuse-connection', nowMs, {});
      return false;
    }
    const cap = this.throttle.connectionsPerSource;
    if (cap === undefined) return true;
    if (this.connections.admit(remoteAddr, cap, nowMs)) return true;
    this.counters.increment('connections-refused-per-source-cap');
    this.report('throttle/connections-per-source', 'refuse-connection', nowMs, {
      open: this.connections.openFrom(remoteAddr),
      cap,
    });
    return false;
  };

  connectionOpened(id: number, remoteAddr: number): void {
    this.connections.opened(id, remoteAddr);
  }

  connectionClosed(id: number): void {
    this.connections.closed(id);
  }

  // ---- requests ----------------------------------------------------------------------------------------------

  handle(
    request: ImdsRequest,
    connectionId: number,
    peerOf: (id: number) => RequestPeer | undefined,
    nowMs: number,
    wallMs: number,
  ): SessionResponse {
    const phase = this.boot?.phase(nowMs);
    if (phase === 'refuse') {
      // A connection opened before the window was armed: the service is "not up", so it goes away.
      this.report('early-boot', 'reset', nowMs, {});
      return { ...NO_CONTENT, delivery: { delayMs: 0, outcome: 'reset' } };
    }
    if (phase === 'error') {
      const status = this.boot?.settings.errorStatus ?? 401;
      this.report('early-boot', `status-${status}`, nowMs, { path: request.target });
      return errorResponse(status);
    }
    if (phase === 'normal') this.boot = undefined;
    if (this.requestBucket && !this.requestBucket.take(nowMs)) {
      this.counters.increment('requests-throttled-429');
      this.report('throttle/request-rate', 'status-429', nowMs, { path: request.target });
      return errorResponse(429);
    }
    if (this.rules.size === 0) return this.engine.handle(request, wallMs);
    const peer = peerOf(connectionId);
    const facts: RequestFacts = {
      method: request.method,
      path: requestPath(request.target),
      hasToken: request.headers.some(([name]) => name === TOKEN_HEADER),
      sourceAddress: peer?.address ?? '',
      sourceMac: peer?.mac,
    };
    const injection = this.rules.decide(facts, nowMs);
    if (!injection) return this.engine.handle(request, wallMs);
    const { rule } = injection;
    const action = rule.action;
    this.report(rule.name, action.kind, nowMs, {
      method: facts.method,
      path: facts.path,
      source: facts.sourceAddress,
      delayMs: rule.delayMs || undefined,
    });
    const delayMs = rule.delayMs;
    switch (action.kind) {
      case 'delay':
        return { ...this.engine.handle(request, wallMs), delivery: { delayMs, outcome: 'respond' } };
      case 'drop':
      case 'reset':
      case 'close':
        return { ...NO_CONTENT, delivery: { delayMs, outcome: action.kind } };
      case 'status':
        return { ...errorResponse(action.status), delivery: { delayMs, outcome: 'respond' } };
      case 'truncate':
        return {
          ...this.engine.handle(request, wallMs),
          delivery: { delayMs, outcome: 'truncate', truncateBodyBytes: action.bytes },
        };
      case 'expired-credentials': {
        const response = this.engine.handle(request, wallMs);
        const body =
          response.status === 200 && typeof response.body === 'string'
            ? expireCredentials(response.body, wallMs, action.expiredSeconds)
            : undefined;
        if (body === undefined)
          this.log.info(
            { rule: rule.name, path: facts.path },
            'fault rule matched a response without credentials: served unchanged',
          );
        return { ...response, body: body ?? response.body, delivery: { delayMs, outcome: 'respond' } };
      }
      case 'credential-error':
        return {
          status: 200,
          headers: [['Content-Type', 'text/plain']],
          body: ec2Json([
            ['Code', action.code],
            ['LastUpdated', isoSeconds(wallMs)],
            ['Message', action.message],
          ]),
          delivery: { delayMs, outcome: 'respond' },
        };
    }
  }

  // ---- control -----------------------------------------------------------------------------------------------

  /** Adds (or replaces) a rule from its text fields; FaultSpecError names a bad key. */
  addRule(name: string, fields: Record<string, string>, nowMs: number): RuleStatus {
    this.rules.add(parseFaultRule(name, fields), nowMs);
    return this.rules.list(nowMs).find((status) => status.name === name) as RuleStatus;
  }

  clearRules(name: string | undefined): number {
    return this.rules.clear(name);
  }

  listRules(nowMs: number): { seed: number; rules: RuleStatus[]; earlyBoot: string | undefined } {
    return { seed: this.rules.currentSeed, rules: this.rules.list(nowMs), earlyBoot: this.boot?.phase(nowMs) };
  }

  reseed(seed: number): void {
    this.rules.reseed(seed);
  }

  /** Changes the throttle from text fields (keys left out keep their value); buckets start full. */
  setThrottle(fields: Record<string, string>): Record<string, string> {
    this.throttle = parseThrottle(this.throttle, fields);
    this.packets = new PacketAllowance(this.throttle, MAX_SOURCES);
    this.requestBucket = this.throttle.requestRate ? new TokenBucket(this.throttle.requestRate) : undefined;
    return throttleFields(this.throttle);
  }

  throttleSettings(): Record<string, string> {
    return throttleFields(this.throttle);
  }

  /** Starts an early-boot window now, as if the instance had just launched. */
  armEarlyBoot(fields: Record<string, string>, nowMs: number): EarlyBootSettings {
    const settings = parseEarlyBoot(fields);
    this.boot = new EarlyBootWindow(settings, nowMs);
    return settings;
  }

  /** Every injection: counted per rule in the metrics, logged once with its rule name, rate-limited per rule. */
  private report(rule: string, action: string, nowMs: number, details: Record<string, unknown>): void {
    this.metric('faults_injected', { rule, action });
    const permit = this.logLimiter.permit(rule, nowMs);
    if (permit) {
      this.log.warn(
        { rule, action, ...details, ...(permit.suppressed > 0 ? { suppressed: permit.suppressed } : {}) },
        'fault injected',
      );
    }
  }
}

function ipv4Text(address: number): string {
  return [address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255].join('.');
}

/** The engine's credentials with Expiration moved `expiredSeconds` into the past, keys and layout unchanged. */
export function expireCredentials(body: string, wallMs: number, expiredSeconds: number): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const fields = parsed as Record<string, unknown>;
  if (typeof fields.Expiration !== 'string' || typeof fields.LastUpdated !== 'string') return undefined;
  const lifetimeMs = Math.max(0, Date.parse(fields.Expiration) - Date.parse(fields.LastUpdated)) || 3_600_000;
  const expirationMs = wallMs - expiredSeconds * 1000;
  const entries = Object.entries(fields).map(([key, value]): [string, string] => [
    key,
    key === 'Expiration'
      ? isoSeconds(expirationMs)
      : key === 'LastUpdated'
        ? isoSeconds(expirationMs - lifetimeMs)
        : String(value),
  ]);
  return ec2Json(entries);
}

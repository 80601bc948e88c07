// The Prometheus text of what ApplianceMetrics counted, laid out by prom-client: loaded on demand (metrics.ts),
// so an appliance nobody scrapes never pays for it. Every series is read from its source at scrape time; the
// metrics appear in the order they always have: packet counters, callers, then each IMDS metric as first counted.
import { Counter, Gauge, Registry } from 'prom-client';
import type { CallerRegistry, CallerStats } from '../callers/index.ts';

/** One labelled series of an IMDS metric and its count. */
export interface CountedSeries {
  labels: Record<string, string>;
  count: number;
}

/** Where the Prometheus text reads from at every scrape. */
export interface ExpositionSources {
  /** The packet path's counters (frames, drops by reason, TCP events). */
  hostCounters: () => Record<string, number>;
  /** Per-caller series, when caller attribution is on. */
  callers?: CallerRegistry;
  /** The IMDS metrics by name, then by series: both in order of first increment. */
  counted: () => ReadonlyMap<string, ReadonlyMap<string, CountedSeries>>;
}

const PREFIX = 'imds_hop_';

const HELP: Record<string, string> = {
  metadata_no_token: 'Metadata requests answered without a token (CloudWatch MetadataNoToken)',
  metadata_no_token_rejected:
    'Metadata requests without a token refused because tokens are required (MetadataNoTokenRejected)',
  faults_injected: 'Faults injected on demand, by rule (throttle/..., early-boot, or a fault rule name) and action',
};

/** Callers with series of their own in the metrics; the rest are summed as "other". */
const CALLER_LABELS_TOP = 10;

export class PrometheusExposition {
  private readonly registry = new Registry();
  /** IMDS metrics given a prom-client counter so far. */
  private readonly registered = new Set<string>();

  constructor(private readonly sources: ExpositionSources) {
    const { hostCounters } = sources;
    new Gauge({
      name: `${PREFIX}packet_counter`,
      help: 'Counters of the packet path (frames, drops by reason, TCP events), by name',
      labelNames: ['name'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [name, value] of Object.entries(hostCounters())) this.set({ name }, value);
      },
    });
    if (sources.callers) registerCallerMetrics(this.registry, sources.callers);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    this.registerNewMetrics();
    return this.registry.metrics();
  }

  /** A counter for each IMDS metric counted since the last scrape, labelled as its first increment was. */
  private registerNewMetrics(): void {
    for (const [name, byKey] of this.sources.counted()) {
      if (this.registered.has(name)) continue;
      const first = byKey.values().next().value;
      new Counter({
        name: `${PREFIX}${name}_total`,
        help: HELP[name] ?? name.replaceAll('_', ' '),
        labelNames: Object.keys(first?.labels ?? {}).sort(),
        registers: [this.registry],
        collect() {
          this.reset();
          for (const { labels, count } of byKey.values()) this.inc(labels, count);
        },
      });
      this.registered.add(name);
    }
  }
}

/** Per-caller series for the top callers by requests and "other" for the rest, so label values stay bounded. */
function registerCallerMetrics(registry: Registry, callerRegistry: CallerRegistry): void {
  const callers = () => callerRegistry.callers();
  new Gauge({
    name: 'imds_hop_caller_requests',
    help: `Requests by caller (top ${CALLER_LABELS_TOP} by requests, the rest as "other") and token use`,
    labelNames: ['caller', 'use'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [caller, stats] of topCallers(callers())) {
        const uses = {
          v1: stats.v1,
          v1_rejected: stats.v1Rejected,
          v2: stats.v2,
          token_issued: stats.tokensIssued,
          token_refused: stats.tokenRequestsRefused,
          token_rejected: stats.tokensRejected,
        };
        for (const [use, value] of Object.entries(uses)) this.set({ caller, use }, value);
      }
    },
  });
  new Gauge({
    name: 'imds_hop_caller_credentials',
    help: `Role credentials served by caller (top ${CALLER_LABELS_TOP}, the rest as "other") and delivery (1.0 without a token, 2.0 with)`,
    labelNames: ['caller', 'role_delivery'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [caller, stats] of topCallers(callers())) {
        this.set({ caller, role_delivery: '1.0' }, stats.credentials['1.0']);
        this.set({ caller, role_delivery: '2.0' }, stats.credentials['2.0']);
      }
    },
  });
  const counters = callerRegistry.counters;
  new Counter({
    name: 'imds_hop_callers_fell_back_to_v1_total',
    help: 'Callers that made an IMDSv1 request after their token response died at a router (the hop-limit trap)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(counters.fallbacksToV1);
    },
  });
}

/** The label value of each caller: the top callers by requests by name (container appended), the rest "other". */
function topCallers(callers: CallerStats[], top = CALLER_LABELS_TOP): Map<string, CallerStats> {
  const labelled = new Map<string, CallerStats>();
  const sorted = [...callers].sort((a, b) => b.requests - a.requests);
  sorted.forEach((stats, index) => {
    const container = stats.identity.container
      ? ` [${stats.identity.container.runtime}:${stats.identity.container.id.slice(0, 12)}]`
      : '';
    const label = index < top ? `${stats.identity.name}${container}` : 'other';
    const existing = labelled.get(label);
    labelled.set(label, existing ? sumStats(existing, stats) : stats);
  });
  return labelled;
}

function sumStats(a: CallerStats, b: CallerStats): CallerStats {
  return {
    ...a,
    requests: a.requests + b.requests,
    v1: a.v1 + b.v1,
    v1Rejected: a.v1Rejected + b.v1Rejected,
    v2: a.v2 + b.v2,
    tokensIssued: a.tokensIssued + b.tokensIssued,
    tokenRequestsRefused: a.tokenRequestsRefused + b.tokenRequestsRefused,
    tokensRejected: a.tokensRejected + b.tokensRejected,
    credentials: {
      '1.0': a.credentials['1.0'] + b.credentials['1.0'],
      '2.0': a.credentials['2.0'] + b.credentials['2.0'],
    },
    fallbacksToV1: a.fallbacksToV1 + b.fallbacksToV1,
  };
}

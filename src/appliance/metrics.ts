// Prometheus exposition of what the appliance counts: the engine's IMDS metrics (MetadataNoToken and friends)
// as counters, and the packet path's counters (drops by reason, TCP events) read at scrape time.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import { OperatorError } from '../errors/operator-error.ts';
import { LISTEN_ADDRESS, RuleViolation, type ListenAddress } from '../imds/value-rules.ts';

const PREFIX = 'imds_hop_';

const HELP: Record<string, string> = {
  metadata_no_token: 'Metadata requests answered without a token (CloudWatch MetadataNoToken)',
  metadata_no_token_rejected:
    'Metadata requests without a token refused because tokens are required (MetadataNoTokenRejected)',
  faults_injected: 'Faults injected on demand, by rule (throttle/..., early-boot, or a fault rule name) and action',
};

export class ApplianceMetrics {
  readonly registry = new Registry();
  private readonly counters = new Map<string, Counter<string>>();
  private readonly totals = new Map<string, number>();

  /** `hostCounters` is read on every scrape, so the packet path never touches prom-client. */
  constructor(hostCounters: () => Record<string, number>) {
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
  }

  /** The engine's metrics sink. */
  increment(name: string, labels: Record<string, string> = {}): void {
    let counter = this.counters.get(name);
    if (!counter) {
      counter = new Counter({
        name: `${PREFIX}${name}_total`,
        help: HELP[name] ?? name.replaceAll('_', ' '),
        labelNames: Object.keys(labels).sort(),
        registers: [this.registry],
      });
      this.counters.set(name, counter);
    }
    counter.inc(labels);
    this.totals.set(name, (this.totals.get(name) ?? 0) + 1);
  }

  /** Totals by metric name (labels summed), for the periodic log summary. */
  summary(): Record<string, number> {
    return Object.fromEntries([...this.totals.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

export class MetricsListenError extends OperatorError {}

/** Parses "HOST:PORT" (IPv4 or [IPv6]) for the metrics listener. */
export function parseListenAddress(text: string): ListenAddress {
  try {
    return LISTEN_ADDRESS.check(text);
  } catch (error) {
    if (error instanceof RuleViolation) throw new MetricsListenError('BAD_METRICS_LISTEN', `metrics ${error.message}`);
    throw error;
  }
}

/** Serves GET /metrics in the Prometheus text format. */
export async function startMetricsServer(metrics: ApplianceMetrics, listen: string): Promise<Server> {
  const { host, port } = parseListenAddress(listen);
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: try GET /metrics\n');
      return;
    }
    metrics.text().then(
      (body) => response.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(body),
      (error: Error) => response.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${error.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(new MetricsListenError('METRICS_LISTEN_FAILED', `cannot serve metrics on ${listen}: ${error.message}`)),
    );
    server.listen(port, host, () => resolve());
  });
  return server;
}

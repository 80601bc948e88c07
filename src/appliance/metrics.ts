// What the appliance counts for Prometheus: the engine's IMDS metrics (MetadataNoToken and friends) kept here in
// plain maps, and the packet path's and callers' counters read at scrape time. prom-client (a dozen MiB once
// loaded) is imported only when the Prometheus text is first wanted: at start with a metrics listener, else on
// the first `imds-hop metrics`.
import { createServer, type Server } from 'node:http';
import { OperatorError } from '../errors/operator-error.ts';
import { LISTEN_ADDRESS, RuleViolation, type ListenAddress } from '../imds/value-rules.ts';
import type { CountedSeries, ExpositionSources, PrometheusExposition } from './prometheus-exposition.ts';

/** The packet path's and callers' counters, read at every scrape. */
type MetricsSources = Omit<ExpositionSources, 'counted'>;

export class ApplianceMetrics {
  /** By metric name, then by series key: both in order of first increment, the order the exposition lists them. */
  private readonly series = new Map<string, Map<string, CountedSeries>>();
  private exposition: Promise<PrometheusExposition> | undefined;

  constructor(private readonly sources: MetricsSources) {}

  /** The engine's metrics sink. */
  increment(name: string, labels: Record<string, string> = {}): void {
    let byKey = this.series.get(name);
    if (!byKey) {
      byKey = new Map();
      this.series.set(name, byKey);
    }
    const key = seriesKey(labels);
    const counted = byKey.get(key);
    if (counted) counted.count += 1;
    else byKey.set(key, { labels: { ...labels }, count: 1 });
  }

  /** Totals by metric name (labels summed), for the periodic log summary. */
  summary(): Record<string, number> {
    const totals = [...this.series].map(([name, byKey]): [string, number] => [
      name,
      [...byKey.values()].reduce((sum, s) => sum + s.count, 0),
    ]);
    return Object.fromEntries(totals.sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Loads prom-client (once) and lays out its registry. */
  prometheus(): Promise<PrometheusExposition> {
    this.exposition ??= import('./prometheus-exposition.ts').then(
      ({ PrometheusExposition }) => new PrometheusExposition({ ...this.sources, counted: () => this.series }),
    );
    return this.exposition;
  }

  async text(): Promise<string> {
    return (await this.prometheus()).text();
  }
}

/** Labels in name order, as prom-client keys a series: the same labels in any order are one series. */
function seriesKey(labels: Record<string, string>): string {
  const names = Object.keys(labels);
  if (names.length === 0) return ''; // most increments: no labels, on the request path
  if (!inOrder(names)) names.sort(); // the engine passes its labels in order: no sort's work array
  // Label values come from fixed sets (path classes, status codes, reasons): none holds a NUL.
  let key = '';
  for (const name of names) key += `${name}\u0000${labels[name]}\u0000`;
  return key;
}

function inOrder(names: string[]): boolean {
  for (let i = 1; i < names.length; i++) if ((names[i - 1] as string) > (names[i] as string)) return false;
  return true;
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
  const exposition = await metrics.prometheus();
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: try GET /metrics\n');
      return;
    }
    exposition.text().then(
      (body) => response.writeHead(200, { 'Content-Type': exposition.contentType }).end(body),
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

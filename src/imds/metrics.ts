// Counters the engine reports through an injected sink, so src/imds stays free of any metrics library.
// metadata_no_token / metadata_no_token_rejected mirror the CloudWatch instance metrics MetadataNoToken and
// MetadataNoTokenRejected.

export type ImdsMetricName =
  | 'metadata_no_token'
  | 'metadata_no_token_rejected'
  | 'tokens_issued'
  | 'token_requests_refused'
  | 'tokens_rejected'
  | 'requests'
  | 'credentials_served';

export interface MetricsSink {
  increment(name: ImdsMetricName, labels?: Record<string, string>): void;
}

/** Key of one series: `name` or `name{a="1",b="2"}` with labels sorted by name. */
function seriesKey(name: string, labels: Record<string, string> = {}): string {
  const parts = Object.keys(labels)
    .sort()
    .map((key) => `${key}="${labels[key]}"`);
  return parts.length === 0 ? name : `${name}{${parts.join(',')}}`;
}

/** A sink that keeps counts in memory: for tests and for end-of-run summaries. */
export class RecordingMetrics implements MetricsSink {
  private readonly counts = new Map<string, number>();

  increment(name: ImdsMetricName, labels?: Record<string, string>): void {
    const key = seriesKey(name, labels);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Count of one exact series (labels must match exactly). */
  count(name: ImdsMetricName, labels?: Record<string, string>): number {
    return this.counts.get(seriesKey(name, labels)) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}

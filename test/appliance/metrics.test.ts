// The appliance's metrics: counted without prom-client, laid out by it only when the Prometheus text is wanted,
// and that text the same as counting into live prom-client counters gave.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Counter, Gauge, Registry } from 'prom-client';
import { ApplianceMetrics } from '../../src/appliance/metrics.ts';

/** The metrics as they were counted before counting left prom-client: a live counter per metric name. */
class LiveCounters {
  readonly registry = new Registry();
  private readonly counters = new Map<string, Counter<string>>();

  constructor(hostCounters: () => Record<string, number>) {
    new Gauge({
      name: 'imds_hop_packet_counter',
      help: 'Counters of the packet path (frames, drops by reason, TCP events), by name',
      labelNames: ['name'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [name, value] of Object.entries(hostCounters())) this.set({ name }, value);
      },
    });
  }

  increment(name: string, labels: Record<string, string> = {}): void {
    let counter = this.counters.get(name);
    if (!counter) {
      const help: Record<string, string> = {
        metadata_no_token: 'Metadata requests answered without a token (CloudWatch MetadataNoToken)',
        metadata_no_token_rejected:
          'Metadata requests without a token refused because tokens are required (MetadataNoTokenRejected)',
        faults_injected:
          'Faults injected on demand, by rule (throttle/..., early-boot, or a fault rule name) and action',
      };
      counter = new Counter({
        name: `imds_hop_${name}_total`,
        help: help[name] ?? name.replaceAll('_', ' '),
        labelNames: Object.keys(labels).sort(),
        registers: [this.registry],
      });
      this.counters.set(name, counter);
    }
    counter.inc(labels);
  }
}

/** Metric names with the label names each always carries (the engine's and fault injector's shapes). */
const SHAPES: Record<string, readonly string[]> = {
  metadata_no_token: [],
  tokens_issued: [],
  requests: ['kind'],
  faults_injected: ['rule', 'action'],
};

const step = fc.oneof(
  fc.record({
    name: fc.constantFrom(...Object.keys(SHAPES)),
    values: fc.array(fc.constantFrom('a', 'b', 'x y', 'quo"te'), { minLength: 2, maxLength: 2 }),
    reversed: fc.boolean(),
  }),
  fc.constant('scrape' as const),
);

describe('appliance metrics', () => {
  it('gives the Prometheus text live prom-client counters gave, scraped at any point', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        let frames = 0;
        const hostCounters = () => ({ 'frames-in': frames, 'drops-bad-checksum': frames >> 1 });
        const live = new LiveCounters(hostCounters);
        const counted = new ApplianceMetrics({ hostCounters });
        for (const s of steps) {
          if (s === 'scrape') {
            assert.equal(await counted.text(), await live.registry.metrics());
            continue;
          }
          frames += 3;
          const names = SHAPES[s.name] ?? [];
          const entries = names.map((label, i) => [label, s.values[i] ?? ''] as const);
          const labels = Object.fromEntries(s.reversed ? entries.reverse() : entries);
          live.increment(s.name, labels);
          counted.increment(s.name, labels);
        }
        assert.equal(await counted.text(), await live.registry.metrics());
        const totals: Record<string, number> = {};
        for (const s of steps) if (s !== 'scrape') totals[s.name] = (totals[s.name] ?? 0) + 1;
        assert.deepEqual(
          counted.summary(),
          Object.fromEntries(Object.entries(totals).sort(([a], [b]) => a.localeCompare(b))),
        );
      }),
      { numRuns: 60 },
    );
  });

  it('counts without loading prom-client, and loads it for the first Prometheus text', () => {
    const script = `
      import { createRequire } from 'node:module';
      const { ApplianceMetrics } = await import('./src/appliance/metrics.ts');
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes('/prom-client/'));
      const metrics = new ApplianceMetrics({ hostCounters: () => ({}) });
      metrics.increment('requests', { kind: 'v2' });
      const before = loaded();
      const text = await metrics.text();
      console.log(JSON.stringify({ before, after: loaded(), text }));`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url),
      encoding: 'utf8',
    });
    const result = JSON.parse(out) as { before: boolean; after: boolean; text: string };
    assert.equal(result.before, false, 'prom-client loaded before anything asked for the Prometheus text');
    assert.equal(result.after, true);
    assert.match(result.text, /^imds_hop_requests_total\{kind="v2"\} 1$/m);
  });
});

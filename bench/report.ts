// The bench's table, its imds-hop/baseline ratios and the issue-8 targets, computed from the measured rows.
import type { ServerName } from './servers.ts';

export type Workload = 'new-connection-flow' | 'keep-alive-get' | 'keep-alive-get+idle';

export interface Row {
  /** Which interleaved round of the run measured it (1-based). */
  round: number;
  workload: Workload;
  server: ServerName;
  requestsPerSecond: number;
  /** Completed PUT+GET flows per second (new-connection-flow only). */
  flowsPerSecond?: number;
  p50Ms: number;
  p99Ms: number;
  cpuSeconds: number;
  cpuMicrosPerRequest: number;
  /** The pinned server core's busy time per request: the process and the kernel's packet work steered there. */
  serverCoreMicrosPerRequest?: number;
  peakRssMiB: number;
  errors: number;
  /** Packets per second at the instance's interface, both directions / instance to service only. */
  packetsPerSecond?: number;
  packetsInPerSecond?: number;
  /** Inbound packets per second of the server's own CPU time: its one-core capacity, independent of steal. */
  packetsInPerServerCpuSecond?: number;
  /** Share of the run the generator's and the server's pinned CPUs were busy (0..1). */
  generatorCpuBusy?: number;
  serverCpuBusy?: number;
  /** Share of the pinned CPUs' time the hypervisor gave to other guests during the run (0..1). */
  cpuSteal?: number;
  idleConnections?: number;
  idleFailed?: number;
  idleDroppedByServer?: number;
  rssGrowthPerIdleConnectionBytes?: number;
  p99RatioToNoIdle?: number;
}

export interface Target {
  target: string;
  measured: string;
  met: boolean;
}

/** EC2 throttles traffic to the metadata service at 1024 packets per second per instance. */
export const IMDS_PACKET_BUDGET = 1024;

function find(rows: Row[], workload: Workload, server: Row['server']): Row | undefined {
  return rows.find((r) => r.workload === workload && r.server === server);
}

export function ratios(rows: Row[]): Array<{
  workload: Workload;
  baseline: string;
  requestsPerSecond: number;
  p99: number;
  cpuPerRequest: number;
  peakRss: number;
}> {
  const out = [];
  for (const row of rows.filter((r) => r.server === 'imds-hop')) {
    for (const baseline of ['node:http', 'nginx'] as const) {
      const other = find(rows, row.workload, baseline);
      if (!other) continue;
      out.push({
        workload: row.workload,
        baseline,
        requestsPerSecond: row.requestsPerSecond / other.requestsPerSecond,
        p99: row.p99Ms / other.p99Ms,
        cpuPerRequest: row.cpuMicrosPerRequest / other.cpuMicrosPerRequest,
        peakRss: row.peakRssMiB / other.peakRssMiB,
      });
    }
  }
  return out;
}

/**
 * imds-hop as it starts by default / one of its variants (attribution off, V8's default heap), per workload: req/s
 * and CPU per request, each round and the median.
 */
export function variantCost(
  all: Row[],
  variant: Row['server'],
): Array<{
  workload: Workload;
  requestsPerSecond: number[];
  cpuPerRequest: number[];
  medianRequestsPerSecond: number;
  medianCpuPerRequest: number;
}> {
  const workloads = [...new Set(all.filter((r) => r.server === variant).map((r) => r.workload))];
  return workloads.flatMap((workload) => {
    const requestsPerSecond = roundRatios(all, workload, variant, (r) => r.requestsPerSecond);
    const cpuPerRequest = roundRatios(all, workload, variant, (r) => r.cpuMicrosPerRequest);
    if (requestsPerSecond.length === 0) return [];
    return [
      {
        workload,
        requestsPerSecond,
        cpuPerRequest,
        medianRequestsPerSecond: medianOf(requestsPerSecond),
        medianCpuPerRequest: medianOf(cpuPerRequest),
      },
    ];
  });
}

/** Per (workload, server): the round with the median req/s, whole, so its figures stay consistent. */
export function medianRows(rows: Row[]): Row[] {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const key = `${row.workload}\u0000${row.server}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return [...groups.values()].map((group) => {
    const sorted = [...group].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
    return sorted[Math.floor((sorted.length - 1) / 2)] as Row;
  });
}

/**
 * imds-hop / baseline of one figure of one workload in each round, for the spread behind a median ratio; a round
 * where either lacks the figure (or the baseline's is 0) is left out.
 */
export function roundRatios(
  all: Row[],
  workload: Workload,
  baseline: Row['server'],
  value: (r: Row) => number | undefined,
): number[] {
  const out: number[] = [];
  for (const hop of all.filter((r) => r.workload === workload && r.server === 'imds-hop')) {
    const other = all.find((r) => r.workload === workload && r.server === baseline && r.round === hop.round);
    const mine = value(hop);
    const theirs = other && value(other);
    if (mine !== undefined && theirs !== undefined && theirs !== 0) out.push(mine / theirs);
  }
  return out;
}

/** The median of per-round ratios: each pairs two servers measured minutes apart, so host drift cancels. */
export function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function spread(values: number[]): string {
  return values.length > 1 ? ` (rounds: ${values.map((v) => `${v.toFixed(2)}x`).join(', ')})` : '';
}

export function evaluateTargets(rows: Row[], all: Row[] = rows): Target[] {
  const targets: Target[] = [];
  const hopKeep = find(rows, 'keep-alive-get', 'imds-hop');
  const nodeKeep = find(rows, 'keep-alive-get', 'node:http');
  if (hopKeep && nodeKeep) {
    const perRound = roundRatios(all, 'keep-alive-get', 'node:http', (r) => r.requestsPerSecond);
    const ratio = perRound.length > 0 ? medianOf(perRound) : hopKeep.requestsPerSecond / nodeKeep.requestsPerSecond;
    targets.push({
      target: 'keep-alive GET req/s >= node:http (median of per-round ratios)',
      measured: `${ratio.toFixed(2)}x${spread(perRound)}`,
      met: ratio >= 1,
    });
  }
  const hopFlow = find(rows, 'new-connection-flow', 'imds-hop');
  const nodeFlow = find(rows, 'new-connection-flow', 'node:http');
  if (hopFlow?.packetsInPerSecond !== undefined) {
    const budgets = hopFlow.packetsInPerSecond / IMDS_PACKET_BUDGET;
    const capacity = (hopFlow.packetsInPerServerCpuSecond ?? Number.NaN) / IMDS_PACKET_BUDGET;
    targets.push({
      target: 'new-connection flow >= 50x 1024 packets/s (instance to service)',
      measured: `${budgets.toFixed(1)}x in wall-clock time; ${capacity.toFixed(1)}x per second of imds-hop CPU`,
      met: budgets >= 50,
    });
  }
  if (hopFlow && nodeFlow) {
    const perRound = roundRatios(all, 'new-connection-flow', 'node:http', (r) => r.flowsPerSecond ?? 0);
    const ratio =
      perRound.length > 0
        ? medianOf(perRound)
        : (hopFlow.flowsPerSecond ?? 0) / (nodeFlow.flowsPerSecond ?? Number.NaN);
    targets.push({
      target: 'new-connection flows/s >= 0.5x node:http (median of per-round ratios)',
      measured: `${ratio.toFixed(2)}x${spread(perRound)}`,
      met: ratio >= 0.5,
    });
  }
  const hopIdle = find(rows, 'keep-alive-get+idle', 'imds-hop');
  if (hopIdle?.rssGrowthPerIdleConnectionBytes !== undefined) {
    const bytes = hopIdle.rssGrowthPerIdleConnectionBytes;
    targets.push({
      target: `idle connections: RSS growth < 2 KiB/connection (${hopIdle.idleConnections})`,
      measured: `${bytes.toFixed(0)} B`,
      met: bytes < 2048,
    });
  }
  if (hopIdle?.p99RatioToNoIdle !== undefined) {
    const ratio = hopIdle.p99RatioToNoIdle;
    targets.push({
      target: 'idle connections: keep-alive p99 <= 2x without them',
      measured: `${ratio.toFixed(2)}x`,
      met: ratio <= 2,
    });
  }
  return targets;
}

function fmt(value: number | undefined, digits = 0): string {
  return value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits);
}

function percent(share: number | undefined): string {
  return share === undefined || Number.isNaN(share) ? '-' : `${Math.round(share * 100)}%`;
}

function table(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function printTable(
  rows: Row[],
  targets: Target[],
  machine: Record<string, unknown>,
  settings: Record<string, unknown>,
): void {
  console.log(
    `\nimds-hop bench (${Object.entries(settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')})`,
  );
  console.log(
    `machine: ${Object.entries(machine)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
  );
  const rounds = Number(settings.rounds ?? 1);
  console.log(
    rounds > 1 ? `each row: the round (of ${rounds}) with the median req/s; every round is in the JSON\n` : '',
  );
  console.log(
    table(
      [
        'workload',
        'server',
        'req/s',
        'flows/s',
        'p50 ms',
        'p99 ms',
        'CPU s',
        'CPU us/req',
        'core us/req',
        'peak RSS MiB',
        'errors',
        'pkts in/s',
        'pkts/s',
        'in pkts/CPU s',
        'gen CPU',
        'srv CPU',
        'steal',
        'RSS B/idle conn',
      ],
      rows.map((r) => [
        r.workload,
        r.server,
        fmt(r.requestsPerSecond),
        fmt(r.flowsPerSecond),
        fmt(r.p50Ms, 2),
        fmt(r.p99Ms, 2),
        fmt(r.cpuSeconds, 2),
        fmt(r.cpuMicrosPerRequest, 1),
        fmt(r.serverCoreMicrosPerRequest, 1),
        fmt(r.peakRssMiB, 1),
        String(r.errors),
        fmt(r.packetsInPerSecond),
        fmt(r.packetsPerSecond),
        fmt(r.packetsInPerServerCpuSecond),
        percent(r.generatorCpuBusy),
        percent(r.serverCpuBusy),
        percent(r.cpuSteal),
        fmt(r.rssGrowthPerIdleConnectionBytes),
      ]),
    ),
  );
  console.log('\nratios imds-hop / baseline');
  console.log(
    table(
      ['workload', 'baseline', 'req/s', 'p99', 'CPU/req', 'peak RSS'],
      ratios(rows).map((r) => [
        r.workload,
        r.baseline,
        fmt(r.requestsPerSecond, 2),
        fmt(r.p99, 2),
        fmt(r.cpuPerRequest, 2),
        fmt(r.peakRss, 2),
      ]),
    ),
  );
  printTargets('issue 8', targets);
}

export function printTargets(title: string, targets: Target[]): void {
  if (targets.length === 0) return;
  console.log(`\ntargets (${title})`);
  for (const t of targets) console.log(`  [${t.met ? 'met' : 'NOT met'}] ${t.target}: ${t.measured}`);
}

// `imds-hop status`: what a running appliance serves right now — where, as which instance, with which options,
// which instance events are pending, and how many requests and tokens it has handled.
import type { Command } from 'commander';
import type { EventsSnapshot, MetadataOptions } from '../imds/index.ts';
import type { MemoryReport } from '../appliance/memory-report.ts';
import { callControl } from './control-client.ts';
import { socketOf, withSocket } from './control.ts';

/** The `status` control op's answer (appliance/control-handler.ts). */
export interface ApplianceStatus {
  instanceId: string;
  interface: string;
  backend: string;
  startedAt: string;
  uptimeSeconds: number;
  options: MetadataOptions;
  events: EventsSnapshot;
  /** IMDS counters by metric name, labels summed. */
  imds: Record<string, number>;
  memory: MemoryReport;
}

export function addStatusCommand(program: Command): void {
  withSocket(
    program
      .command('status')
      .description('what a running appliance serves: instance, options, pending events, request and token counts'),
  )
    .option('--json', 'the whole status as JSON')
    .action(async (opts: { interface: string; controlSocket?: string; json?: boolean }) => {
      const status = (await callControl(socketOf(opts), { op: 'status' })) as ApplianceStatus;
      process.stdout.write(opts.json ? `${JSON.stringify(status, null, 2)}\n` : statusText(status));
    });
}

/** 3725 → "1h 2m 5s". */
function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h ${m}m ${s}s` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}

function eventLines(events: EventsSnapshot): string[] {
  const lines: string[] = [];
  if (events.spot) lines.push(`spot interruption: ${events.spot.action} at ${events.spot.time}`);
  if (events.rebalance) lines.push(`rebalance recommended at ${events.rebalance.noticeTime}`);
  for (const event of events.scheduled) {
    const window = `${new Date(event.notBeforeMs).toISOString()} .. ${new Date(event.notAfterMs).toISOString()}`;
    lines.push(`maintenance ${event.eventId}: ${event.code}, ${window} (${event.state})`);
  }
  if (events.autoscalingTargetLifecycleState !== undefined)
    lines.push(`target lifecycle state: ${events.autoscalingTargetLifecycleState}`);
  return lines;
}

function mebibytes(bytes: number | undefined): string {
  return bytes === undefined ? '?' : `${(bytes / 1_048_576).toFixed(1)} MiB`;
}

/** "rss 52.1 MiB (peak 64.0 MiB; own 40.0 MiB, mapped files 12.1 MiB), heap 9.8 MiB of 14.2 MiB, ..." */
function memoryText(memory: MemoryReport | undefined): string {
  if (!memory) return 'not reported';
  return (
    `rss ${mebibytes(memory.rssBytes)} (peak ${mebibytes(memory.peakRssBytes)}; own ${mebibytes(memory.rssAnonBytes)}, ` +
    `mapped files ${mebibytes(memory.rssFileBytes)}), ` +
    `heap ${mebibytes(memory.heapUsedBytes)} of ${mebibytes(memory.heapTotalBytes)}, ` +
    `young ${mebibytes(memory.heapSpaces.new_space?.sizeBytes)}, buffers ${mebibytes(memory.externalBytes)}`
  );
}

/** The status as aligned lines for a person; `--json` gives every field. */
export function statusText(status: ApplianceStatus): string {
  const { options, imds } = status;
  const events = eventLines(status.events);
  const rows: Array<[string, string]> = [
    ['instance', status.instanceId],
    ['interface', `${status.interface} (${status.backend} backend)`],
    ['up', `${duration(status.uptimeSeconds)}, since ${status.startedAt}`],
    ['http-tokens', options.httpTokens],
    ['http-endpoint', options.httpEndpoint],
    ['hop limit', String(options.httpPutResponseHopLimit)],
    ['instance tags', options.instanceMetadataTags],
    ['IPv6 endpoint', options.httpProtocolIpv6],
    ['events', events.length === 0 ? 'none' : (events[0] as string)],
    ...events.slice(1).map((line): [string, string] => ['', line]),
    ['requests', String(imds.requests ?? 0)],
    ['tokens issued', String(imds.tokens_issued ?? 0)],
    ['tokens rejected', String(imds.tokens_rejected ?? 0)],
    ['without token', `${imds.metadata_no_token ?? 0} (rejected: ${imds.metadata_no_token_rejected ?? 0})`],
    ['credentials served', String(imds.credentials_served ?? 0)],
    ['memory', memoryText(status.memory)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}\n`).join('');
}

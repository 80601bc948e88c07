// How much memory the appliance holds, for `imds-hop status`: the kernel's view (resident now and at its peak,
// from /proc/self/status) and V8's (heap spaces, buffers outside the heap), so an operator can tell a growing
// table from a young generation sized for a burst.
import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

export interface MemoryReport {
  rssBytes: number;
  /** VmHWM: the most resident memory since start. */
  peakRssBytes: number | undefined;
  /** RssAnon: the process's own pages (heap, stacks, buffers). */
  rssAnonBytes: number | undefined;
  /** RssFile: pages of files it maps (node's code, libraries), shared with other processes mapping them. */
  rssFileBytes: number | undefined;
  heapUsedBytes: number;
  heapTotalBytes: number;
  /** Memory of Buffers and ArrayBuffers, outside the V8 heap. */
  externalBytes: number;
  /** Each V8 heap space's committed size and used bytes (new_space is the young generation). */
  heapSpaces: Record<string, { sizeBytes: number; usedBytes: number }>;
}

function statusBytes(status: string, key: string): number | undefined {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

export function memoryReport(): MemoryReport {
  const usage = process.memoryUsage();
  let status = '';
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    // not Linux's /proc: the kernel's figures are left out
  }
  const heapSpaces: MemoryReport['heapSpaces'] = {};
  for (const space of getHeapSpaceStatistics())
    heapSpaces[space.space_name] = { sizeBytes: space.space_size, usedBytes: space.space_used_size };
  return {
    rssBytes: usage.rss,
    peakRssBytes: statusBytes(status, 'VmHWM'),
    rssAnonBytes: statusBytes(status, 'RssAnon'),
    rssFileBytes: statusBytes(status, 'RssFile'),
    heapUsedBytes: usage.heapUsed,
    heapTotalBytes: usage.heapTotal,
    externalBytes: usage.external,
    heapSpaces,
  };
}

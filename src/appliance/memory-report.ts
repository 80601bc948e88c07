// How much memory the appliance holds, for `imds-hop status`: the kernel's view (resident now and at its peak,
// from /proc/self/status) and V8's (heap spaces, buffers outside the heap), so an operator can tell a growing
// table from a young generation sized for a burst.
import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

export interface MemoryReport {
  rssBytes: number;
  /** VmHWM: the most resident memory since start. */
  peakRssBytes: number | undefined;
  heapUsedBytes: number;
  heapTotalBytes: number;
  /** Memory of Buffers and ArrayBuffers, outside the V8 heap. */
  externalBytes: number;
  /** Each V8 heap space's committed size and used bytes (new_space is the young generation). */
  heapSpaces: Record<string, { sizeBytes: number; usedBytes: number }>;
}

function peakRssBytes(): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export function memoryReport(): MemoryReport {
  const usage = process.memoryUsage();
  const heapSpaces: MemoryReport['heapSpaces'] = {};
  for (const space of getHeapSpaceStatistics())
    heapSpaces[space.space_name] = { sizeBytes: space.space_size, usedBytes: space.space_used_size };
  return {
    rssBytes: usage.rss,
    peakRssBytes: peakRssBytes(),
    heapUsedBytes: usage.heapUsed,
    heapTotalBytes: usage.heapTotal,
    externalBytes: usage.external,
    heapSpaces,
  };
}

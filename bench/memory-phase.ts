// `--workloads=memory`: the memory targets of issue 17 on a freshly started server — RSS idle after start, peak
// RSS under the new-connection flow, and whether RSS comes back (within 10%) a minute after a burst of 10,000
// connections ends. Every server gets the same sequence, so the baselines show what "back" means for them.
import { peakRssBytes, rssBytes } from './proc-stats.ts';
import type { RunningServer, ServerName } from './servers.ts';

export interface MemoryResult {
  round: number;
  server: ServerName;
  /** VmRSS once the server answers and has sat idle for `settleMs`. */
  idleRssMiB: number;
  /** VmHWM after the flow workload: the peak so far. */
  flowPeakRssMiB: number;
  /** VmRSS before the burst (after the flow, settled), right after it ends, and `recoveryMs` later. */
  preBurstRssMiB: number;
  burstEndRssMiB: number;
  recoveredRssMiB: number;
  burstConnections: number;
  recoveryMs: number;
}

export interface MemorySteps {
  /** Runs the flow workload (warm-up and measured) against the running server. */
  flow(): Promise<void>;
  /** Opens `count` connections to the server, holds them until all are open, closes them; returns how many opened. */
  burst(count: number): Promise<number>;
}

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function measureMemory(
  round: number,
  running: RunningServer,
  steps: MemorySteps,
  settings: { burstConnections: number; recoveryMs: number; settleMs: number },
): Promise<MemoryResult> {
  const pid = running.memoryPid;
  await sleep(settings.settleMs);
  const idleRssMiB = rssBytes(pid) / MiB;
  await steps.flow();
  const flowPeakRssMiB = peakRssBytes(pid) / MiB;
  await sleep(settings.settleMs);
  const preBurstRssMiB = rssBytes(pid) / MiB;
  const opened = await steps.burst(settings.burstConnections);
  const burstEndRssMiB = rssBytes(pid) / MiB;
  await sleep(settings.recoveryMs);
  const recoveredRssMiB = rssBytes(pid) / MiB;
  return {
    round,
    server: running.name,
    idleRssMiB,
    flowPeakRssMiB,
    preBurstRssMiB,
    burstEndRssMiB,
    recoveredRssMiB,
    burstConnections: opened,
    recoveryMs: settings.recoveryMs,
  };
}

export function printMemory(results: MemoryResult[]): void {
  if (results.length === 0) return;
  console.log(
    `\nmemory (every round; MiB): idle after start | peak under the flow | before burst | burst end | ${Math.round((results[0]?.recoveryMs ?? 0) / 1000)} s later (ratio to before)`,
  );
  for (const r of results) {
    const back = r.recoveredRssMiB / r.preBurstRssMiB;
    console.log(
      `  round ${r.round} ${r.server.padEnd(10)} idle ${r.idleRssMiB.toFixed(1)} | flow peak ${r.flowPeakRssMiB.toFixed(1)} | pre-burst ${r.preBurstRssMiB.toFixed(1)} | ` +
        `after ${r.burstConnections} connections ${r.burstEndRssMiB.toFixed(1)} | +${Math.round(r.recoveryMs / 1000)} s ${r.recoveredRssMiB.toFixed(1)} (${back.toFixed(2)}x)`,
    );
  }
  const hop = results.filter((r) => r.server === 'imds-hop');
  if (hop.length === 0) return;
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)] as number;
  const idle = median(hop.map((r) => r.idleRssMiB));
  const peak = median(hop.map((r) => r.flowPeakRssMiB));
  const back = median(hop.map((r) => r.recoveredRssMiB / r.preBurstRssMiB));
  console.log('targets (issue 17, imds-hop, median of rounds)');
  console.log(`  [${idle <= 48 ? 'met' : 'NOT met'}] idle RSS after start <= 48 MiB: ${idle.toFixed(1)} MiB`);
  console.log(`  [${peak <= 64 ? 'met' : 'NOT met'}] peak RSS under the flow <= 64 MiB: ${peak.toFixed(1)} MiB`);
  const after = `${Math.round((hop[0]?.recoveryMs ?? 0) / 1000)} s`;
  console.log(
    `  [${back <= 1.1 ? 'met' : 'NOT met'}] RSS ${after} after a ${hop[0]?.burstConnections}-connection burst within 10% of before (the target: 60 s, 10,000): ${back.toFixed(2)}x`,
  );
}

// How V8 sizes the appliance's heap. "lean" (the default): the young generation keeps its initial 1 MiB
// semi-spaces instead of growing to 16 MiB under load, and the old generation may grow by a quarter of what
// survived the last full collection instead of up to fourfold — many small collections, so a burst of
// connections no longer leaves 100+ MiB resident; and a scavenge of that small young generation runs on the main
// thread alone (helper threads cost more in hand-offs than they save there: 0.94x the CPU per flow, median of 8
// bench rounds side by side). "fast": V8's own defaults, for hosts that trade memory for a little CPU. The flags
// are read by V8 at each collection, so they take effect when set at start. What lean costs in CPU per flow is
// measured by `npm run bench -- --only=imds-hop,imds-hop:memory-fast` (README: about 1.15x).
import { setFlagsFromString } from 'node:v8';
import { loadNativeBindings } from '../link/index.ts';

export type MemoryPolicy = 'lean' | 'fast';

const FLAGS: Record<MemoryPolicy, string[]> = {
  lean: ['--semi-space-growth-factor=1', '--heap-growing-percent=25', '--no-parallel-scavenge'],
  // V8's defaults, set explicitly: bin/imds-hop.mjs holds the young generation small during start-up.
  fast: ['--semi-space-growth-factor=2', '--heap-growing-percent=0', '--parallel-scavenge'],
};

export function applyMemoryPolicy(policy: MemoryPolicy): void {
  for (const flag of FLAGS[policy]) setFlagsFromString(flag);
}

/**
 * Lean, once serving: the code start-up touched (node's module loader and compiler, ~40 MiB of the node binary's
 * pages) is handed back to the kernel (MADV_PAGEOUT); what serving uses returns from the page cache on first touch.
 * Returns the bytes advised, 0 for fast or where the kernel cannot (before 5.4, or no native addon).
 */
export function pageOutStartupCode(policy: MemoryPolicy): number {
  if (policy !== 'lean') return 0;
  try {
    return loadNativeBindings().pageOutCode();
  } catch {
    return 0;
  }
}

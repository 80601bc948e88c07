// Fixtures of the integration tests. The namespace toolkit and the appliance runner live in test/support/, shared
// with the benchmark; they are re-exported here so every test imports its fixtures from one place.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/netns.ts';

export * from '../support/netns.ts';
export * from '../support/appliance.ts';

export const SERVICE_ADDRESS = '169.254.169.254';

/** Where integration tests leave captures for people (and CI) to inspect: artifacts/integration/. */
export const ARTIFACTS_DIR = join(REPO_ROOT, 'artifacts', 'integration');

export function keepArtifact(file: string, name: string): void {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  copyFileSync(file, join(ARTIFACTS_DIR, name));
}

/** Sum of counters whose name starts with the prefix. */
export function sumCounters(counters: Record<string, number>, prefix: string): number {
  return Object.entries(counters)
    .filter(([name]) => name.startsWith(prefix))
    .reduce((total, [, value]) => total + value, 0);
}

// What every section parser of the config loader shares: the build in progress, key tables, and errors that
// name the file, line and key.
import type { EarlyBootSettings, FaultRule, ThrottleSettings } from '../faults/index.ts';
import type { InstanceModel, MetadataOptions } from '../imds/instance.ts';
import { ConfigError, ValueProblem } from './config-error.ts';
import type { IniEntry, IniSection } from './ini-lines.ts';
import type { ConnectionPolicy } from './values.ts';

/** Appliance plumbing; all optional because CLI flags override them and the defaults live in the CLI. */
export interface ApplianceSettings {
  interfaceName?: string;
  hostAddress?: string;
  serviceAddress?: string;
  mac?: string;
  defaultTtl?: number;
  controlSocket?: string;
  metricsListen?: string;
  connection?: ConnectionPolicy;
  /** HOST:PORT of the EC2 Query API, or "off". */
  ec2ApiListen?: string;
}

/** [ec2-api]: who may call the EC2 API and where account defaults live. All optional. */
export interface Ec2ApiSettings {
  accessKeyId?: string;
  secretAccessKey?: string;
  allowRoleCredentials?: boolean;
  allowNonLoopback?: boolean;
  accountDefaultsFile?: string;
  applyDelayMs?: number;
}

/** [faults], [throttle], [early-boot] and each [fault "NAME"]: read by the same parsers as the control socket. */
export interface FaultSettings {
  seed: number | undefined;
  throttle: ThrottleSettings;
  earlyBoot: EarlyBootSettings | undefined;
  rules: FaultRule[];
}

export interface LoadedConfig {
  instance: InstanceModel;
  appliance: ApplianceSettings;
  faults: FaultSettings;
  ec2Api: Ec2ApiSettings;
  /** The [metadata-options] keys the file sets: launch parameters, which win over account and AMI defaults. */
  launchOptions: Partial<MetadataOptions>;
}

export type ReadFile = (path: string) => Uint8Array;

/** The config being built: the file, what its sections have set so far, and every key seen. */
export interface Build {
  file: string;
  readFile: ReadFile;
  instance: InstanceModel;
  appliance: ApplianceSettings;
  faults: FaultSettings;
  ec2Api: Ec2ApiSettings;
  /** `section/key` → entry, for checks that span keys. */
  seen: Map<string, IniEntry>;
}

export type Apply<T> = (value: string, target: T, build: Build) => void;
export type KeyTable<T> = Record<string, Apply<T>>;

export function fail(build: Build, entry: IniEntry, problem: ValueProblem): never {
  throw new ConfigError(build.file, entry.line, entry.key, problem.code, problem.message, problem.expected);
}

export function failAt(
  build: Build,
  line: number,
  key: string,
  code: ConfigError['kind'],
  problem: string,
  expected?: string,
): never {
  throw new ConfigError(build.file, line, key, code, problem, expected);
}

/** Run each entry through its key table; unknown keys get a "did you mean". */
export function applyTable<T>(build: Build, section: IniSection, table: KeyTable<T>, target: T): void {
  for (const entry of section.entries) {
    const apply = Object.hasOwn(table, entry.key) ? table[entry.key] : undefined;
    if (apply === undefined) {
      const near = nearest(entry.key, Object.keys(table));
      failAt(
        build,
        entry.line,
        entry.key,
        'unknown-key',
        `unknown key in [${section.header}]${near === undefined ? '' : `; did you mean "${near}"?`}`,
        `one of ${Object.keys(table).join(', ')}`,
      );
    }
    build.seen.set(`${section.header}/${entry.key}`, entry);
    try {
      apply(entry.value, target, build);
    } catch (err) {
      if (err instanceof ValueProblem) fail(build, entry, err);
      throw err;
    }
  }
}

/** An empty value unsets an optional key; anything else goes through its parser. */
export const optional = (text: string, parse: (t: string) => string) => (text === '' ? undefined : parse(text));

export function osError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The closest candidate within a small edit distance, for "did you mean". */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(1, Math.min(3, Math.floor(word.length / 3))) ? best : undefined;
}

/** Optimal string alignment distance: a swapped pair of letters counts as one typo. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

// The sections that set up the appliance rather than describe the instance: [appliance], [ec2-api], and the
// fault sections ([faults], [throttle], [early-boot], [fault "NAME"]), which the control socket's parsers read.
import { FaultSpecError } from '../faults/index.ts';
import {
  failAt,
  type ApplianceSettings,
  type Build,
  type Ec2ApiSettings,
  type FaultSettings,
  type KeyTable,
} from './config-build.ts';
import { ValueProblem } from './config-error.ts';
import type { IniSection } from './ini-lines.ts';
import * as v from './values.ts';
import { DEFAULT_TTL, FAULT_SEED, LISTEN_ADDRESS } from '../imds/value-rules.ts';

// ---- [appliance] ------------------------------------------------------------------------------------------------

export const APPLIANCE_KEYS: KeyTable<ApplianceSettings> = {
  interface: (t, a) => (a.interfaceName = v.interfaceName(t)),
  'host-address': (t, a) => (a.hostAddress = v.ipv4(t)),
  'service-address': (t, a) => (a.serviceAddress = v.ipv4(t)),
  mac: (t, a) => (a.mac = v.mac(t)),
  'default-ttl': (t, a) => (a.defaultTtl = v.byRule(DEFAULT_TTL.fromText)(t)),
  'control-socket': (t, a) => (a.controlSocket = v.nonEmpty(t, 'socket path')),
  'metrics-listen': (t, a) => (a.metricsListen = listenOrOff(t)),
  connection: (t, a) => (a.connection = v.connectionPolicy(t)),
  'ec2-api-listen': (t, a) => (a.ec2ApiListen = listenOrOff(t)),
};

/** A listener's HOST:PORT by the rule its serve flag applies, or off (the flag takes off too). */
function listenOrOff(text: string): string {
  if (text !== 'off') v.byRule(LISTEN_ADDRESS.check)(text);
  return text;
}

// ---- [ec2-api] --------------------------------------------------------------------------------------------------

export const EC2_API_KEYS: KeyTable<Ec2ApiSettings> = {
  'access-key-id': (t, e) => {
    if (!/^[A-Z0-9]{16,128}$/.test(t))
      throw new ValueProblem(
        'invalid-value',
        'not an access key id',
        '16..128 upper-case letters and digits, e.g. AKIA…',
      );
    e.accessKeyId = t;
  },
  'secret-access-key': (t, e) => {
    // The value is never echoed: it is a secret.
    if (!/^[\x21-\x7e]{16,128}$/.test(t))
      throw new ValueProblem('invalid-value', 'not a secret access key', '16..128 printable characters, no spaces');
    e.secretAccessKey = t;
  },
  'allow-role-credentials': (t, e) => (e.allowRoleCredentials = v.boolean(t)),
  'allow-non-loopback': (t, e) => (e.allowNonLoopback = v.boolean(t)),
  'account-defaults-file': (t, e) => (e.accountDefaultsFile = v.nonEmpty(t, 'file path')),
  'apply-delay-ms': (t, e) => (e.applyDelayMs = v.integer(t, 0, 60_000)),
};

// ---- [faults], [throttle], [early-boot], [fault "NAME"] ------------------------------------------------------------

export const FAULTS_KEYS: KeyTable<FaultSettings> = {
  seed: (t, f) => (f.seed = v.byRule(FAULT_SEED.fromText)(t)),
};

/** The fault layer parses a whole section at once; its FaultSpecError names the key, we add the file and line. */
export function applyFaultSection(
  build: Build,
  section: IniSection,
  parse: (fields: Record<string, string>) => unknown,
): void {
  const fields: Record<string, string> = Object.create(null);
  for (const entry of section.entries) fields[entry.key] = entry.value;
  try {
    parse(fields);
  } catch (err) {
    if (!(err instanceof FaultSpecError)) throw err;
    const entry = section.entries.find((e) => e.key === err.key);
    const code = /out of range/.test(err.problem)
      ? 'out-of-range'
      : err.problem === 'unknown key'
        ? 'unknown-key'
        : 'invalid-value';
    failAt(
      build,
      entry?.line ?? section.line,
      entry?.key ?? `[${section.header}]`,
      code,
      `${entry ? '' : `${err.key}: `}${err.problem}`,
      err.expected,
    );
  }
}

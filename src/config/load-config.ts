// Builds an InstanceModel and appliance settings from an ini file. Start from defaultInstance(); every key overrides.
// Each section's keys are parsed in its own module; this one scans the file, dispatches the sections and checks
// what spans them.
import { readFileSync } from 'node:fs';
import { NO_THROTTLE, parseEarlyBoot, parseFaultRule, parseThrottle } from '../faults/index.ts';
import { defaultInstance, type MetadataOptions } from '../imds/instance.ts';
import { METADATA_OPTION_KEYS } from '../imds/metadata-options.ts';
import { APPLIANCE_KEYS, EC2_API_KEYS, FAULTS_KEYS, applyFaultSection } from './appliance-sections.ts';
import { applyTable, failAt, nearest, osError, type Build, type LoadedConfig, type ReadFile } from './config-build.ts';
import { ConfigError } from './config-error.ts';
import { scanIni, type IniEntry, type IniSection } from './ini-lines.ts';
import {
  INSTANCE_KEYS,
  METADATA_OPTION_TABLE,
  applyBlockDevices,
  applyIam,
  applyTags,
  applyUserData,
} from './instance-sections.ts';
import { applyNetwork } from './network-section.ts';

export type { Ec2ApiSettings, FaultSettings } from './config-build.ts';

export function loadConfig(path: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      path,
      0,
      '',
      'config-unreadable',
      `cannot read config file: ${osError(err)}`,
      'a readable ini file',
    );
  }
  return parseConfig(text, path);
}

/** `fileName` names the file in errors and anchors relative user-data paths; `readFile` reads user-data files. */
export function parseConfig(text: string, fileName: string, readFile: ReadFile = (p) => readFileSync(p)): LoadedConfig {
  const build: Build = {
    file: fileName,
    readFile,
    instance: defaultInstance(),
    appliance: {},
    faults: { seed: undefined, throttle: NO_THROTTLE, earlyBoot: undefined, rules: [] },
    ec2Api: {},
    seen: new Map(),
  };
  for (const section of scanIni(text, fileName)) applySection(build, section);
  crossCheck(build);
  const launchOptions: Partial<MetadataOptions> = {};
  for (const [field, key] of Object.entries(METADATA_OPTION_KEYS)) {
    if (build.seen.has(`metadata-options/${key}`))
      (launchOptions as Record<string, unknown>)[field] = build.instance.options[field as keyof MetadataOptions];
  }
  return {
    instance: build.instance,
    appliance: build.appliance,
    faults: build.faults,
    ec2Api: build.ec2Api,
    launchOptions,
  };
}

const SECTIONS = [
  'instance',
  'metadata-options',
  'network',
  'iam',
  'tags',
  'block-device-mapping',
  'user-data',
  'appliance',
  'faults',
  'throttle',
  'early-boot',
  'fault',
  'ec2-api',
];

function applySection(build: Build, section: IniSection): void {
  const header = `[${section.header}]`;
  if (section.label !== undefined && section.kind !== 'network' && section.kind !== 'fault') {
    failAt(build, section.line, header, 'unknown-section', `[${section.kind}] takes no "label"`, `[${section.kind}]`);
  }
  switch (section.kind) {
    case 'instance':
      return applyTable(build, section, INSTANCE_KEYS, build.instance);
    case 'metadata-options':
      return applyTable(build, section, METADATA_OPTION_TABLE, build.instance);
    case 'network':
      return applyNetwork(build, section);
    case 'iam':
      return applyIam(build, section);
    case 'tags':
      return applyTags(build, section);
    case 'block-device-mapping':
      return applyBlockDevices(build, section);
    case 'user-data':
      return applyUserData(build, section);
    case 'appliance':
      return applyTable(build, section, APPLIANCE_KEYS, build.appliance);
    case 'faults':
      return applyTable(build, section, FAULTS_KEYS, build.faults);
    case 'throttle':
      return applyFaultSection(
        build,
        section,
        (fields) => (build.faults.throttle = parseThrottle(NO_THROTTLE, fields)),
      );
    case 'early-boot':
      return applyFaultSection(build, section, (fields) => (build.faults.earlyBoot = parseEarlyBoot(fields)));
    case 'fault':
      if (section.label === undefined) {
        failAt(
          build,
          section.line,
          `[${section.header}]`,
          'missing-key',
          'a fault rule needs a name',
          '[fault "NAME"]',
        );
      }
      return applyFaultSection(build, section, (fields) =>
        build.faults.rules.push(parseFaultRule(section.label as string, fields)),
      );
    case 'ec2-api':
      return applyTable(build, section, EC2_API_KEYS, build.ec2Api);
    default: {
      const near = nearest(section.kind, SECTIONS);
      failAt(
        build,
        section.line,
        header,
        'unknown-section',
        `unknown section${near === undefined ? '' : `; did you mean [${near}]?`}`,
        `one of ${SECTIONS.map((s) => `[${s}]`).join(', ')}`,
      );
    }
  }
}

// ---- checks across keys -----------------------------------------------------------------------------------------

function crossCheck(build: Build): void {
  const { instance } = build;
  const keyId = build.seen.get('ec2-api/access-key-id');
  const secret = build.seen.get('ec2-api/secret-access-key');
  if ((keyId === undefined) !== (secret === undefined)) {
    const given = (keyId ?? secret) as IniEntry;
    failAt(
      build,
      given.line,
      given.key,
      'inconsistent',
      'an access key id needs its secret and the other way round',
      'both access-key-id and secret-access-key, or neither',
    );
  }
  if (!instance.availabilityZone.startsWith(instance.region)) {
    // Blame the key the operator wrote; if both are in the file, the zone is the more specific one.
    const at = build.seen.get('instance/availability-zone') ?? build.seen.get('instance/region');
    failAt(
      build,
      at?.line ?? 0,
      at?.key ?? 'availability-zone',
      'inconsistent',
      `availability zone ${instance.availabilityZone} is not in region ${instance.region}`,
      'availability-zone starts with region; set both',
    );
  }
  const macs = new Map<string, number>();
  const devices = new Set<number>();
  for (const [index, nic] of instance.interfaces.entries()) {
    if (macs.has(nic.mac) || devices.has(nic.deviceNumber)) {
      const section = index === 0 ? 'network' : `network "eth${nic.deviceNumber}"`;
      const what = macs.has(nic.mac) ? 'mac' : 'device-number';
      const at = build.seen.get(`${section}/${what}`);
      failAt(
        build,
        at?.line ?? 0,
        at?.key ?? what,
        'inconsistent',
        `${what} ${what === 'mac' ? nic.mac : nic.deviceNumber} is used by two interfaces`,
        'each interface its own',
      );
    }
    macs.set(nic.mac, index);
    devices.add(nic.deviceNumber);
  }
}

// Builds an InstanceModel and appliance settings from an ini file. Start from defaultInstance(); every key overrides.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { defaultInstance } from '../imds/instance.ts';
import type { IamRole, InstanceModel, MetadataOptions, NetworkInterface } from '../imds/instance.ts';
import { ConfigError, ValueProblem } from './config-error.ts';
import { FaultSpecError, NO_THROTTLE, parseEarlyBoot, parseFaultRule, parseThrottle } from '../faults/index.ts';
import type { EarlyBootSettings, FaultRule, ThrottleSettings } from '../faults/index.ts';
import { scanIni } from './ini-lines.ts';
import type { IniEntry, IniSection } from './ini-lines.ts';
import * as v from './values.ts';
import { LIFECYCLE_STATE, TAG_KEY } from '../imds/value-rules.ts';
import {
  HOP_LIMIT,
  HTTP_ENDPOINT,
  HTTP_PROTOCOL_IPV6,
  HTTP_TOKENS,
  INSTANCE_METADATA_TAGS,
  METADATA_OPTION_KEYS,
} from '../imds/metadata-options.ts';
import { IMDS_SUPPORT } from '../imds/launch-options.ts';

/** Appliance plumbing; all optional because CLI flags override them and the defaults live in the CLI. */
export interface ApplianceSettings {
  interfaceName?: string;
  hostAddress?: string;
  serviceAddress?: string;
  mac?: string;
  defaultTtl?: number;
  controlSocket?: string;
  metricsListen?: string;
  connection?: v.ConnectionPolicy;
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

// EC2 limits (EC2 User Guide: "Tag restrictions", "Instance user data").
const MAX_TAGS = 50;
const MAX_TAG_VALUE = 256;
const MAX_USER_DATA_BYTES = 16 * 1024;
// STS role sessions last 15 min .. 12 h.
const MIN_CREDENTIAL_LIFETIME = 900;
const MAX_CREDENTIAL_LIFETIME = 43_200;
const MIN_CREDENTIAL_REFRESH = 300;

export function loadConfig(path: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, 0, '', 'config-unreadable', `cannot read config file: ${osError(err)}`, 'a readable ini file');
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
    if (build.seen.has(`metadata-options/${key}`)) (launchOptions as Record<string, unknown>)[field] = build.instance.options[field as keyof MetadataOptions];
  }
  return { instance: build.instance, appliance: build.appliance, faults: build.faults, ec2Api: build.ec2Api, launchOptions };
}

interface Build {
  file: string;
  readFile: ReadFile;
  instance: InstanceModel;
  appliance: ApplianceSettings;
  faults: FaultSettings;
  ec2Api: Ec2ApiSettings;
  /** `section/key` → entry, for checks that span keys. */
  seen: Map<string, IniEntry>;
}

type Apply<T> = (value: string, target: T, build: Build) => void;
type KeyTable<T> = Record<string, Apply<T>>;

function fail(build: Build, entry: IniEntry, problem: ValueProblem): never {
  throw new ConfigError(build.file, entry.line, entry.key, problem.code, problem.message, problem.expected);
}

function failAt(build: Build, line: number, key: string, code: ConfigError['code'], problem: string, expected?: string): never {
  throw new ConfigError(build.file, line, key, code, problem, expected);
}

/** Run each entry through its key table; unknown keys get a "did you mean". */
function applyTable<T>(build: Build, section: IniSection, table: KeyTable<T>, target: T): void {
  for (const entry of section.entries) {
    const apply = Object.hasOwn(table, entry.key) ? table[entry.key] : undefined;
    if (apply === undefined) {
      const near = nearest(entry.key, Object.keys(table));
      failAt(build, entry.line, entry.key, 'unknown-key', `unknown key in [${section.header}]${near === undefined ? '' : `; did you mean "${near}"?`}`,
        `one of ${Object.keys(table).join(', ')}`);
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

const SECTIONS = ['instance', 'metadata-options', 'network', 'iam', 'tags', 'block-device-mapping', 'user-data', 'appliance', 'faults', 'throttle', 'early-boot', 'fault', 'ec2-api'];

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
      return applyFaultSection(build, section, (fields) => (build.faults.throttle = parseThrottle(NO_THROTTLE, fields)));
    case 'early-boot':
      return applyFaultSection(build, section, (fields) => (build.faults.earlyBoot = parseEarlyBoot(fields)));
    case 'fault':
      if (section.label === undefined) {
        failAt(build, section.line, `[${section.header}]`, 'missing-key', 'a fault rule needs a name', '[fault "NAME"]');
      }
      return applyFaultSection(build, section, (fields) => build.faults.rules.push(parseFaultRule(section.label as string, fields)));
    case 'ec2-api':
      return applyTable(build, section, EC2_API_KEYS, build.ec2Api);
    default: {
      const near = nearest(section.kind, SECTIONS);
      failAt(build, section.line, header, 'unknown-section', `unknown section${near === undefined ? '' : `; did you mean [${near}]?`}`,
        `one of ${SECTIONS.map((s) => `[${s}]`).join(', ')}`);
    }
  }
}

// ---- [instance] -------------------------------------------------------------------------------------------------

const optional = (text: string, parse: (t: string) => string) => (text === '' ? undefined : parse(text));

const INSTANCE_KEYS: KeyTable<InstanceModel> = {
  'account-id': (t, i) => (i.accountId = v.accountId(t)),
  region: (t, i) => {
    i.region = v.region(t);
    Object.assign(i, partitionOf(i.region));
  },
  'availability-zone': (t, i) => (i.availabilityZone = v.availabilityZone(t)),
  'availability-zone-id': (t, i) => (i.availabilityZoneId = v.availabilityZoneId(t)),
  'instance-id': (t, i) => (i.instanceId = v.resourceId(t, 'i')),
  'instance-type': (t, i) => (i.instanceType = v.instanceType(t)),
  'instance-life-cycle': (t, i) => (i.instanceLifeCycle = v.oneOf(t, ['on-demand', 'spot'] as const)),
  'ami-id': (t, i) => (i.amiId = v.resourceId(t, 'ami')),
  'ami-launch-index': (t, i) => (i.amiLaunchIndex = v.integer(t, 0, 2 ** 31 - 1)),
  'ami-manifest-path': (t, i) => (i.amiManifestPath = v.nonEmpty(t, 'manifest path')),
  architecture: (t, i) => (i.architecture = v.oneOf(t, ['x86_64', 'arm64'] as const)),
  hostname: (t, i) => (i.hostname = v.hostname(t)),
  'reservation-id': (t, i) => (i.reservationId = v.resourceId(t, 'r')),
  'pending-time': (t, i) => (i.pendingTime = v.isoUtc(t)),
  'kernel-id': (t, i) => (i.kernelId = optional(t, (x) => v.resourceId(x, 'aki'))),
  'ramdisk-id': (t, i) => (i.ramdiskId = optional(t, (x) => v.resourceId(x, 'ari'))),
  'product-codes': (t, i) => (i.productCodes = v.list(t, productCode)),
  // The AMI's ImdsSupport: v2.0 launches with tokens required and hop limit 2; empty for an AMI without it.
  'imds-support': (t, i) => {
    if (t === '') delete i.imdsSupport;
    else i.imdsSupport = v.byRule(IMDS_SUPPORT.check)(t);
  },
  'autoscaling-target-lifecycle-state': (t, i) => (i.autoscalingTargetLifecycleState = optional(t, v.byRule(LIFECYCLE_STATE.check))),
};

function productCode(text: string): string {
  if (!/^[a-z0-9]{1,64}$/.test(text)) {
    throw new ValueProblem('invalid-value', `${JSON.stringify(text)} is not a product code`, 'lower-case letters and digits');
  }
  return text;
}

/** The partition and services domain follow the region, as they do on EC2. */
function partitionOf(region: string): { partition: string; servicesDomain: string } {
  if (region.startsWith('cn-')) return { partition: 'aws-cn', servicesDomain: 'amazonaws.com.cn' };
  if (region.startsWith('us-gov-')) return { partition: 'aws-us-gov', servicesDomain: 'amazonaws.com' };
  if (region.startsWith('us-isob-')) return { partition: 'aws-iso-b', servicesDomain: 'sc2s.sgov.gov' };
  if (region.startsWith('us-iso-')) return { partition: 'aws-iso', servicesDomain: 'c2s.ic.gov' };
  return { partition: 'aws', servicesDomain: 'amazonaws.com' };
}

// ---- [metadata-options] -----------------------------------------------------------------------------------------

/** One key per option, named and checked as in metadata-options.ts (the hop limit from its decimal text). */
const K = METADATA_OPTION_KEYS;
const METADATA_OPTION_TABLE: KeyTable<InstanceModel> = {
  [K.httpTokens]: (t, i) => (i.options.httpTokens = v.byRule(HTTP_TOKENS.check)(t)),
  [K.httpEndpoint]: (t, i) => (i.options.httpEndpoint = v.byRule(HTTP_ENDPOINT.check)(t)),
  [K.httpPutResponseHopLimit]: (t, i) => (i.options.httpPutResponseHopLimit = v.byRule(HOP_LIMIT.fromText)(t)),
  [K.instanceMetadataTags]: (t, i) => (i.options.instanceMetadataTags = v.byRule(INSTANCE_METADATA_TAGS.check)(t)),
  [K.httpProtocolIpv6]: (t, i) => (i.options.httpProtocolIpv6 = v.byRule(HTTP_PROTOCOL_IPV6.check)(t)),
};

// ---- [network] and [network "ethN"] ----------------------------------------------------------------------------

const NETWORK_KEYS: KeyTable<NetworkInterface> = {
  mac: (t, n) => (n.mac = v.mac(t)),
  'device-number': (t, n) => (n.deviceNumber = v.integer(t, 0, 31)),
  'interface-id': (t, n) => (n.interfaceId = v.resourceId(t, 'eni')),
  'owner-id': (t, n) => (n.ownerId = v.accountId(t)),
  'subnet-id': (t, n) => (n.subnetId = v.resourceId(t, 'subnet')),
  'subnet-ipv4-cidr-block': (t, n) => (n.subnetIpv4CidrBlock = v.cidr4(t)),
  'vpc-id': (t, n) => (n.vpcId = v.resourceId(t, 'vpc')),
  'vpc-ipv4-cidr-blocks': (t, n) => (n.vpcIpv4CidrBlocks = nonEmptyList(v.list(t, v.cidr4), 'CIDR block')),
  'local-ipv4': (t, n) => (n.localIpv4s = nonEmptyList(v.list(t, v.ipv4), 'IPv4 address')),
  'local-hostname': (t, n) => (n.localHostname = v.hostname(t)),
  'public-ipv4': (t, n) => (n.publicIpv4s = v.list(t, v.ipv4)),
  'public-hostname': (t, n) => (n.publicHostname = optional(t, v.hostname)),
  ipv6s: (t, n) => (n.ipv6s = v.list(t, v.ipv6)),
  'security-groups': (t, n) => (n.securityGroups = v.list(t, securityGroupName)),
  'security-group-ids': (t, n) => (n.securityGroupIds = v.list(t, (x) => v.resourceId(x, 'sg'))),
};

function nonEmptyList<T>(items: T[], what: string): T[] {
  if (items.length === 0) throw new ValueProblem('invalid-value', 'list is empty', `at least one ${what}`);
  return items;
}

function securityGroupName(text: string): string {
  if (text.length > 255 || /[\r\n]/.test(text)) {
    throw new ValueProblem('invalid-value', `${JSON.stringify(text)} is not a security group name`, 'up to 255 characters');
  }
  return text;
}

const EXTRA_REQUIRED = ['mac', 'interface-id', 'local-ipv4'];

function applyNetwork(build: Build, section: IniSection): void {
  const primary = build.instance.interfaces[0];
  if (section.label === undefined) return applyTable(build, section, NETWORK_KEYS, primary);

  const m = /^eth([1-9][0-9]?)$/.exec(section.label);
  if (m === null) {
    failAt(build, section.line, `[${section.header}]`, 'unknown-section',
      section.label === 'eth0' ? 'the primary interface is [network]' : 'bad interface label', '[network] for eth0, [network "ethN"] with N in 1..31 for the others');
  }
  // Secondary interfaces share the primary's subnet, VPC, owner and groups unless told otherwise.
  const extra: NetworkInterface = {
    ...primary,
    vpcIpv4CidrBlocks: [...primary.vpcIpv4CidrBlocks],
    securityGroups: [...primary.securityGroups],
    securityGroupIds: [...primary.securityGroupIds],
    deviceNumber: Number(m[1]),
    mac: '',
    interfaceId: '',
    localIpv4s: [],
    localHostname: '',
    publicIpv4s: [],
    publicHostname: undefined,
    ipv6s: [],
  };
  applyTable(build, section, NETWORK_KEYS, extra);
  const missing = EXTRA_REQUIRED.filter((k) => !section.entries.some((e) => e.key === k));
  if (missing.length > 0) {
    failAt(build, section.line, `[${section.header}]`, 'missing-key', `missing ${missing.join(', ')}`, 'a secondary interface needs mac, interface-id and local-ipv4');
  }
  if (extra.localHostname === '') {
    const domain = primary.localHostname.split('.').slice(1).join('.');
    extra.localHostname = `ip-${extra.localIpv4s[0].replaceAll('.', '-')}${domain === '' ? '' : `.${domain}`}`;
  }
  build.instance.interfaces.push(extra);
}

// ---- [iam] ------------------------------------------------------------------------------------------------------

interface IamDraft {
  enabled: boolean;
  role: Partial<IamRole>;
}

const IAM_KEYS: KeyTable<IamDraft> = {
  enabled: (t, d) => (d.enabled = v.boolean(t)),
  'role-name': (t, d) => (d.role.name = iamName(t)),
  'instance-profile-arn': (t, d) => (d.role.instanceProfileArn = instanceProfileArn(t)),
  'instance-profile-id': (t, d) => (d.role.instanceProfileId = instanceProfileId(t)),
  'credential-lifetime-seconds': (t, d) => (d.role.credentialLifetimeSeconds = v.integer(t, MIN_CREDENTIAL_LIFETIME, MAX_CREDENTIAL_LIFETIME)),
  // EC2 User Guide: "We make new credentials available at least five minutes before the expiration of the old".
  'credential-refresh-seconds': (t, d) => (d.role.credentialRefreshSeconds = v.integer(t, MIN_CREDENTIAL_REFRESH, MAX_CREDENTIAL_LIFETIME)),
};

function iamName(text: string): string {
  if (!/^[\w+=,.@-]{1,64}$/.test(text)) {
    throw new ValueProblem('invalid-value', `${JSON.stringify(text)} is not an IAM role name`, '1..64 of letters, digits and +=,.@_-');
  }
  return text;
}

function instanceProfileArn(text: string): string {
  if (!/^arn:aws[a-z-]*:iam::[0-9]{12}:instance-profile\/[\w+=,.@/-]{1,128}$/.test(text)) {
    throw new ValueProblem('invalid-value', `${JSON.stringify(text)} is not an instance profile ARN`, 'arn:aws:iam::ACCOUNT:instance-profile/NAME');
  }
  return text;
}

function instanceProfileId(text: string): string {
  if (!/^AIPA[A-Z0-9]{12,124}$/.test(text)) {
    throw new ValueProblem('invalid-value', `${JSON.stringify(text)} is not an instance profile id`, 'AIPA followed by upper-case letters and digits');
  }
  return text;
}

function applyIam(build: Build, section: IniSection): void {
  const draft: IamDraft = { enabled: true, role: {} };
  applyTable(build, section, IAM_KEYS, draft);
  const header = `[${section.header}]`;
  const roleKeys = section.entries.filter((e) => e.key !== 'enabled');
  if (!draft.enabled) {
    if (roleKeys.length > 0) {
      failAt(build, roleKeys[0].line, roleKeys[0].key, 'inconsistent', 'role key given while enabled = false', 'remove it, or set enabled = true');
    }
    build.instance.iamRole = undefined;
    return;
  }
  const base = build.instance.iamRole;
  const role = { ...base, ...draft.role };
  if (role.name === undefined || role.instanceProfileArn === undefined || role.instanceProfileId === undefined) {
    failAt(build, section.line, header, 'missing-key', 'no built-in role to start from', 'role-name, instance-profile-arn and instance-profile-id');
  }
  const full: IamRole = {
    name: role.name,
    instanceProfileArn: role.instanceProfileArn,
    instanceProfileId: role.instanceProfileId,
    credentialLifetimeSeconds: role.credentialLifetimeSeconds ?? 6 * 3600,
    credentialRefreshSeconds: role.credentialRefreshSeconds ?? 15 * 60,
  };
  if (full.credentialRefreshSeconds >= full.credentialLifetimeSeconds) {
    const at = build.seen.get('iam/credential-refresh-seconds') ?? build.seen.get('iam/credential-lifetime-seconds');
    failAt(build, at?.line ?? section.line, at?.key ?? header, 'inconsistent',
      `refresh ${full.credentialRefreshSeconds} s is not shorter than lifetime ${full.credentialLifetimeSeconds} s`, 'credential-refresh-seconds < credential-lifetime-seconds');
  }
  build.instance.iamRole = full;
}

// ---- [tags], [block-device-mapping]: free keys, the section replaces the built-in map ----------------------------

function applyTags(build: Build, section: IniSection): void {
  const tags: Record<string, string> = {};
  section.entries.forEach((entry, index) => {
    // The engine serves exactly the keys this rule allows, so a key it would leave out is refused here.
    try {
      v.byRule(TAG_KEY.check)(entry.key);
    } catch (err) {
      if (err instanceof ValueProblem) fail(build, entry, err);
      throw err;
    }
    if (entry.value.length > MAX_TAG_VALUE) failAt(build, entry.line, entry.key, 'out-of-range', `tag value is ${entry.value.length} characters`, `at most ${MAX_TAG_VALUE}`);
    if (index >= MAX_TAGS) failAt(build, entry.line, entry.key, 'out-of-range', `tag number ${index + 1}`, `at most ${MAX_TAGS} tags per instance`);
    if (entry.key === '__proto__') failAt(build, entry.line, entry.key, 'invalid-value', 'reserved key', 'another tag key');
    tags[entry.key] = entry.value;
  });
  build.instance.tags = tags;
}

function applyBlockDevices(build: Build, section: IniSection): void {
  const devices: Record<string, string> = {};
  for (const entry of section.entries) {
    if (!/^(ami|root|swap|ebs[0-9]+|ephemeral[0-9]+)$/.test(entry.key)) {
      const near = nearest(entry.key, ['ami', 'root', 'swap']);
      failAt(build, entry.line, entry.key, 'unknown-key', `not a block device mapping name${near === undefined ? '' : `; did you mean "${near}"?`}`, 'ami, root, swap, ebsN or ephemeralN');
    }
    if (!/^(\/dev\/)?[a-z][a-z0-9]*$/.test(entry.value)) {
      failAt(build, entry.line, entry.key, 'invalid-value', `${JSON.stringify(entry.value)} is not a device name`, 'e.g. /dev/xvda or sdb');
    }
    devices[entry.key] = entry.value;
  }
  build.instance.blockDevices = devices;
}

// ---- [user-data] ------------------------------------------------------------------------------------------------

function applyUserData(build: Build, section: IniSection): void {
  let userData: Uint8Array | undefined;
  let source: IniEntry | undefined;
  for (const entry of section.entries) {
    if (entry.key !== 'file' && entry.key !== 'text') {
      const near = nearest(entry.key, ['file', 'text']);
      failAt(build, entry.line, entry.key, 'unknown-key', `unknown key in [user-data]${near === undefined ? '' : `; did you mean "${near}"?`}`, 'file or text');
    }
    if (source !== undefined) {
      failAt(build, entry.line, entry.key, 'inconsistent', `both ${source.key} (line ${source.line}) and ${entry.key} given`, 'one of file or text');
    }
    source = entry;
    if (entry.key === 'text') {
      userData = entry.value === '' ? undefined : new TextEncoder().encode(entry.value);
    } else {
      if (entry.value === '') failAt(build, entry.line, entry.key, 'invalid-value', 'empty path', 'path to the user-data file');
      // Relative to the config file, so a config and its user data can move together.
      const path = resolve(dirname(build.file), entry.value);
      try {
        userData = build.readFile(path);
      } catch (err) {
        failAt(build, entry.line, entry.key, 'user-data-unreadable', `cannot read ${path}: ${osError(err)}`, 'a readable file');
      }
    }
    if (userData !== undefined && userData.length > MAX_USER_DATA_BYTES) {
      failAt(build, entry.line, entry.key, 'out-of-range', `user data is ${userData.length} bytes`, `at most ${MAX_USER_DATA_BYTES} bytes, as on EC2`);
    }
  }
  build.instance.userData = userData;
}

// ---- [appliance] ------------------------------------------------------------------------------------------------

const APPLIANCE_KEYS: KeyTable<ApplianceSettings> = {
  interface: (t, a) => (a.interfaceName = v.interfaceName(t)),
  'host-address': (t, a) => (a.hostAddress = v.ipv4(t)),
  'service-address': (t, a) => (a.serviceAddress = v.ipv4(t)),
  mac: (t, a) => (a.mac = v.mac(t)),
  'default-ttl': (t, a) => (a.defaultTtl = v.integer(t, 1, 255)),
  'control-socket': (t, a) => (a.controlSocket = v.nonEmpty(t, 'socket path')),
  'metrics-listen': (t, a) => (a.metricsListen = v.listenAddress(t)),
  connection: (t, a) => (a.connection = v.connectionPolicy(t)),
  'ec2-api-listen': (t, a) => (a.ec2ApiListen = t === 'off' ? t : hostAndPort(t)),
};

function hostAndPort(text: string): string {
  if (!text.includes(':')) throw new ValueProblem('invalid-value', `${JSON.stringify(text)} has no host`, 'HOST:PORT, [IPV6]:PORT or off');
  return v.listenAddress(text);
}

// ---- [ec2-api] --------------------------------------------------------------------------------------------------

const EC2_API_KEYS: KeyTable<Ec2ApiSettings> = {
  'access-key-id': (t, e) => {
    if (!/^[A-Z0-9]{16,128}$/.test(t)) throw new ValueProblem('invalid-value', 'not an access key id', '16..128 upper-case letters and digits, e.g. AKIA…');
    e.accessKeyId = t;
  },
  'secret-access-key': (t, e) => {
    // The value is never echoed: it is a secret.
    if (!/^[\x21-\x7e]{16,128}$/.test(t)) throw new ValueProblem('invalid-value', 'not a secret access key', '16..128 printable characters, no spaces');
    e.secretAccessKey = t;
  },
  'allow-role-credentials': (t, e) => (e.allowRoleCredentials = v.boolean(t)),
  'allow-non-loopback': (t, e) => (e.allowNonLoopback = v.boolean(t)),
  'account-defaults-file': (t, e) => (e.accountDefaultsFile = v.nonEmpty(t, 'file path')),
  'apply-delay-ms': (t, e) => (e.applyDelayMs = v.integer(t, 0, 60_000)),
};

// ---- [faults], [throttle], [early-boot], [fault "NAME"] ------------------------------------------------------------

const FAULTS_KEYS: KeyTable<FaultSettings> = {
  seed: (t, f) => (f.seed = v.integer(t, 0, 2 ** 32 - 1)),
};

/** The fault layer parses a whole section at once; its FaultSpecError names the key, we add the file and line. */
function applyFaultSection(build: Build, section: IniSection, parse: (fields: Record<string, string>) => unknown): void {
  const fields: Record<string, string> = Object.create(null);
  for (const entry of section.entries) fields[entry.key] = entry.value;
  try {
    parse(fields);
  } catch (err) {
    if (!(err instanceof FaultSpecError)) throw err;
    const entry = section.entries.find((e) => e.key === err.key);
    const code = /out of range/.test(err.problem) ? 'out-of-range' : err.problem === 'unknown key' ? 'unknown-key' : 'invalid-value';
    failAt(build, entry?.line ?? section.line, entry?.key ?? `[${section.header}]`, code, `${entry ? '' : `${err.key}: `}${err.problem}`, err.expected);
  }
}

// ---- checks across keys -----------------------------------------------------------------------------------------

function crossCheck(build: Build): void {
  const { instance } = build;
  const keyId = build.seen.get('ec2-api/access-key-id');
  const secret = build.seen.get('ec2-api/secret-access-key');
  if ((keyId === undefined) !== (secret === undefined)) {
    const given = (keyId ?? secret) as IniEntry;
    failAt(build, given.line, given.key, 'inconsistent', 'an access key id needs its secret and the other way round', 'both access-key-id and secret-access-key, or neither');
  }
  if (!instance.availabilityZone.startsWith(instance.region)) {
    // Blame the key the operator wrote; if both are in the file, the zone is the more specific one.
    const at = build.seen.get('instance/availability-zone') ?? build.seen.get('instance/region');
    failAt(build, at?.line ?? 0, at?.key ?? 'availability-zone', 'inconsistent',
      `availability zone ${instance.availabilityZone} is not in region ${instance.region}`, 'availability-zone starts with region; set both');
  }
  const macs = new Map<string, number>();
  const devices = new Set<number>();
  for (const [index, nic] of instance.interfaces.entries()) {
    if (macs.has(nic.mac) || devices.has(nic.deviceNumber)) {
      const section = index === 0 ? 'network' : `network "eth${nic.deviceNumber}"`;
      const what = macs.has(nic.mac) ? 'mac' : 'device-number';
      const at = build.seen.get(`${section}/${what}`);
      failAt(build, at?.line ?? 0, at?.key ?? what, 'inconsistent', `${what} ${what === 'mac' ? nic.mac : nic.deviceNumber} is used by two interfaces`, 'each interface its own');
    }
    macs.set(nic.mac, index);
    devices.add(nic.deviceNumber);
  }
}

// ---- helpers ----------------------------------------------------------------------------------------------------

function osError(err: unknown): string {
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
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

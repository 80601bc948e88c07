// The sections that describe the instance: [instance], [metadata-options], [iam], [tags],
// [block-device-mapping] and [user-data]. Each key overrides the built-in instance.
import { dirname, resolve } from 'node:path';
import type { IamRole, InstanceModel } from '../imds/instance.ts';
import { IMDS_SUPPORT } from '../imds/launch-options.ts';
import {
  HOP_LIMIT,
  HTTP_ENDPOINT,
  HTTP_PROTOCOL_IPV6,
  HTTP_TOKENS,
  INSTANCE_METADATA_TAGS,
  METADATA_OPTION_KEYS,
} from '../imds/metadata-options.ts';
import { LIFECYCLE_STATE, TAG_KEY } from '../imds/value-rules.ts';
import { applyTable, fail, failAt, nearest, optional, osError, type Build, type KeyTable } from './config-build.ts';
import { ValueProblem } from './config-error.ts';
import type { IniEntry, IniSection } from './ini-lines.ts';
import * as v from './values.ts';

// EC2 limits (EC2 User Guide: "Tag restrictions", "Instance user data").
const MAX_TAGS = 50;
const MAX_TAG_VALUE = 256;
const MAX_USER_DATA_BYTES = 16 * 1024;
// STS role sessions last 15 min .. 12 h.
const MIN_CREDENTIAL_LIFETIME = 900;
const MAX_CREDENTIAL_LIFETIME = 43_200;
const MIN_CREDENTIAL_REFRESH = 300;

// ---- [instance] -------------------------------------------------------------------------------------------------

export const INSTANCE_KEYS: KeyTable<InstanceModel> = {
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
  'autoscaling-target-lifecycle-state': (t, i) =>
    (i.autoscalingTargetLifecycleState = optional(t, v.byRule(LIFECYCLE_STATE.check))),
};

function productCode(text: string): string {
  if (!/^[a-z0-9]{1,64}$/.test(text)) {
    throw new ValueProblem(
      'invalid-value',
      `${JSON.stringify(text)} is not a product code`,
      'lower-case letters and digits',
    );
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
export const METADATA_OPTION_TABLE: KeyTable<InstanceModel> = {
  [K.httpTokens]: (t, i) => (i.options.httpTokens = v.byRule(HTTP_TOKENS.check)(t)),
  [K.httpEndpoint]: (t, i) => (i.options.httpEndpoint = v.byRule(HTTP_ENDPOINT.check)(t)),
  [K.httpPutResponseHopLimit]: (t, i) => (i.options.httpPutResponseHopLimit = v.byRule(HOP_LIMIT.fromText)(t)),
  [K.instanceMetadataTags]: (t, i) => (i.options.instanceMetadataTags = v.byRule(INSTANCE_METADATA_TAGS.check)(t)),
  [K.httpProtocolIpv6]: (t, i) => (i.options.httpProtocolIpv6 = v.byRule(HTTP_PROTOCOL_IPV6.check)(t)),
};

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
  'credential-lifetime-seconds': (t, d) =>
    (d.role.credentialLifetimeSeconds = v.integer(t, MIN_CREDENTIAL_LIFETIME, MAX_CREDENTIAL_LIFETIME)),
  // EC2 User Guide: "We make new credentials available at least five minutes before the expiration of the old".
  'credential-refresh-seconds': (t, d) =>
    (d.role.credentialRefreshSeconds = v.integer(t, MIN_CREDENTIAL_REFRESH, MAX_CREDENTIAL_LIFETIME)),
};

function iamName(text: string): string {
  if (!/^[\w+=,.@-]{1,64}$/.test(text)) {
    throw new ValueProblem(
      'invalid-value',
      `${JSON.stringify(text)} is not an IAM role name`,
      '1..64 of letters, digits and +=,.@_-',
    );
  }
  return text;
}

function instanceProfileArn(text: string): string {
  if (!/^arn:aws[a-z-]*:iam::[0-9]{12}:instance-profile\/[\w+=,.@/-]{1,128}$/.test(text)) {
    throw new ValueProblem(
      'invalid-value',
      `${JSON.stringify(text)} is not an instance profile ARN`,
      'arn:aws:iam::ACCOUNT:instance-profile/NAME',
    );
  }
  return text;
}

function instanceProfileId(text: string): string {
  if (!/^AIPA[A-Z0-9]{12,124}$/.test(text)) {
    throw new ValueProblem(
      'invalid-value',
      `${JSON.stringify(text)} is not an instance profile id`,
      'AIPA followed by upper-case letters and digits',
    );
  }
  return text;
}

export function applyIam(build: Build, section: IniSection): void {
  const draft: IamDraft = { enabled: true, role: {} };
  applyTable(build, section, IAM_KEYS, draft);
  const header = `[${section.header}]`;
  const roleKeys = section.entries.filter((e) => e.key !== 'enabled');
  if (!draft.enabled) {
    if (roleKeys.length > 0) {
      failAt(
        build,
        roleKeys[0].line,
        roleKeys[0].key,
        'inconsistent',
        'role key given while enabled = false',
        'remove it, or set enabled = true',
      );
    }
    build.instance.iamRole = undefined;
    return;
  }
  const base = build.instance.iamRole;
  const role = { ...base, ...draft.role };
  if (role.name === undefined || role.instanceProfileArn === undefined || role.instanceProfileId === undefined) {
    failAt(
      build,
      section.line,
      header,
      'missing-key',
      'no built-in role to start from',
      'role-name, instance-profile-arn and instance-profile-id',
    );
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
    failAt(
      build,
      at?.line ?? section.line,
      at?.key ?? header,
      'inconsistent',
      `refresh ${full.credentialRefreshSeconds} s is not shorter than lifetime ${full.credentialLifetimeSeconds} s`,
      'credential-refresh-seconds < credential-lifetime-seconds',
    );
  }
  build.instance.iamRole = full;
}

// ---- [tags], [block-device-mapping]: free keys, the section replaces the built-in map ----------------------------

export function applyTags(build: Build, section: IniSection): void {
  const tags: Record<string, string> = {};
  section.entries.forEach((entry, index) => {
    // The engine serves exactly the keys this rule allows, so a key it would leave out is refused here.
    try {
      v.byRule(TAG_KEY.check)(entry.key);
    } catch (err) {
      if (err instanceof ValueProblem) fail(build, entry, err);
      throw err;
    }
    if (entry.value.length > MAX_TAG_VALUE)
      failAt(
        build,
        entry.line,
        entry.key,
        'out-of-range',
        `tag value is ${entry.value.length} characters`,
        `at most ${MAX_TAG_VALUE}`,
      );
    if (index >= MAX_TAGS)
      failAt(
        build,
        entry.line,
        entry.key,
        'out-of-range',
        `tag number ${index + 1}`,
        `at most ${MAX_TAGS} tags per instance`,
      );
    if (entry.key === '__proto__')
      failAt(build, entry.line, entry.key, 'invalid-value', 'reserved key', 'another tag key');
    tags[entry.key] = entry.value;
  });
  build.instance.tags = tags;
}

export function applyBlockDevices(build: Build, section: IniSection): void {
  const devices: Record<string, string> = {};
  for (const entry of section.entries) {
    if (!/^(ami|root|swap|ebs[0-9]+|ephemeral[0-9]+)$/.test(entry.key)) {
      const near = nearest(entry.key, ['ami', 'root', 'swap']);
      failAt(
        build,
        entry.line,
        entry.key,
        'unknown-key',
        `not a block device mapping name${near === undefined ? '' : `; did you mean "${near}"?`}`,
        'ami, root, swap, ebsN or ephemeralN',
      );
    }
    if (!/^(\/dev\/)?[a-z][a-z0-9]*$/.test(entry.value)) {
      failAt(
        build,
        entry.line,
        entry.key,
        'invalid-value',
        `${JSON.stringify(entry.value)} is not a device name`,
        'e.g. /dev/xvda or sdb',
      );
    }
    devices[entry.key] = entry.value;
  }
  build.instance.blockDevices = devices;
}

// ---- [user-data] ------------------------------------------------------------------------------------------------

export function applyUserData(build: Build, section: IniSection): void {
  let userData: Uint8Array | undefined;
  let source: IniEntry | undefined;
  for (const entry of section.entries) {
    if (entry.key !== 'file' && entry.key !== 'text') {
      const near = nearest(entry.key, ['file', 'text']);
      failAt(
        build,
        entry.line,
        entry.key,
        'unknown-key',
        `unknown key in [user-data]${near === undefined ? '' : `; did you mean "${near}"?`}`,
        'file or text',
      );
    }
    if (source !== undefined) {
      failAt(
        build,
        entry.line,
        entry.key,
        'inconsistent',
        `both ${source.key} (line ${source.line}) and ${entry.key} given`,
        'one of file or text',
      );
    }
    source = entry;
    if (entry.key === 'text') {
      userData = entry.value === '' ? undefined : new TextEncoder().encode(entry.value);
    } else {
      if (entry.value === '')
        failAt(build, entry.line, entry.key, 'invalid-value', 'empty path', 'path to the user-data file');
      // Relative to the config file, so a config and its user data can move together.
      const path = resolve(dirname(build.file), entry.value);
      try {
        userData = build.readFile(path);
      } catch (err) {
        failAt(
          build,
          entry.line,
          entry.key,
          'user-data-unreadable',
          `cannot read ${path}: ${osError(err)}`,
          'a readable file',
        );
      }
    }
    if (userData !== undefined && userData.length > MAX_USER_DATA_BYTES) {
      failAt(
        build,
        entry.line,
        entry.key,
        'out-of-range',
        `user data is ${userData.length} bytes`,
        `at most ${MAX_USER_DATA_BYTES} bytes, as on EC2`,
      );
    }
  }
  build.instance.userData = userData;
}

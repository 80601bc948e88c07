// The paths the service answers, as a tree of directories and leaves built from the instance, its options and
// events. Built once and rebuilt by the engine only when one of those changes; leaves that depend on the time of
// the request (credentials, maintenance windows) read it when served. EC2's layout of each category is pinned in
// test/imds/ec2-behaviour-checklist.txt.
import { credentialsJson, issueCredentials, type IssuedCredentials, type RoleCredentialIssuer } from './credentials.ts';
import {
  historyEvents,
  maintenanceJson,
  rebalanceJson,
  scheduledEvents,
  spotActionJson,
  type EventState,
} from './events.ts';
import { ec2Json, isoSeconds } from './format.ts';
import type { SignedIdentity } from './identity-document.ts';
import type { InstanceModel, MetadataOptions, NetworkInterface } from './instance.ts';

/** Metadata versions GET / lists, oldest first, `latest` last (EC2 User Guide, "Retrieve instance metadata"). */
export const METADATA_VERSIONS: readonly string[] = [
  '1.0',
  '2007-01-19',
  '2007-03-01',
  '2007-08-29',
  '2007-10-10',
  '2007-12-15',
  '2008-02-01',
  '2008-09-01',
  '2009-04-04',
  '2011-01-01',
  '2011-05-01',
  '2012-01-12',
  '2014-02-25',
  '2014-11-05',
  '2015-10-20',
  '2016-04-19',
  '2016-06-30',
  '2016-09-02',
  '2018-03-28',
  '2018-08-17',
  '2018-09-24',
  '2019-10-01',
  '2020-10-27',
  '2021-01-03',
  '2021-03-23',
  '2021-07-15',
  '2022-09-24',
  '2024-04-11',
  'latest',
];

type Body = string | Uint8Array;
export type Node =
  | { kind: 'dir'; children: Map<string, Node>; listAs?: Map<string, string>; bare?: boolean }
  | { kind: 'leaf'; body: () => Body; contentType?: string; servesRole?: boolean };

/** What the tree is built from. */
interface TreeSources {
  instance: InstanceModel;
  options: MetadataOptions;
  events: EventState;
  bootWallMs: number;
  credentialKey: Uint8Array;
  roleCredentials: RoleCredentialIssuer;
  /** The wall time of the request being answered. */
  requestWallMs: () => number;
  /** The identity document and its signatures; signing is costly, so the engine keeps them. */
  signedIdentity: () => SignedIdentity;
}

function leaf(body: Body | (() => Body), extra: Partial<{ contentType: string; servesRole: boolean }> = {}): Node {
  return { kind: 'leaf', body: typeof body === 'function' ? body : () => body, ...extra };
}

/**
 * A directory from entries; undefined entries are left out, so optional categories read naturally. Names from
 * data (tags) come as an array: an object would list integer-like names ("0", "2024") first, out of order.
 */
function dir(
  entries: Record<string, Node | undefined> | Array<[string, Node]>,
  listAs?: Map<string, string>,
  bare = false,
): Node {
  const children = new Map<string, Node>();
  for (const [name, node] of Array.isArray(entries) ? entries : Object.entries(entries))
    if (node !== undefined) children.set(name, node);
  return { kind: 'dir', children, listAs, bare };
}

function lines(values: readonly string[]): string {
  return values.join('\n');
}

type PathClass = 'token' | 'meta-data' | 'user-data' | 'dynamic' | 'versions' | 'other';

/** The part of the service a path belongs to, as the requests metric labels it. */
export function classifyPath(path: string, tokenPath: string): PathClass {
  if (path === tokenPath) return 'token';
  const [version, category] = path.slice(1).split('/');
  if (path === '/' || (METADATA_VERSIONS.includes(version) && (category === undefined || category === '')))
    return 'versions';
  if (!METADATA_VERSIONS.includes(version)) return 'other';
  if (category === 'meta-data' || category === 'user-data' || category === 'dynamic') return category;
  return 'other';
}

/** Walks the tree; a directory answers with or without its trailing slash, a leaf with or without one too. */
export function resolveNode(root: Node, path: string): Node | undefined {
  if (!path.startsWith('/')) return undefined;
  let rest = path.slice(1);
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  let node = root;
  if (rest === '') return node;
  for (const raw of rest.split('/')) {
    let name = raw;
    if (raw.includes('%')) {
      try {
        name = decodeURIComponent(raw);
      } catch {
        return undefined;
      }
    }
    if (node.kind !== 'dir' || name === '') return undefined;
    const child = node.children.get(name);
    if (child === undefined) return undefined;
    node = child;
  }
  return node;
}

/** What a node answers: a directory its listing, one entry a line (subdirectories with a trailing slash, except
 * in bare listings); a leaf its body. */
export function nodeContent(node: Node): { body: Body; contentType: string; servesRole: boolean } {
  if (node.kind === 'leaf')
    return { body: node.body(), contentType: node.contentType ?? 'text/plain', servesRole: node.servesRole === true };
  const entries = [...node.children].map(([name, child]) => {
    // Relabelled entries (public-keys' "0=name") are listed without the directory slash, as EC2 does.
    const label = node.listAs?.get(name);
    if (label !== undefined) return label;
    return child.kind === 'dir' && !node.bare ? `${name}/` : name;
  });
  return { body: lines(entries), contentType: 'text/plain', servesRole: false };
}

export function buildMetadataTree(sources: TreeSources): Node {
  const { userData } = sources.instance;
  const version = dir(
    {
      dynamic: dynamicTree(sources),
      'meta-data': metaDataTree(sources),
      'user-data': userData === undefined ? undefined : leaf(userData, { contentType: 'application/octet-stream' }),
    },
    undefined,
    true,
  );
  const versions: Record<string, Node> = {};
  for (const name of METADATA_VERSIONS) versions[name] = version;
  // GET / and GET /latest/ list their entries bare, without the trailing slash of deeper directories.
  return dir(versions, undefined, true);
}

function dynamicTree({ signedIdentity }: TreeSources): Node {
  return dir({
    fws: dir({ 'instance-monitoring': leaf('disabled') }),
    'instance-identity': dir({
      document: leaf(() => signedIdentity().document),
      pkcs7: leaf(() => signedIdentity().signatures.pkcs7),
      rsa2048: leaf(() => signedIdentity().signatures.rsa2048),
      signature: leaf(() => signedIdentity().signatures.signature),
    }),
  });
}

/** Tags served under tags/instance: the config refuses any key EC2 would refuse (value-rules TAG_KEY). */
function tagsTree(tags: Record<string, string>): Node {
  return dir({
    instance: dir(
      Object.keys(tags)
        .sort()
        .map((key): [string, Node] => [key, leaf(tags[key] as string)]),
    ),
  });
}

function metaDataTree(sources: TreeSources): Node {
  const { instance: i, events, bootWallMs, credentialKey, requestWallMs } = sources;
  // Only read when a role exists, and then there is always a set.
  const roleSet = () => sources.roleCredentials.at(requestWallMs()) as IssuedCredentials;
  const primary: NetworkInterface | undefined = i.interfaces[0];
  const role = i.iamRole;
  const publicKeys = i.publicKeys ?? [];

  const macs: Record<string, Node> = {};
  for (const nic of i.interfaces) macs[nic.mac] = interfaceTree(nic);

  const identityCredentials = () =>
    credentialsJson(
      issueCredentials(
        credentialKey,
        `identity:${i.instanceId}`,
        { lifetimeSeconds: 6 * 3600, refreshSeconds: 15 * 60 },
        bootWallMs,
        requestWallMs(),
      ),
    );

  const categories: Record<string, Node | undefined> = {
    'ami-id': leaf(i.amiId),
    'ami-launch-index': leaf(String(i.amiLaunchIndex)),
    'ami-manifest-path': leaf(i.amiManifestPath),
    autoscaling:
      events.autoscalingTargetLifecycleState === undefined
        ? undefined
        : dir({ 'target-lifecycle-state': leaf(events.autoscalingTargetLifecycleState) }),
    'block-device-mapping':
      Object.keys(i.blockDevices).length === 0
        ? undefined
        : dir(
            Object.keys(i.blockDevices)
              .sort()
              .map((name): [string, Node] => [name, leaf(i.blockDevices[name] as string)]),
          ),
    events: dir({
      maintenance: dir({
        history: leaf(() => maintenanceJson(historyEvents(events, requestWallMs()))),
        scheduled: leaf(() => maintenanceJson(scheduledEvents(events, requestWallMs()))),
      }),
      recommendations:
        events.rebalanceNoticeMs === undefined
          ? undefined
          : dir({ rebalance: leaf(rebalanceJson(events.rebalanceNoticeMs)) }),
    }),
    hostname: leaf(i.hostname),
    iam:
      role === undefined
        ? undefined
        : dir({
            info: leaf(() =>
              ec2Json([
                ['Code', 'Success'],
                ['LastUpdated', isoSeconds(roleSet().lastUpdatedMs)],
                ['InstanceProfileArn', role.instanceProfileArn],
                ['InstanceProfileId', role.instanceProfileId],
              ]),
            ),
            'security-credentials': dir({
              [role.name]: leaf(() => credentialsJson(roleSet()), { servesRole: true }),
            }),
          }),
    'identity-credentials': dir({
      ec2: dir({
        info: leaf(() =>
          ec2Json([
            ['Code', 'Success'],
            ['LastUpdated', isoSeconds(bootWallMs)],
            ['AccountId', i.accountId],
          ]),
        ),
        'security-credentials': dir({ 'ec2-instance': leaf(identityCredentials) }),
      }),
    }),
    'instance-action': leaf('none'),
    'instance-id': leaf(i.instanceId),
    'instance-life-cycle': leaf(i.instanceLifeCycle),
    'instance-type': leaf(i.instanceType),
    'kernel-id': i.kernelId === undefined ? undefined : leaf(i.kernelId),
    'local-hostname': primary ? leaf(primary.localHostname) : undefined,
    'local-ipv4': primary?.localIpv4s[0] === undefined ? undefined : leaf(primary.localIpv4s[0]),
    mac: primary ? leaf(primary.mac) : undefined,
    metrics: dir({ vhostmd: leaf('<?xml version="1.0" encoding="UTF-8"?>') }),
    network: primary ? dir({ interfaces: dir({ macs: dir(macs) }) }) : undefined,
    placement: dir({
      'availability-zone': leaf(i.availabilityZone),
      'availability-zone-id': leaf(i.availabilityZoneId),
      region: leaf(i.region),
    }),
    'product-codes': i.productCodes.length === 0 ? undefined : leaf(lines(i.productCodes)),
    profile: leaf('default-hvm'),
    'public-hostname': primary?.publicHostname === undefined ? undefined : leaf(primary.publicHostname),
    'public-ipv4': primary?.publicIpv4s[0] === undefined ? undefined : leaf(primary.publicIpv4s[0]),
    'public-keys':
      publicKeys.length === 0
        ? undefined
        : dir(
            Object.fromEntries(
              publicKeys.map((key, index) => [String(index), dir({ 'openssh-key': leaf(key.openSshKey) })]),
            ),
            // The listing shows index=name; the path uses the index alone (EC2 User Guide, public-keys/).
            new Map(publicKeys.map((key, index) => [String(index), `${index}=${key.name}`])),
          ),
    'ramdisk-id': i.ramdiskId === undefined ? undefined : leaf(i.ramdiskId),
    'reservation-id': leaf(i.reservationId),
    'security-groups': primary ? leaf(lines(primary.securityGroups)) : undefined,
    services: dir({ domain: leaf(i.servicesDomain), partition: leaf(i.partition) }),
    spot:
      events.spot === undefined
        ? undefined
        : dir({
            'instance-action': leaf(spotActionJson(events.spot)),
            'termination-time': events.spot.action === 'terminate' ? leaf(isoSeconds(events.spot.timeMs)) : undefined,
          }),
    tags: sources.options.instanceMetadataTags === 'enabled' ? tagsTree(i.tags) : undefined,
  };
  return dir(categories);
}

function interfaceTree(nic: NetworkInterface): Node {
  return dir({
    'device-number': leaf(String(nic.deviceNumber)),
    'interface-id': leaf(nic.interfaceId),
    'ipv4-associations':
      nic.publicIpv4s.length === 0
        ? undefined
        : dir(
            Object.fromEntries(
              nic.publicIpv4s.map((ip, index) => [ip, leaf(nic.localIpv4s[index] ?? nic.localIpv4s[0] ?? '')]),
            ),
          ),
    ipv6s: nic.ipv6s.length === 0 ? undefined : leaf(lines(nic.ipv6s)),
    'local-hostname': leaf(nic.localHostname),
    'local-ipv4s': leaf(lines(nic.localIpv4s)),
    mac: leaf(nic.mac),
    'owner-id': leaf(nic.ownerId),
    'public-hostname': nic.publicHostname === undefined ? undefined : leaf(nic.publicHostname),
    'public-ipv4s': nic.publicIpv4s.length === 0 ? undefined : leaf(lines(nic.publicIpv4s)),
    'security-group-ids': leaf(lines(nic.securityGroupIds)),
    'security-groups': leaf(lines(nic.securityGroups)),
    'subnet-id': leaf(nic.subnetId),
    'subnet-ipv4-cidr-block': leaf(nic.subnetIpv4CidrBlock),
    'vpc-id': leaf(nic.vpcId),
    'vpc-ipv4-cidr-block': leaf(nic.vpcIpv4CidrBlocks[0] ?? ''),
    'vpc-ipv4-cidr-blocks': leaf(lines(nic.vpcIpv4CidrBlocks)),
  });
}

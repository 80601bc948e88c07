// [network] (the primary interface, eth0) and [network "ethN"] (the others, which start from the primary's
// subnet, VPC, owner and groups).
import type { NetworkInterface } from '../imds/instance.ts';
import { applyTable, failAt, optional, type Build, type KeyTable } from './config-build.ts';
import { ValueProblem } from './config-error.ts';
import type { IniSection } from './ini-lines.ts';
import * as v from './values.ts';

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
    throw new ValueProblem(
      'invalid-value',
      `${JSON.stringify(text)} is not a security group name`,
      'up to 255 characters',
    );
  }
  return text;
}

const EXTRA_REQUIRED = ['mac', 'interface-id', 'local-ipv4'];

export function applyNetwork(build: Build, section: IniSection): void {
  const primary = build.instance.interfaces[0];
  if (section.label === undefined) return applyTable(build, section, NETWORK_KEYS, primary);

  const m = /^eth([1-9][0-9]?)$/.exec(section.label);
  if (m === null) {
    failAt(
      build,
      section.line,
      `[${section.header}]`,
      'unknown-section',
      section.label === 'eth0' ? 'the primary interface is [network]' : 'bad interface label',
      '[network] for eth0, [network "ethN"] with N in 1..31 for the others',
    );
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
    failAt(
      build,
      section.line,
      `[${section.header}]`,
      'missing-key',
      `missing ${missing.join(', ')}`,
      'a secondary interface needs mac, interface-id and local-ipv4',
    );
  }
  if (extra.localHostname === '') {
    const domain = primary.localHostname.split('.').slice(1).join('.');
    extra.localHostname = `ip-${extra.localIpv4s[0].replaceAll('.', '-')}${domain === '' ? '' : `.${domain}`}`;
  }
  build.instance.interfaces.push(extra);
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'ini';
import { loadConfig, parseConfig } from '../../src/config/index.ts';
import { defaultInstance } from '../../src/imds/instance.ts';
import { NO_THROTTLE } from '../../src/faults/index.ts';

const examples = new URL('../../examples/', import.meta.url).pathname;
const noFiles = (path: string): Uint8Array => {
  throw new Error(`unexpected read of ${path}`);
};
const load = (text: string) => parseConfig(text, 'test.ini', noFiles);
const NO_FAULTS = { seed: undefined, throttle: NO_THROTTLE, earlyBoot: undefined, rules: [] };

test('an empty file gives the built-in instance and no appliance settings', () => {
  assert.deepEqual(load(''), {
    instance: defaultInstance(),
    appliance: {},
    faults: NO_FAULTS,
    ec2Api: {},
    launchOptions: {},
  });
  assert.deepEqual(load('; only a comment\n\n# another\n'), {
    instance: defaultInstance(),
    appliance: {},
    faults: NO_FAULTS,
    ec2Api: {},
    launchOptions: {},
  });
});

test('examples/imds-hop.ini equals the built-in default', () => {
  assert.deepEqual(loadConfig(join(examples, 'imds-hop.ini')), {
    instance: defaultInstance(),
    appliance: {},
    faults: NO_FAULTS,
    ec2Api: {},
    launchOptions: {},
  });
});

test('examples/required-tokens.ini turns on IMDSv2 with hop limit 2', () => {
  const { instance } = loadConfig(join(examples, 'required-tokens.ini'));
  assert.equal(instance.options.httpTokens, 'required');
  assert.equal(instance.options.httpPutResponseHopLimit, 2);
  assert.deepEqual(instance.tags, { Name: 'imds-hop-v2-only', team: 'platform' });
});

test('the line scan reads the same values as ini.parse on the examples', () => {
  for (const name of ['imds-hop.ini', 'required-tokens.ini']) {
    const parsed = parse(readFileSync(join(examples, name), 'utf8'));
    const tags = parsed.tags as Record<string, string>;
    assert.deepEqual(loadConfig(join(examples, name)).instance.tags, { ...tags });
  }
});

test('[instance] keys override the default', () => {
  const { instance } = load(`
[instance]
account-id = 210987654321
region = eu-west-3
availability-zone = eu-west-3b
availability-zone-id = euw3-az2
instance-id = i-1234abcd
instance-type = c7g.large
instance-life-cycle = spot
ami-id = ami-0123456789abcdef0
ami-launch-index = 3
ami-manifest-path = bucket/manifest.xml
architecture = arm64
hostname = ip-10-0-0-5.eu-west-3.compute.internal
reservation-id = r-89abcdef
pending-time = 2024-02-29T23:59:59Z
kernel-id = aki-0123abcd
ramdisk-id = ari-0123abcd
product-codes = abc123, def456
autoscaling-target-lifecycle-state = Warmed:Running
`);
  const expected = {
    ...defaultInstance(),
    accountId: '210987654321',
    region: 'eu-west-3',
    availabilityZone: 'eu-west-3b',
    availabilityZoneId: 'euw3-az2',
    instanceId: 'i-1234abcd',
    instanceType: 'c7g.large',
    instanceLifeCycle: 'spot',
    amiId: 'ami-0123456789abcdef0',
    amiLaunchIndex: 3,
    amiManifestPath: 'bucket/manifest.xml',
    architecture: 'arm64',
    hostname: 'ip-10-0-0-5.eu-west-3.compute.internal',
    reservationId: 'r-89abcdef',
    pendingTime: '2024-02-29T23:59:59Z',
    kernelId: 'aki-0123abcd',
    ramdiskId: 'ari-0123abcd',
    productCodes: ['abc123', 'def456'],
    autoscalingTargetLifecycleState: 'Warmed:Running',
  };
  assert.deepEqual(instance, expected);
});

test('region sets partition and services domain', () => {
  const { instance } = load('[instance]\nregion = cn-north-1\navailability-zone = cn-north-1a\n');
  assert.equal(instance.partition, 'aws-cn');
  assert.equal(instance.servicesDomain, 'amazonaws.com.cn');
});

test('[metadata-options] keys override the default', () => {
  const { instance } = load(`[metadata-options]
http-tokens = required
http-endpoint = disabled
http-put-response-hop-limit = 64
instance-metadata-tags = enabled
http-protocol-ipv6 = enabled
`);
  assert.deepEqual(instance.options, {
    httpTokens: 'required',
    httpEndpoint: 'disabled',
    httpPutResponseHopLimit: 64,
    instanceMetadataTags: 'enabled',
    httpProtocolIpv6: 'enabled',
  });
});

test('[network] overrides the primary interface; MACs are lower-cased', () => {
  const { instance } = load(`[network]
mac = 02:AB:cd:00:00:01
device-number = 0
interface-id = eni-00000001
owner-id = 210987654321
subnet-id = subnet-00000002
subnet-ipv4-cidr-block = 10.0.1.0/24
vpc-id = vpc-00000003
vpc-ipv4-cidr-blocks = 10.0.0.0/16, 100.64.0.0/10
local-ipv4 = 10.0.1.5, 10.0.1.6
local-hostname = ip-10-0-1-5.ec2.internal
public-ipv4 =
public-hostname =
ipv6s = 2600:1F18::10
security-groups = web
security-group-ids = sg-00000004
`);
  assert.deepEqual(instance.interfaces, [
    {
      mac: '02:ab:cd:00:00:01',
      deviceNumber: 0,
      interfaceId: 'eni-00000001',
      ownerId: '210987654321',
      subnetId: 'subnet-00000002',
      subnetIpv4CidrBlock: '10.0.1.0/24',
      vpcId: 'vpc-00000003',
      vpcIpv4CidrBlocks: ['10.0.0.0/16', '100.64.0.0/10'],
      localIpv4s: ['10.0.1.5', '10.0.1.6'],
      localHostname: 'ip-10-0-1-5.ec2.internal',
      publicIpv4s: [],
      publicHostname: undefined,
      ipv6s: ['2600:1f18::10'],
      securityGroups: ['web'],
      securityGroupIds: ['sg-00000004'],
    },
  ]);
});

test('[network "eth1"] adds a secondary interface that inherits subnet, VPC and groups', () => {
  const { instance } = load(
    '[network "eth1"]\nmac = 02:00:00:00:00:02\ninterface-id = eni-0000000a\nlocal-ipv4 = 172.31.16.20\n',
  );
  const [primary, second] = instance.interfaces;
  assert.equal(instance.interfaces.length, 2);
  assert.deepEqual(second, {
    ...primary,
    mac: '02:00:00:00:00:02',
    deviceNumber: 1,
    interfaceId: 'eni-0000000a',
    localIpv4s: ['172.31.16.20'],
    localHostname: 'ip-172-31-16-20.ec2.internal',
    publicIpv4s: [],
    publicHostname: undefined,
    ipv6s: [],
  });
});

test('[iam] overrides the role, and enabled = false removes it', () => {
  const { instance } = load(`[iam]
role-name = other
instance-profile-arn = arn:aws:iam::123456789012:instance-profile/other
instance-profile-id = AIPAABCDEFGHIJKLMNOP
credential-lifetime-seconds = 900
credential-refresh-seconds = 300
`);
  assert.deepEqual(instance.iamRole, {
    name: 'other',
    instanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/other',
    instanceProfileId: 'AIPAABCDEFGHIJKLMNOP',
    credentialLifetimeSeconds: 900,
    credentialRefreshSeconds: 300,
  });
  assert.equal(load('[iam]\nenabled = false\n').instance.iamRole, undefined);
});

test('[appliance] connection: close (EC2) or keep-alive', () => {
  assert.equal(load('[appliance]\nconnection = keep-alive\n').appliance.connection, 'keep-alive');
  assert.equal(load('[appliance]\nconnection = close\n').appliance.connection, 'close');
  assert.equal(load('[appliance]\n').appliance.connection, undefined, 'unset: serve applies its default, close');
});

test('[tags] and [block-device-mapping] replace the built-in maps', () => {
  const { instance } = load(
    '[tags]\naws:cloudformation:stack-name = s1\nempty =\n\n[block-device-mapping]\nami = sda1\nroot = /dev/sda1\nephemeral0 = sdb\n',
  );
  assert.deepEqual(instance.tags, { 'aws:cloudformation:stack-name': 's1', empty: '' });
  assert.deepEqual(instance.blockDevices, { ami: 'sda1', root: '/dev/sda1', ephemeral0: 'sdb' });
  assert.deepEqual(load('[tags]\n').instance.tags, {});
});

test('[user-data] text takes JSON escapes when double-quoted', () => {
  const { instance } = load('[user-data]\ntext = "#!/bin/sh\\necho hi\\n"\n');
  assert.equal(Buffer.from(instance.userData ?? []).toString(), '#!/bin/sh\necho hi\n');
});

test('[user-data] file is read relative to the config file directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imds-hop-config-'));
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'boot.sh'), '#!/bin/sh\n');
  writeFileSync(join(dir, 'imds.ini'), '[user-data]\nfile = data/boot.sh\n');
  const { instance } = loadConfig(join(dir, 'imds.ini'));
  assert.equal(Buffer.from(instance.userData ?? []).toString(), '#!/bin/sh\n');

  const seen: string[] = [];
  parseConfig('[user-data]\nfile = u.txt\n', '/etc/imds-hop/imds.ini', (p) => (seen.push(p), new Uint8Array([1])));
  assert.deepEqual(seen, ['/etc/imds-hop/u.txt']);
});

test('[appliance] keys fill ApplianceSettings', () => {
  const { appliance, instance } = load(`[appliance]
interface = imds0
host-address = 169.254.169.1
service-address = 169.254.169.254
mac = 02:00:00:00:01:01
default-ttl = 64
control-socket = /run/imds-hop.sock
metrics-listen = 127.0.0.1:9464
`);
  assert.deepEqual(appliance, {
    interfaceName: 'imds0',
    hostAddress: '169.254.169.1',
    serviceAddress: '169.254.169.254',
    mac: '02:00:00:00:01:01',
    defaultTtl: 64,
    controlSocket: '/run/imds-hop.sock',
    metricsListen: '127.0.0.1:9464',
  });
  assert.deepEqual(instance, defaultInstance());
});

test('CRLF line endings and inline comments are understood', () => {
  const { instance } = load('[metadata-options]\r\nhttp-tokens = required ; IMDSv2\r\n');
  assert.equal(instance.options.httpTokens, 'required');
});

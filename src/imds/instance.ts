// The instance the metadata service describes, and the options `modify-instance-metadata-options` changes.
// Plain data: the config loader builds it, the engine reads it, nothing here does I/O.

export type Toggle = 'enabled' | 'disabled';

/** The instance's metadata options, named as in the EC2 API (InstanceMetadataOptionsRequest). */
export interface MetadataOptions {
  httpTokens: 'optional' | 'required';
  httpEndpoint: Toggle;
  /** IP TTL of token responses, 1..64. */
  httpPutResponseHopLimit: number;
  instanceMetadataTags: Toggle;
  httpProtocolIpv6: Toggle;
}

export interface NetworkInterface {
  mac: string;
  deviceNumber: number;
  interfaceId: string;
  ownerId: string;
  subnetId: string;
  subnetIpv4CidrBlock: string;
  vpcId: string;
  vpcIpv4CidrBlocks: string[];
  localIpv4s: string[];
  localHostname: string;
  publicIpv4s: string[];
  publicHostname: string | undefined;
  ipv6s: string[];
  securityGroups: string[];
  securityGroupIds: string[];
}

export interface IamRole {
  name: string;
  instanceProfileArn: string;
  instanceProfileId: string;
  /** How long each set of credentials is valid. */
  credentialLifetimeSeconds: number;
  /** New credentials are served this long before the current ones expire. */
  credentialRefreshSeconds: number;
}

export interface InstanceModel {
  accountId: string;
  region: string;
  availabilityZone: string;
  availabilityZoneId: string;
  partition: string;
  servicesDomain: string;
  instanceId: string;
  instanceType: string;
  instanceLifeCycle: 'on-demand' | 'spot';
  amiId: string;
  amiLaunchIndex: number;
  amiManifestPath: string;
  architecture: 'x86_64' | 'arm64';
  kernelId: string | undefined;
  ramdiskId: string | undefined;
  reservationId: string;
  /** ISO-8601 UTC, e.g. 2026-11-25T08:00:00Z. */
  pendingTime: string;
  hostname: string;
  /** Network interfaces; the first is the primary (device-number 0) and gives mac, local-ipv4 and friends. */
  interfaces: NetworkInterface[];
  /** Block device mapping: name (ami, root, ebs1, ephemeral0…) → device. */
  blockDevices: Record<string, string>;
  productCodes: string[];
  tags: Record<string, string>;
  iamRole: IamRole | undefined;
  userData: Uint8Array | undefined;
  /** Key pairs for public-keys/ (optional; absent or empty → no public-keys/ category). */
  publicKeys?: Array<{ name: string; openSshKey: string }>;
  /** Auto Scaling target lifecycle state when the instance is in a group (e.g. InService). */
  autoscalingTargetLifecycleState: string | undefined;
  /** The AMI's ImdsSupport ("v2.0": launch with tokens required, hop limit 2); absent for older AMIs. */
  imdsSupport?: 'v2.0';
  options: MetadataOptions;
}

export const DEFAULT_METADATA_OPTIONS: MetadataOptions = {
  httpTokens: 'optional',
  httpEndpoint: 'enabled',
  httpPutResponseHopLimit: 1,
  instanceMetadataTags: 'disabled',
  httpProtocolIpv6: 'disabled',
};

/** The built-in instance served with no config file: a t3.micro in us-east-1 with a role and a few tags. */
export function defaultInstance(): InstanceModel {
  const mac = '0e:49:61:0f:c3:11';
  return {
    accountId: '123456789012',
    region: 'us-east-1',
    availabilityZone: 'us-east-1a',
    availabilityZoneId: 'use1-az4',
    partition: 'aws',
    servicesDomain: 'amazonaws.com',
    instanceId: 'i-0b22a22eec53b9321',
    instanceType: 't3.micro',
    instanceLifeCycle: 'on-demand',
    amiId: 'ami-0c02fb55956c7d316',
    amiLaunchIndex: 0,
    amiManifestPath: '(unknown)',
    architecture: 'x86_64',
    kernelId: undefined,
    ramdiskId: undefined,
    reservationId: 'r-0ea1e2b3c4d5e6f70',
    pendingTime: '2026-11-25T08:00:00Z',
    hostname: 'ip-172-31-16-10.ec2.internal',
    interfaces: [
      {
        mac,
        deviceNumber: 0,
        interfaceId: 'eni-0f95d3625f5c521cc',
        ownerId: '123456789012',
        subnetId: 'subnet-0ac62554',
        subnetIpv4CidrBlock: '172.31.16.0/20',
        vpcId: 'vpc-d295a6a7',
        vpcIpv4CidrBlocks: ['172.31.0.0/16'],
        localIpv4s: ['172.31.16.10'],
        localHostname: 'ip-172-31-16-10.ec2.internal',
        publicIpv4s: ['198.18.100.10'],
        publicHostname: 'ec2-198-18-100-10.compute-1.amazonaws.com',
        ipv6s: [],
        securityGroups: ['default', 'imds-hop-lab'],
        securityGroupIds: ['sg-0a1b2c3d4e5f60718', 'sg-0f1e2d3c4b5a69788'],
      },
    ],
    blockDevices: { ami: '/dev/xvda', root: '/dev/xvda' },
    productCodes: [],
    tags: { Name: 'imds-hop-default', Environment: 'lab' },
    iamRole: {
      name: 'imds-hop-instance-role',
      instanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/imds-hop-instance-role',
      instanceProfileId: 'AIPAQ5EXAMPLE3IMDSHOP',
      credentialLifetimeSeconds: 6 * 3600,
      credentialRefreshSeconds: 15 * 60,
    },
    userData: undefined,
    // A key pair, as most instances have one (EC2 serves it at public-keys/0/openssh-key with the key name as
    // comment). Its private half was never kept: nobody can log in with it.
    publicKeys: [
      {
        name: 'imds-hop-key',
        openSshKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEUftXfeQCBCVlYZIWz/dEpHdc1EO9YXBiRyd1jLNtbn imds-hop-key',
      },
    ],
    autoscalingTargetLifecycleState: undefined,
    options: { ...DEFAULT_METADATA_OPTIONS },
  };
}

// Success documents of the four actions, element names and nesting from the EC2 service model (botocore's
// ec2/2016-11-15/service-2.json: each member's locationName, lists as <item>), namespace 2016-11-15.
import type { AccountMetadataDefaults, InstanceModel, MetadataOptions } from '../imds/index.ts';
import { el, text, xmlDocument, type XmlNode } from './xml.ts';

export const EC2_NAMESPACE = 'http://ec2.amazonaws.com/doc/2016-11-15/';

export type OptionsState = 'pending' | 'applied';

export interface OptionsView {
  state: OptionsState;
  options: MetadataOptions;
}

function response(action: string, requestId: string, body: Array<XmlNode | undefined>): string {
  return xmlDocument(el(`${action}Response`, [text('requestId', requestId), ...body]), EC2_NAMESPACE);
}

/** InstanceMetadataOptionsResponse, in the order EC2's own documents list it. */
function metadataOptionsXml(name: string, view: OptionsView): XmlNode {
  const o = view.options;
  return el(name, [
    text('state', view.state),
    text('httpTokens', o.httpTokens),
    text('httpPutResponseHopLimit', o.httpPutResponseHopLimit),
    text('httpEndpoint', o.httpEndpoint),
    text('httpProtocolIpv6', o.httpProtocolIpv6),
    text('instanceMetadataTags', o.instanceMetadataTags),
  ]);
}

/** EC2 prints times with milliseconds: 2026-11-25T08:00:00.000Z. */
function ec2Time(iso: string): string {
  return new Date(iso).toISOString();
}

function instanceXml(instance: InstanceModel, view: OptionsView): XmlNode {
  const primary = instance.interfaces[0];
  const tags = Object.entries(instance.tags);
  const keyName = instance.publicKeys?.[0]?.name;
  return el('item', [
    text('instanceId', instance.instanceId),
    text('imageId', instance.amiId),
    el('instanceState', [text('code', 16), text('name', 'running')]),
    text('privateDnsName', primary?.localHostname),
    text('dnsName', primary?.publicHostname ?? ''),
    text('reason', ''),
    text('keyName', keyName),
    text('amiLaunchIndex', instance.amiLaunchIndex),
    el(
      'productCodes',
      instance.productCodes.map((code) => el('item', [text('productCode', code), text('type', 'marketplace')])),
    ),
    text('instanceType', instance.instanceType),
    text('launchTime', ec2Time(instance.pendingTime)),
    el('placement', [
      text('availabilityZoneId', instance.availabilityZoneId),
      text('availabilityZone', instance.availabilityZone),
      text('groupName', ''),
      text('tenancy', 'default'),
    ]),
    text('kernelId', instance.kernelId),
    text('ramdiskId', instance.ramdiskId),
    el('monitoring', [text('state', 'disabled')]),
    text('subnetId', primary?.subnetId),
    text('vpcId', primary?.vpcId),
    text('privateIpAddress', primary?.localIpv4s[0]),
    text('ipAddress', primary?.publicIpv4s[0]),
    text('sourceDestCheck', true),
    el(
      'groupSet',
      (primary?.securityGroupIds ?? []).map((id, index) =>
        el('item', [text('groupId', id), text('groupName', primary?.securityGroups[index])]),
      ),
    ),
    text('architecture', instance.architecture),
    text('rootDeviceType', 'ebs'),
    text('rootDeviceName', instance.blockDevices.root ?? instance.blockDevices.ami),
    text('instanceLifecycle', instance.instanceLifeCycle === 'spot' ? 'spot' : undefined),
    text('virtualizationType', 'hvm'),
    tags.length === 0
      ? undefined
      : el(
          'tagSet',
          tags.map(([key, value]) => el('item', [text('key', key), text('value', value)])),
        ),
    text('hypervisor', 'xen'),
    instance.iamRole === undefined
      ? undefined
      : el('iamInstanceProfile', [
          text('arn', instance.iamRole.instanceProfileArn),
          text('id', instance.iamRole.instanceProfileId),
        ]),
    text('ebsOptimized', false),
    text('enaSupport', true),
    metadataOptionsXml('metadataOptions', view),
    text('platformDetails', 'Linux/UNIX'),
    text('usageOperation', 'RunInstances'),
  ]);
}

/** DescribeInstancesResult: one reservation holding the instance, or an empty reservationSet when filtered out. */
export function describeInstancesXml(
  requestId: string,
  instance: InstanceModel,
  view: OptionsView,
  matched: boolean,
): string {
  const primary = instance.interfaces[0];
  const reservations = matched
    ? [
        el('item', [
          text('reservationId', instance.reservationId),
          text('ownerId', primary?.ownerId ?? instance.accountId),
          el('groupSet', []),
          el('instancesSet', [instanceXml(instance, view)]),
        ]),
      ]
    : [];
  return response('DescribeInstances', requestId, [el('reservationSet', reservations)]);
}

export function modifyInstanceMetadataOptionsXml(requestId: string, instanceId: string, view: OptionsView): string {
  return response('ModifyInstanceMetadataOptions', requestId, [
    text('instanceId', instanceId),
    metadataOptionsXml('instanceMetadataOptions', view),
  ]);
}

export function modifyInstanceMetadataDefaultsXml(requestId: string): string {
  return response('ModifyInstanceMetadataDefaults', requestId, [text('return', true)]);
}

/** AccountLevel lists only the options that have a preference; "no-preference" leaves the element out. */
export function getInstanceMetadataDefaultsXml(requestId: string, defaults: AccountMetadataDefaults): string {
  return response('GetInstanceMetadataDefaults', requestId, [
    el('accountLevel', [
      text('httpTokens', defaults.httpTokens),
      text('httpPutResponseHopLimit', defaults.httpPutResponseHopLimit),
      text('httpEndpoint', defaults.httpEndpoint),
      text('instanceMetadataTags', defaults.instanceMetadataTags),
    ]),
  ]);
}

// The EC2 actions this appliance answers, as functions of (parameters, the appliance's state) → XML. The
// listener has already authenticated the caller; nothing here does I/O except through the ports it is given.
import {
  HOP_LIMIT,
  HTTP_TOKENS,
  OptionsError,
  TOGGLES,
  type AccountMetadataDefaults,
  type InstanceModel,
  type MetadataOptions,
} from '../imds/index.ts';
import { AccountDefaultsError } from './account-defaults.ts';
import { Ec2ApiError } from './errors.ts';
import {
  booleanParam,
  enumParam,
  filtersParam,
  integerParam,
  listParam,
  requiredParam,
  wildcardMatches,
  type Filter,
  type QueryParams,
} from './query-params.ts';
import {
  describeInstancesXml,
  getInstanceMetadataDefaultsXml,
  modifyInstanceMetadataDefaultsXml,
  modifyInstanceMetadataOptionsXml,
  type OptionsView,
} from './responses.ts';

export interface Ec2ApiState {
  instance: InstanceModel;
  /** The options and their State (pending while a change is being applied). */
  metadataOptions(): OptionsView;
  /** Validates and starts applying a change (the path `imds-hop options` takes); returns the pending view. */
  modifyMetadataOptions(patch: Partial<MetadataOptions>): OptionsView;
  accountDefaults(): AccountMetadataDefaults;
  /** Persists new account defaults; they apply at the next launch. */
  setAccountDefaults(next: AccountMetadataDefaults): void;
}

const ACTIONS = [
  'DescribeInstances',
  'ModifyInstanceMetadataOptions',
  'ModifyInstanceMetadataDefaults',
  'GetInstanceMetadataDefaults',
] as const;
type Ec2Action = (typeof ACTIONS)[number];

// The option values come from their rules (imds metadata-options); the engine checks the patch with them again.
const TOGGLE = TOGGLES;
const TOKENS = HTTP_TOKENS.choices;
const INSTANCE_ID = /^i-([0-9a-f]{8}|[0-9a-f]{17})$/;

export function handleAction(params: QueryParams, state: Ec2ApiState, requestId: string): string {
  const action = params.get('Action');
  if (action === undefined) throw new Ec2ApiError('MissingParameter', 'The request must contain the parameter Action');
  if (!(ACTIONS as readonly string[]).includes(action)) {
    throw new Ec2ApiError('InvalidAction', `The action ${action} is not valid for this web service.`);
  }
  const dryRun = booleanParam(params, 'DryRun');
  switch (action as Ec2Action) {
    case 'DescribeInstances':
      return describeInstances(params, state, requestId, dryRun);
    case 'ModifyInstanceMetadataOptions':
      return modifyInstanceMetadataOptions(params, state, requestId, dryRun);
    case 'ModifyInstanceMetadataDefaults':
      return modifyInstanceMetadataDefaults(params, state, requestId, dryRun);
    case 'GetInstanceMetadataDefaults':
      refuseDryRun(dryRun);
      return getInstanceMetadataDefaultsXml(requestId, state.accountDefaults());
  }
}

/** The caller is authorised (it got this far), so a dry run answers as EC2 does for a permitted one. */
function refuseDryRun(dryRun: boolean): void {
  if (dryRun) throw new Ec2ApiError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.');
}

function checkInstanceIds(ids: string[], instance: InstanceModel): void {
  const malformed = ids.find((id) => !INSTANCE_ID.test(id));
  if (malformed !== undefined) throw new Ec2ApiError('InvalidInstanceID.Malformed', `Invalid id: "${malformed}"`);
  const missing = ids.filter((id) => id !== instance.instanceId);
  if (missing.length > 0) {
    throw new Ec2ApiError(
      'InvalidInstanceID.NotFound',
      `The instance ID${missing.length > 1 ? 's' : ''} '${missing.join(', ')}' do${missing.length > 1 ? '' : 'es'} not exist`,
    );
  }
}

/** The instance's value(s) for a DescribeInstances filter name; undefined for a filter EC2 does not have. */
function filterValues(name: string, instance: InstanceModel, view: OptionsView): string[] | undefined {
  const primary = instance.interfaces[0];
  if (name.startsWith('tag:')) {
    const value = instance.tags[name.slice(4)];
    return value === undefined ? [] : [value];
  }
  const table: Record<string, string[]> = {
    'instance-id': [instance.instanceId],
    'image-id': [instance.amiId],
    'instance-type': [instance.instanceType],
    'instance-state-name': ['running'],
    'instance-state-code': ['16'],
    'availability-zone': [instance.availabilityZone],
    'private-ip-address': primary ? primary.localIpv4s.slice(0, 1) : [],
    'ip-address': primary ? primary.publicIpv4s.slice(0, 1) : [],
    'private-dns-name': primary ? [primary.localHostname] : [],
    'subnet-id': primary ? [primary.subnetId] : [],
    'vpc-id': primary ? [primary.vpcId] : [],
    'reservation-id': [instance.reservationId],
    'owner-id': [primary?.ownerId ?? instance.accountId],
    'tag-key': Object.keys(instance.tags),
    'metadata-options.http-tokens': [view.options.httpTokens],
    'metadata-options.http-put-response-hop-limit': [String(view.options.httpPutResponseHopLimit)],
    'metadata-options.http-endpoint': [view.options.httpEndpoint],
    'metadata-options.instance-metadata-tags': [view.options.instanceMetadataTags],
  };
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

function matchesFilters(filters: Filter[], instance: InstanceModel, view: OptionsView): boolean {
  return filters.every((filter) => {
    const values = filterValues(filter.name, instance, view);
    if (values === undefined) throw new Ec2ApiError('InvalidParameterValue', `The filter '${filter.name}' is invalid`);
    return filter.values.some((pattern) => values.some((value) => wildcardMatches(pattern, value)));
  });
}

function describeInstances(params: QueryParams, state: Ec2ApiState, requestId: string, dryRun: boolean): string {
  const ids = listParam(params, 'InstanceId');
  const filters = filtersParam(params);
  const view = state.metadataOptions();
  checkInstanceIds(ids, state.instance);
  const matched = matchesFilters(filters, state.instance, view);
  refuseDryRun(dryRun);
  return describeInstancesXml(requestId, state.instance, view, matched);
}

function modifyInstanceMetadataOptions(
  params: QueryParams,
  state: Ec2ApiState,
  requestId: string,
  dryRun: boolean,
): string {
  const instanceId = requiredParam(params, 'InstanceId');
  checkInstanceIds([instanceId], state.instance);
  const patch: Partial<MetadataOptions> = {};
  const httpTokens = enumParam(params, 'HttpTokens', TOKENS);
  const hopLimit = integerParam(params, 'HttpPutResponseHopLimit', HOP_LIMIT.min, HOP_LIMIT.max);
  const httpEndpoint = enumParam(params, 'HttpEndpoint', TOGGLE);
  const httpProtocolIpv6 = enumParam(params, 'HttpProtocolIpv6', TOGGLE);
  const instanceMetadataTags = enumParam(params, 'InstanceMetadataTags', TOGGLE);
  if (httpTokens !== undefined) patch.httpTokens = httpTokens;
  if (hopLimit !== undefined) patch.httpPutResponseHopLimit = hopLimit;
  if (httpEndpoint !== undefined) patch.httpEndpoint = httpEndpoint;
  if (httpProtocolIpv6 !== undefined) patch.httpProtocolIpv6 = httpProtocolIpv6;
  if (instanceMetadataTags !== undefined) patch.instanceMetadataTags = instanceMetadataTags;
  refuseDryRun(dryRun);
  try {
    return modifyInstanceMetadataOptionsXml(requestId, instanceId, state.modifyMetadataOptions(patch));
  } catch (error) {
    if (error instanceof OptionsError) throw new Ec2ApiError('InvalidParameterValue', error.message);
    throw error;
  }
}

function modifyInstanceMetadataDefaults(
  params: QueryParams,
  state: Ec2ApiState,
  requestId: string,
  dryRun: boolean,
): string {
  const next: Record<string, unknown> = { ...state.accountDefaults() };
  const set = (key: keyof AccountMetadataDefaults, value: string | number | undefined) => {
    if (value === undefined) return;
    if (value === 'no-preference' || value === -1) delete next[key];
    else next[key] = value;
  };
  if (params.get('HttpTokensEnforced') !== undefined) {
    throw new Ec2ApiError('UnsupportedOperation', 'HttpTokensEnforced is not supported by imds-hop');
  }
  const given = ['HttpTokens', 'HttpPutResponseHopLimit', 'HttpEndpoint', 'InstanceMetadataTags'].filter((name) =>
    params.has(name),
  );
  if (given.length === 0) {
    throw new Ec2ApiError(
      'MissingParameter',
      'The request must contain at least one of HttpTokens, HttpPutResponseHopLimit, HttpEndpoint, InstanceMetadataTags',
    );
  }
  set('httpTokens', enumParam(params, 'HttpTokens', [...TOKENS, 'no-preference']));
  set('httpPutResponseHopLimit', integerParam(params, 'HttpPutResponseHopLimit', HOP_LIMIT.min, HOP_LIMIT.max, [-1]));
  set('httpEndpoint', enumParam(params, 'HttpEndpoint', [...TOGGLE, 'no-preference']));
  set('instanceMetadataTags', enumParam(params, 'InstanceMetadataTags', [...TOGGLE, 'no-preference']));
  refuseDryRun(dryRun);
  try {
    state.setAccountDefaults(next as AccountMetadataDefaults);
  } catch (error) {
    if (error instanceof AccountDefaultsError)
      throw new Ec2ApiError('InternalError', 'the account defaults could not be saved');
    throw error;
  }
  return modifyInstanceMetadataDefaultsXml(requestId);
}

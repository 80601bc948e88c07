// The metadata service as a pure function of (request, instance, options, events, clock): token issue and
// checks, the metadata tree, credentials and identity documents. No I/O; the caller passes the wall clock.
// Behaviours and their sources are pinned line by line in test/imds/ec2-behaviour-checklist.txt.
import { credentialsJson, issueCredentials, periodSeconds, type CredentialSchedule, type IssuedCredentials } from './credentials.ts';
import {
  emptyEvents,
  historyEvents,
  maintenanceEvent,
  maintenanceJson,
  rebalanceJson,
  scheduledEvents,
  snapshotEvents,
  spotActionJson,
  spotInterruption,
  EventError,
  type EventState,
  type EventsSnapshot,
  type MaintenanceRequest,
  type SpotAction,
} from './events.ts';
import { forwardedTokenRefusal, isOtherTokenPath, tokenMethodNotAllowed, tokenPathForbidden } from './ec2-responses.ts';
import { ec2Json, isoSeconds, type Ec2JsonValue } from './format.ts';
import type { CertificateKind, IdentitySignatures, IdentitySigner } from './identity.ts';
import type { InstanceModel, MetadataOptions, NetworkInterface } from './instance.ts';
import type { MetricsSink } from './metrics.ts';
import { TokenAuthority } from './token.ts';
import type { ImdsRequest, ImdsResponse } from './types.ts';
import { HOP_LIMIT } from './value-rules.ts';

export interface EngineDependencies {
  /** Per-boot HMAC key for session tokens (>= 32 bytes). */
  tokenKey: Uint8Array;
  /** Per-boot HMAC key from which role credentials are derived. */
  credentialKey: Uint8Array;
  randomBytes: (n: number) => Uint8Array;
  identitySigner: IdentitySigner;
  /** Wall-clock time the appliance booted: credential periods count from here. */
  bootWallMs: number;
  metrics?: MetricsSink;
}

export class OptionsError extends Error {
  readonly code = 'IMDS_OPTIONS_INVALID';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'OptionsError';
  }
}

export { EventError };

export const TOKEN_PATH = '/latest/api/token';
const TTL_HEADER = 'x-aws-ec2-metadata-token-ttl-seconds';
const TTL_RESPONSE_HEADER = 'X-Aws-Ec2-Metadata-Token-Ttl-Seconds';
const TOKEN_HEADER = 'x-aws-ec2-metadata-token';
/** IMDSv2: a session lasts at most six hours (EC2 User Guide, "How IMDSv2 works"). */
export const MAX_TOKEN_TTL_SECONDS = 21600;

/** Metadata versions GET / lists, oldest first, `latest` last (EC2 User Guide, "Retrieve instance metadata"). */
export const METADATA_VERSIONS: readonly string[] = [
  '1.0', '2007-01-19', '2007-03-01', '2007-08-29', '2007-10-10', '2007-12-15', '2008-02-01', '2008-09-01',
  '2009-04-04', '2011-01-01', '2011-05-01', '2012-01-12', '2014-02-25', '2014-11-05', '2015-10-20', '2016-04-19',
  '2016-06-30', '2016-09-02', '2018-03-28', '2018-08-17', '2018-09-24', '2019-10-01', '2020-10-27', '2021-01-03',
  '2021-03-23', '2021-07-15', '2022-09-24', '2024-04-11', 'latest',
];

/** Version of the identity document format EC2 serves today. */
const IDENTITY_DOCUMENT_VERSION = '2017-09-30';
/** Characters EC2 allows in tag keys that are exposed in metadata (EC2 User Guide, instance tags in IMDS). */
const METADATA_TAG_KEY = /^[A-Za-z0-9+\-=._:@]+$/;

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

type Body = string | Uint8Array;
type Node =
  | { kind: 'dir'; children: Map<string, Node>; listAs?: Map<string, string>; bare?: boolean }
  | { kind: 'leaf'; body: () => Body; contentType?: string; servesRole?: boolean };

function leaf(body: Body | (() => Body), extra: Partial<{ contentType: string; servesRole: boolean }> = {}): Node {
  return { kind: 'leaf', body: typeof body === 'function' ? body : () => body, ...extra };
}

/** A directory from entries; undefined entries are left out, so optional categories read naturally. */
function dir(entries: Record<string, Node | undefined>, listAs?: Map<string, string>, bare = false): Node {
  const children = new Map<string, Node>();
  for (const [name, node] of Object.entries(entries)) if (node !== undefined) children.set(name, node);
  return { kind: 'dir', children, listAs, bare };
}

function lines(values: readonly string[]): string {
  return values.join('\n');
}

function header(request: ImdsRequest, name: string): string | undefined {
  return request.headers.find(([key]) => key === name)?.[1];
}

function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** EC2's error page: a small XHTML document naming the status, sent as text/html. */
export function errorPage(status: number): string {
  const title = `${status} - ${REASONS[status] ?? 'Error'}`;
  return (
    '<?xml version="1.0" encoding="iso-8859-1"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n' +
    '\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n' +
    ` <head>\n  <title>${title}</title>\n </head>\n <body>\n  <h1>${title}</h1>\n </body>\n</html>\n`
  );
}

/** A status with EC2's error page: every refusal the engine makes, and every status a fault rule injects. */
export function errorResponse(status: number, extra: ReadonlyArray<readonly [string, string]> = []): ImdsResponse {
  return { status, headers: [['Content-Type', 'text/html'], ...extra], body: errorPage(status) };
}

/** 401: GET gets the XHTML page (343 bytes, as captured); HEAD an empty text/plain answer, as HEAD captures show. */
function unauthorized(method: string): ImdsResponse {
  return method === 'HEAD' ? { status: 401, headers: [['Content-Type', 'text/plain']], body: '' } : errorResponse(401);
}

/** The path a target routes to: query and fragment cut, repeated slashes collapsed (@aws-sdk/ec2-metadata-service
 * asks for "//latest/..." and EC2 serves it). */
export function requestPath(target: string): string {
  return (target.split(/[?#]/, 1)[0] ?? '').replace(/\/{2,}/g, '/');
}

type PathClass = 'token' | 'meta-data' | 'user-data' | 'dynamic' | 'versions' | 'other';

function classify(path: string): PathClass {
  if (path === TOKEN_PATH) return 'token';
  const [version, category] = path.slice(1).split('/');
  if (path === '/' || (METADATA_VERSIONS.includes(version) && (category === undefined || category === ''))) return 'versions';
  if (!METADATA_VERSIONS.includes(version)) return 'other';
  if (category === 'meta-data' || category === 'user-data' || category === 'dynamic') return category;
  return 'other';
}

export function validateOptions(current: MetadataOptions, patch: Partial<MetadataOptions>): MetadataOptions {
  if (patch === null || typeof patch !== 'object') throw new OptionsError('options', 'expected an object of option values');
  const next: MetadataOptions = { ...current };
  const toggle = (field: string, value: unknown): 'enabled' | 'disabled' => {
    if (value === 'enabled' || value === 'disabled') return value;
    throw new OptionsError(field, `must be "enabled" or "disabled", got ${JSON.stringify(value)}`);
  };
  for (const [field, value] of Object.entries(patch) as Array<[string, unknown]>) {
    if (value === undefined) continue;
    switch (field) {
      case 'httpTokens':
        if (value !== 'optional' && value !== 'required') {
          throw new OptionsError(field, `must be "optional" or "required", got ${JSON.stringify(value)}`);
        }
        next.httpTokens = value;
        break;
      case 'httpPutResponseHopLimit':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < HOP_LIMIT.min || value > HOP_LIMIT.max) {
          throw new OptionsError(field, `must be an integer from ${HOP_LIMIT.min} to ${HOP_LIMIT.max}, got ${JSON.stringify(value)}`);
        }
        next.httpPutResponseHopLimit = value;
        break;
      case 'httpEndpoint':
        next.httpEndpoint = toggle(field, value);
        break;
      case 'instanceMetadataTags':
        next.instanceMetadataTags = toggle(field, value);
        break;
      case 'httpProtocolIpv6':
        next.httpProtocolIpv6 = toggle(field, value);
        break;
      default:
        throw new OptionsError(
          field,
          'unknown option; expected httpTokens, httpEndpoint, httpPutResponseHopLimit, instanceMetadataTags or httpProtocolIpv6',
        );
    }
  }
  return next;
}

export class ImdsEngine {
  private readonly tokens: TokenAuthority;
  private currentOptions: MetadataOptions;
  private events: EventState;
  private signed: { document: string; signatures: IdentitySignatures } | undefined;
  /** Latest wall time the engine was given: the default clock for calls made without one (operator views). */
  private lastWallMs: number;
  private credentialRotation: { epoch: number; baseMs: number; schedule?: CredentialSchedule };
  private replacedRoleCredentials: IssuedCredentials | undefined;
  /** The metadata tree, built once and rebuilt only when options, events or credentials change. */
  private cachedTree: Node | undefined;
  /** The time of the request being answered: the tree's lazy leaves (credentials, events) read it. */
  private requestWallMs = 0;
  /** Last-Modified is the boot time: formatted once, not per response. */
  private lastModified: string | undefined;

  constructor(
    private readonly instance: InstanceModel,
    private readonly deps: EngineDependencies,
  ) {
    if (deps.credentialKey.length < 32) throw new Error('credential key must be at least 32 bytes');
    this.tokens = new TokenAuthority(deps.tokenKey, deps.randomBytes, instance.instanceId);
    this.currentOptions = validateOptions({ ...instance.options }, {});
    // Validate what the config gave, so a bad hop limit fails at startup rather than on the wire.
    this.currentOptions = validateOptions(this.currentOptions, instance.options);
    this.events = emptyEvents(instance.autoscalingTargetLifecycleState);
    this.lastWallMs = deps.bootWallMs;
    this.credentialRotation = { epoch: 0, baseMs: deps.bootWallMs };
  }

  /** PEM of the certificate that verifies one identity signature kind, or of the lab CA that issued them. */
  identityCertificate(kind: CertificateKind): string {
    return this.deps.identitySigner.certificates[kind];
  }

  private seen(wallMs: number): number {
    if (wallMs > this.lastWallMs) this.lastWallMs = wallMs;
    return wallMs;
  }

  get options(): MetadataOptions {
    return { ...this.currentOptions };
  }

  /** Like modify-instance-metadata-options: validates every field first, then applies all or nothing. */
  setOptions(patch: Partial<MetadataOptions>): MetadataOptions {
    this.currentOptions = validateOptions(this.currentOptions, patch);
    this.cachedTree = undefined;
    return this.options;
  }

  // ---- events ----

  scheduleSpotInterruption(action: SpotAction, wallMs: number, noticeSeconds = 120): void {
    this.events.spot = spotInterruption(action, this.seen(wallMs), noticeSeconds);
    this.cachedTree = undefined;
  }

  recommendRebalance(wallMs: number): void {
    this.events.rebalanceNoticeMs = this.seen(wallMs);
    this.cachedTree = undefined;
  }

  scheduleMaintenance(request: MaintenanceRequest, wallMs: number): string {
    const eventId = 'instance-event-' + Buffer.from(this.deps.randomBytes(9)).toString('hex').slice(0, 17);
    this.events.maintenance.push(maintenanceEvent(request, eventId, this.seen(wallMs)));
    this.cachedTree = undefined;
    return eventId;
  }

  /** Moves a scheduled event to history as canceled; false when no active event has that id. */
  cancelMaintenance(eventId: string, wallMs?: number): boolean {
    if (wallMs !== undefined) this.seen(wallMs);
    const event = this.events.maintenance.find((candidate) => candidate.eventId === eventId && candidate.state === 'active');
    if (event === undefined) return false;
    event.state = 'canceled';
    this.cachedTree = undefined;
    return true;
  }

  setAutoscalingTargetLifecycleState(state: string | undefined): void {
    if (state !== undefined && !/^[A-Za-z:]+$/.test(state)) throw new EventError(`invalid target lifecycle state "${state}"`);
    this.events.autoscalingTargetLifecycleState = state;
    this.cachedTree = undefined;
  }

  /**
   * Replaces the role credentials now, as EC2 does when it rotates them: a new set with LastUpdated = wallMs and
   * a full lifetime. Returns the new access key id, so an operator can see the change without the secret.
   */
  rotateCredentials(
    wallMs: number,
    scheduleOverride?: CredentialSchedule,
  ): { accessKeyId: string | undefined; expiration: string | undefined } {
    this.seen(wallMs);
    this.replacedRoleCredentials = this.recentRoleCredentials(wallMs)[0];
    // A schedule given here (lifetime, and the lead time as refresh) holds until the next rotation without one.
    this.credentialRotation = { epoch: this.credentialRotation.epoch + 1, baseMs: wallMs, schedule: scheduleOverride };
    this.cachedTree = undefined;
    const role = this.instance.iamRole;
    if (!role) return { accessKeyId: undefined, expiration: undefined };
    const issued = issueCredentials(
      this.deps.credentialKey,
      `role:${role.name}#${this.credentialRotation.epoch}`,
      this.credentialRotation.schedule ?? schedule(role),
      wallMs,
      wallMs,
    );
    return { accessKeyId: issued.accessKeyId, expiration: isoSeconds(issued.expirationMs) };
  }

  /**
   * The role credentials a client may hold at wallMs: the set served now and the one before it while it has not
   * expired (including the set a forced rotation replaced). The EC2 API uses them to recognise stolen keys.
   */
  recentRoleCredentials(wallMs: number): IssuedCredentials[] {
    const role = this.instance.iamRole;
    if (!role) return [];
    const { epoch, baseMs } = this.credentialRotation;
    const roleSchedule = this.credentialRotation.schedule ?? schedule(role);
    const current = issueCredentials(this.deps.credentialKey, `role:${role.name}#${epoch}`, roleSchedule, baseMs, wallMs);
    const previousAt = current.lastUpdatedMs - periodSeconds(roleSchedule) * 1000;
    const previous =
      previousAt >= baseMs
        ? issueCredentials(this.deps.credentialKey, `role:${role.name}#${epoch}`, roleSchedule, baseMs, previousAt)
        : this.replacedRoleCredentials;
    return previous !== undefined && previous.expirationMs > wallMs ? [current, previous] : [current];
  }

  clearEvents(): void {
    this.events = emptyEvents(undefined);
    this.cachedTree = undefined;
  }

  /** Events as a client would see them at wallMs (default: the latest time the engine was given). */
  eventsSnapshot(wallMs: number = this.lastWallMs): EventsSnapshot {
    return snapshotEvents(this.events, wallMs);
  }

  // ---- requests ----

  handle(request: ImdsRequest, wallMs: number): ImdsResponse {
    this.seen(wallMs);
    this.requestWallMs = wallMs;
    const path = requestPath(request.target);
    const response = this.route(request, path, wallMs);
    this.count('requests', { path_class: classify(path), status: String(response.status) });
    return response;
  }

  private count(name: Parameters<MetricsSink['increment']>[0], labels?: Record<string, string>): void {
    this.deps.metrics?.increment(name, labels);
  }

  private route(request: ImdsRequest, path: string, wallMs: number): ImdsResponse {
    const method = request.method; // RFC 9110 9.1: case-sensitive, so "put" is an unknown method, not PUT
    if (this.currentOptions.httpEndpoint === 'disabled') {
      if (path === TOKEN_PATH) this.count('token_requests_refused', { reason: 'endpoint-disabled' });
      return errorResponse(403);
    }
    if (path === TOKEN_PATH) return this.tokenRequest(request, method, wallMs);
    if (method === 'PUT' && isOtherTokenPath(path, METADATA_VERSIONS)) {
      this.count('token_requests_refused', { reason: 'path' });
      return tokenPathForbidden();
    }
    if (method !== 'GET' && method !== 'HEAD') return errorResponse(405, [['Allow', 'GET, HEAD']]);

    const token = header(request, TOKEN_HEADER);
    let ttlHeader: Array<readonly [string, string]> = [];
    if (token !== undefined) {
      const verdict = this.tokens.verify(token, wallMs);
      if (verdict !== 'valid') {
        this.count('tokens_rejected', { reason: verdict });
        return { ...unauthorized(method), tokenUse: 'token-rejected' };
      }
      const remaining = Math.max(1, Math.ceil((this.tokens.expiresAtMs(token) - wallMs) / 1000));
      ttlHeader = [[TTL_RESPONSE_HEADER, String(remaining)]];
    } else if (this.currentOptions.httpTokens === 'required') {
      this.count('metadata_no_token_rejected');
      return { ...unauthorized(method), tokenUse: 'v1-rejected' };
    } else {
      this.count('metadata_no_token');
    }

    const tokenUse = token !== undefined ? 'v2' : 'v1';
    const node = this.resolve(path);
    if (node === undefined) return { ...errorResponse(404), tokenUse };
    let body: Body;
    let credentialsDelivery: ImdsResponse['credentialsDelivery'];
    if (node.kind === 'dir') {
      body = lines(
        [...node.children].map(([name, child]) => {
          // Relabelled entries (public-keys' "0=name") are listed without the directory slash, as EC2 does.
          const label = node.listAs?.get(name);
          if (label !== undefined) return label;
          return child.kind === 'dir' && !node.bare ? `${name}/` : name;
        }),
      );
    } else {
      body = node.body();
      if (node.servesRole) {
        credentialsDelivery = token !== undefined ? '2.0' : '1.0';
        this.count('credentials_served', { role_delivery: credentialsDelivery });
      }
    }
    return {
      status: 200,
      headers: [
        ...ttlHeader,
        ['Content-Type', node.kind === 'leaf' && node.contentType ? node.contentType : 'text/plain'],
        ['Accept-Ranges', 'none'],
        ['Last-Modified', (this.lastModified ??= httpDate(this.deps.bootWallMs))],
      ],
      body,
      tokenUse,
      ...(credentialsDelivery ? { credentialsDelivery } : {}),
    };
  }

  private tokenRequest(request: ImdsRequest, method: string, wallMs: number): ImdsResponse {
    // EC2 answers OPTIONS on the token path with the methods it allows (seen from a real instance in
    // kubernetes-sigs/cluster-api-provider-aws#1609): 200, Allow: OPTIONS, PUT, empty text body.
    if (method === 'OPTIONS') {
      return { status: 200, headers: [['Allow', 'OPTIONS, PUT'], ['Content-Type', 'text/plain']], body: '' };
    }
    if (method !== 'PUT') {
      this.count('token_requests_refused', { reason: 'method' });
      return { ...tokenMethodNotAllowed(), tokenUse: 'token-refused' };
    }
    // A proxied request (X-Forwarded-For) gets no token: IMDSv2's defence against open reverse proxies.
    if (header(request, 'x-forwarded-for') !== undefined) {
      this.count('token_requests_refused', { reason: 'x-forwarded-for' });
      return { ...forwardedTokenRefusal(), tokenUse: 'token-refused' };
    }
    const ttlText = header(request, TTL_HEADER);
    const ttlSeconds = ttlText !== undefined && /^[0-9]{1,6}$/.test(ttlText) ? Number(ttlText) : NaN;
    if (!(ttlSeconds >= 1 && ttlSeconds <= MAX_TOKEN_TTL_SECONDS)) {
      this.count('token_requests_refused', { reason: 'bad-ttl' });
      return { ...errorResponse(400), tokenUse: 'token-refused' };
    }
    this.count('tokens_issued');
    return {
      status: 200,
      headers: [
        [TTL_RESPONSE_HEADER, String(ttlSeconds)],
        ['Content-Type', 'text/plain'],
      ],
      body: this.tokens.issue(ttlSeconds, wallMs),
      hopLimit: this.currentOptions.httpPutResponseHopLimit,
      tokenUse: 'token-issued',
    };
  }

  /** Walks the tree; a directory answers with or without its trailing slash, a leaf with or without one too. */
  private resolve(path: string): Node | undefined {
    if (!path.startsWith('/')) return undefined;
    let rest = path.slice(1);
    if (rest.endsWith('/')) rest = rest.slice(0, -1);
    let node: Node = (this.cachedTree ??= this.tree());
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

  private tree(): Node {
    const version = this.versionTree();
    const versions: Record<string, Node> = {};
    for (const name of METADATA_VERSIONS) versions[name] = version;
    // GET / and GET /latest/ list their entries bare, without the trailing slash of deeper directories.
    return dir(versions, undefined, true);
  }

  private versionTree(): Node {
    const { userData } = this.instance;
    return dir({
      dynamic: this.dynamicTree(),
      'meta-data': this.metaDataTree(),
      'user-data': userData === undefined ? undefined : leaf(userData, { contentType: 'application/octet-stream' }),
    }, undefined, true);
  }

  private identityDocument(): string {
    const i = this.instance;
    // Same keys, order and layout as EC2's document (EC2 User Guide, "Instance identity documents").
    const fields: Array<readonly [string, Ec2JsonValue]> = [
      ['accountId', i.accountId],
      ['architecture', i.architecture],
      ['availabilityZone', i.availabilityZone],
      ['billingProducts', null],
      ['devpayProductCodes', null],
      ['marketplaceProductCodes', i.productCodes.length > 0 ? i.productCodes : null],
      ['imageId', i.amiId],
      ['instanceId', i.instanceId],
      ['instanceType', i.instanceType],
      ['kernelId', i.kernelId ?? null],
      ['pendingTime', i.pendingTime],
      ['privateIp', i.interfaces[0]?.localIpv4s[0] ?? null],
      ['ramdiskId', i.ramdiskId ?? null],
      ['region', i.region],
      ['version', IDENTITY_DOCUMENT_VERSION],
    ];
    return ec2Json(fields);
  }

  private signatures(): { document: string; signatures: IdentitySignatures } {
    const document = this.identityDocument();
    if (this.signed?.document !== document) this.signed = { document, signatures: this.deps.identitySigner.sign(document) };
    return this.signed;
  }

  private dynamicTree(): Node {
    return dir({
      fws: dir({ 'instance-monitoring': leaf('disabled') }),
      'instance-identity': dir({
        document: leaf(() => this.signatures().document),
        pkcs7: leaf(() => this.signatures().signatures.pkcs7),
        rsa2048: leaf(() => this.signatures().signatures.rsa2048),
        signature: leaf(() => this.signatures().signatures.signature),
      }),
    });
  }

  private metaDataTree(): Node {
    const i = this.instance;
    const primary: NetworkInterface | undefined = i.interfaces[0];
    const role = i.iamRole;
    const events = this.events;
    const bootWallMs = this.deps.bootWallMs;
    const credentialKey = this.deps.credentialKey;
    // Role credentials count their periods from the last forced rotation (boot until then).
    const rotation = this.credentialRotation;
    const roleSubject = role ? `role:${role.name}#${rotation.epoch}` : '';
    const roleSchedule = role ? (rotation.schedule ?? schedule(role)) : undefined;
    const publicKeys = i.publicKeys ?? [];
    const tagKeys = Object.keys(i.tags).filter((key) => METADATA_TAG_KEY.test(key) && key !== '.' && key !== '..').sort();

    const macs: Record<string, Node> = {};
    for (const nic of i.interfaces) macs[nic.mac] = this.interfaceTree(nic);

    const identityCredentials = () =>
      credentialsJson(
        issueCredentials(credentialKey, `identity:${i.instanceId}`, { lifetimeSeconds: 6 * 3600, refreshSeconds: 15 * 60 }, bootWallMs, this.requestWallMs),
      );

    const categories: Record<string, Node | undefined> = {
      'ami-id': leaf(i.amiId),
      'ami-launch-index': leaf(String(i.amiLaunchIndex)),
      'ami-manifest-path': leaf(i.amiManifestPath),
      autoscaling:
        events.autoscalingTargetLifecycleState === undefined
          ? undefined
          : dir({ 'target-lifecycle-state': leaf(events.autoscalingTargetLifecycleState) }),
      'block-device-mapping': Object.keys(i.blockDevices).length === 0 ? undefined : dir(Object.fromEntries(
        Object.keys(i.blockDevices).sort().map((name) => [name, leaf(i.blockDevices[name])]),
      )),
      events: dir({
        maintenance: dir({
          history: leaf(() => maintenanceJson(historyEvents(events, this.requestWallMs))),
          scheduled: leaf(() => maintenanceJson(scheduledEvents(events, this.requestWallMs))),
        }),
        recommendations:
          events.rebalanceNoticeMs === undefined ? undefined : dir({ rebalance: leaf(rebalanceJson(events.rebalanceNoticeMs)) }),
      }),
      hostname: leaf(i.hostname),
      iam:
        role === undefined
          ? undefined
          : dir({
              info: leaf(() =>
                ec2Json([
                  ['Code', 'Success'],
                  ['LastUpdated', isoSeconds(issueCredentials(credentialKey, roleSubject, roleSchedule as CredentialSchedule, rotation.baseMs, this.requestWallMs).lastUpdatedMs)],
                  ['InstanceProfileArn', role.instanceProfileArn],
                  ['InstanceProfileId', role.instanceProfileId],
                ]),
              ),
              'security-credentials': dir({
                [role.name]: leaf(
                  () => credentialsJson(issueCredentials(credentialKey, roleSubject, roleSchedule as CredentialSchedule, rotation.baseMs, this.requestWallMs)),
                  { servesRole: true },
                ),
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
              Object.fromEntries(publicKeys.map((key, index) => [String(index), dir({ 'openssh-key': leaf(key.openSshKey) })])),
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
      tags:
        this.currentOptions.instanceMetadataTags === 'enabled'
          ? dir({ instance: dir(Object.fromEntries(tagKeys.map((key) => [key, leaf(i.tags[key])]))) })
          : undefined,
    };
    return dir(categories);
  }

  private interfaceTree(nic: NetworkInterface): Node {
    return dir({
      'device-number': leaf(String(nic.deviceNumber)),
      'interface-id': leaf(nic.interfaceId),
      'ipv4-associations':
        nic.publicIpv4s.length === 0
          ? undefined
          : dir(Object.fromEntries(nic.publicIpv4s.map((ip, index) => [ip, leaf(nic.localIpv4s[index] ?? nic.localIpv4s[0] ?? '')]))),
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
}

function schedule(role: NonNullable<InstanceModel['iamRole']>): { lifetimeSeconds: number; refreshSeconds: number } {
  return { lifetimeSeconds: role.credentialLifetimeSeconds, refreshSeconds: role.credentialRefreshSeconds };
}

// The metadata service as a pure function of (request, instance, options, events, clock): routing, the token
// endpoint and checks, and the operator's changes (options, events, credential rotation). The metadata tree is
// built in metadata-tree.ts, the options' rules live in metadata-options.ts. No I/O; the caller passes the wall
// clock. Behaviours and their sources are pinned line by line in test/imds/ec2-behaviour-checklist.txt.
import { RoleCredentialIssuer, type CredentialSchedule, type IssuedCredentials } from './credentials.ts';
import {
  emptyEvents,
  maintenanceEvent,
  snapshotEvents,
  spotInterruption,
  targetLifecycleState,
  EventError,
  type EventState,
  type EventsSnapshot,
  type MaintenanceRequest,
} from './events.ts';
import {
  errorResponse,
  forwardedTokenRefusal,
  isOtherTokenPath,
  tokenMethodNotAllowed,
  tokenPathForbidden,
  unauthorized,
} from './ec2-responses.ts';
import { isoSeconds } from './format.ts';
import type { CertificateKind, IdentitySigner } from './identity.ts';
import type { InstanceModel, MetadataOptions } from './instance.ts';
import { validateOptions } from './metadata-options.ts';
import {
  buildMetadataTree,
  classifyPath,
  nodeContent,
  resolveNode,
  METADATA_VERSIONS,
  type Node,
} from './metadata-tree.ts';
import { signedIdentityOf, type SignedIdentity } from './identity-document.ts';
import { requestPath } from './request-path.ts';
import type { MetricsSink } from './metrics.ts';
import { TokenAuthority } from './token.ts';
import type { ImdsRequest, ImdsResponse } from './types.ts';
import { TAG_KEY, type SpotAction } from './value-rules.ts';

interface EngineDependencies {
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

export { EventError };

const TOKEN_PATH = '/latest/api/token';
const TTL_HEADER = 'x-aws-ec2-metadata-token-ttl-seconds';
const TTL_RESPONSE_HEADER = 'X-Aws-Ec2-Metadata-Token-Ttl-Seconds';
const TOKEN_HEADER = 'x-aws-ec2-metadata-token';
/** IMDSv2: a session lasts at most six hours (EC2 User Guide, "How IMDSv2 works"). */
const MAX_TOKEN_TTL_SECONDS = 21600;

function header(request: ImdsRequest, name: string): string | undefined {
  return request.headers.find(([key]) => key === name)?.[1];
}

function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

export class ImdsEngine {
  private readonly tokens: TokenAuthority;
  private currentOptions: MetadataOptions;
  private events: EventState;
  /** The identity document and its signatures, signed again only when the document changes. */
  private readonly signedIdentity: () => SignedIdentity;
  /** Latest wall time the engine was given: the default clock for calls made without one (operator views). */
  private lastWallMs: number;
  private readonly roleCredentials: RoleCredentialIssuer;
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
    // The config refuses such keys; an instance built another way must not list a tag no path can reach.
    for (const key of Object.keys(instance.tags)) TAG_KEY.check(key);
    this.events = emptyEvents(instance.autoscalingTargetLifecycleState);
    this.lastWallMs = deps.bootWallMs;
    this.roleCredentials = new RoleCredentialIssuer(deps.credentialKey, instance.iamRole, deps.bootWallMs);
    this.signedIdentity = signedIdentityOf(instance, deps.identitySigner);
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
    const event = this.events.maintenance.find(
      (candidate) => candidate.eventId === eventId && candidate.state === 'active',
    );
    if (event === undefined) return false;
    event.state = 'canceled';
    this.cachedTree = undefined;
    return true;
  }

  setAutoscalingTargetLifecycleState(state: string | undefined): void {
    this.events.autoscalingTargetLifecycleState = targetLifecycleState(state);
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
    const issued = this.roleCredentials.rotate(this.seen(wallMs), scheduleOverride);
    this.cachedTree = undefined;
    return {
      accessKeyId: issued?.accessKeyId,
      expiration: issued === undefined ? undefined : isoSeconds(issued.expirationMs),
    };
  }

  /**
   * The role credentials a client may hold at wallMs: the set served now and the one before it while it has not
   * expired (including the set a forced rotation replaced). The EC2 API uses them to recognise stolen keys.
   */
  recentRoleCredentials(wallMs: number): IssuedCredentials[] {
    return this.roleCredentials.recent(wallMs);
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
    this.count('requests', { path_class: classifyPath(path, TOKEN_PATH), status: String(response.status) });
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
    const node = resolveNode(this.tree(), path);
    if (node === undefined) return { ...errorResponse(404), tokenUse };
    const { body, contentType, servesRole } = nodeContent(node);
    const credentialsDelivery = servesRole ? (token !== undefined ? '2.0' : '1.0') : undefined;
    if (credentialsDelivery !== undefined) this.count('credentials_served', { role_delivery: credentialsDelivery });
    return {
      status: 200,
      headers: [
        ...ttlHeader,
        ['Content-Type', contentType],
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
      return {
        status: 200,
        headers: [
          ['Allow', 'OPTIONS, PUT'],
          ['Content-Type', 'text/plain'],
        ],
        body: '',
      };
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

  /** The tree, built on first use after a change of options, events or credentials. */
  private tree(): Node {
    return (this.cachedTree ??= buildMetadataTree({
      instance: this.instance,
      options: this.currentOptions,
      events: this.events,
      bootWallMs: this.deps.bootWallMs,
      credentialKey: this.deps.credentialKey,
      roleCredentials: this.roleCredentials,
      requestWallMs: () => this.requestWallMs,
      signedIdentity: this.signedIdentity,
    }));
  }
}

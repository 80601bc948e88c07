export type { ImdsRequest, ImdsResponse, TokenUse } from './types.ts';
export { TokenAuthority, type TokenVerdict } from './token.ts';
export { ImdsEngine, EventError, MAX_TOKEN_TTL_SECONDS, TOKEN_PATH, type EngineDependencies } from './engine.ts';
export { METADATA_VERSIONS, requestPath } from './metadata-tree.ts';
export { errorPage, errorResponse } from './ec2-responses.ts';
export {
  HOP_LIMIT,
  HTTP_ENDPOINT,
  HTTP_PROTOCOL_IPV6,
  HTTP_TOKENS,
  INSTANCE_METADATA_TAGS,
  METADATA_OPTION_KEYS,
  METADATA_OPTION_RULES,
  OptionsError,
  TOGGLES,
  checkOption,
  validateOptions,
} from './metadata-options.ts';
export {
  CERTIFICATE_KINDS,
  IDENTITY_KEY_SPECS,
  SIGNATURE_KINDS,
  createIdentitySigner,
  type CertificateKind,
  type IdentityKeys,
  type IdentitySigner,
  type IdentitySignerOptions,
  type IdentitySignatures,
  type SignatureKind,
} from './identity.ts';
export { ec2Json, isoSeconds, type Ec2JsonValue } from './format.ts';
export { IMDS_METRIC_NAMES, RecordingMetrics, seriesKey, type ImdsMetricName, type MetricsSink } from './metrics.ts';
export { issueCredentials, credentialsJson, periodSeconds, type IssuedCredentials, type CredentialSchedule } from './credentials.ts';
export { type EventsSnapshot, type MaintenanceEvent, type MaintenanceRequest } from './events.ts';
export {
  defaultInstance,
  DEFAULT_METADATA_OPTIONS,
  type InstanceModel,
  type MetadataOptions,
  type NetworkInterface,
  type IamRole,
  type Toggle,
} from './instance.ts';
// Kept until the daemon switches to ImdsEngine.
export {
  resolveLaunchOptions,
  IMDS_SUPPORT,
  IMDS_SUPPORT_V2_OPTIONS,
  type AccountMetadataDefaults,
  type ImdsSupport,
  type LaunchInputs,
  type OptionSource,
  type ResolvedLaunchOptions,
} from './launch-options.ts';
export {
  DEFAULT_TTL,
  EVENT_DESCRIPTION,
  EVENT_ID,
  EVENT_TIME_MS,
  FAULT_SEED,
  LIFECYCLE_STATE,
  LISTEN_ADDRESS,
  MAINTENANCE_CODE,
  MAINTENANCE_CODES,
  NOTICE_SECONDS,
  RuleViolation,
  SPOT_ACTION,
  TAG_KEY,
  UNICAST_MAC,
  oneOfRule,
  type ListenAddress,
  type MaintenanceCode,
  type Rule,
  type SpotAction,
} from './value-rules.ts';

export type { ImdsRequest, ImdsResponse, TokenUse } from './types.ts';
export { TokenAuthority, type TokenVerdict } from './token.ts';
export {
  ImdsEngine,
  OptionsError,
  EventError,
  validateOptions,
  errorPage,
  errorResponse,
  requestPath,
  METADATA_VERSIONS,
  MAX_TOKEN_TTL_SECONDS,
  TOKEN_PATH,
  type EngineDependencies,
} from './engine.ts';
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
export {
  MAINTENANCE_CODES,
  type EventsSnapshot,
  type MaintenanceCode,
  type MaintenanceEvent,
  type MaintenanceRequest,
  type SpotAction,
} from './events.ts';
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
  IMDS_SUPPORT_V2_OPTIONS,
  type AccountMetadataDefaults,
  type ImdsSupport,
  type LaunchInputs,
  type OptionSource,
  type ResolvedLaunchOptions,
} from './launch-options.ts';
export { EVENT_DESCRIPTION, EVENT_ID, EVENT_TIME_MS, HOP_LIMIT, LIFECYCLE_STATE, NOTICE_SECONDS, RuleViolation, oneOfRule } from './value-rules.ts';

export type { ImdsRequest, ImdsResponse, TokenUse } from './types.ts';
export { TokenAuthority } from './token.ts';
export { ImdsEngine, EventError } from './engine.ts';
export { requestPath, targetPath } from './request-path.ts';
export { errorPage, errorResponse } from './ec2-responses.ts';
export {
  HOP_LIMIT,
  HTTP_TOKENS,
  METADATA_OPTION_RULES,
  OptionsError,
  TOGGLES,
  validateOptions,
} from './metadata-options.ts';
export {
  CERTIFICATE_KINDS,
  IDENTITY_KEY_SPECS,
  createIdentitySigner,
  type IdentityKeys,
  type IdentitySigner,
} from './identity.ts';
export { ec2Json, isoSeconds } from './format.ts';
export { RecordingMetrics, type MetricsSink } from './metrics.ts';
export { type EventsSnapshot } from './events.ts';
export { defaultInstance, DEFAULT_METADATA_OPTIONS, type InstanceModel, type MetadataOptions } from './instance.ts';
// Kept until the daemon switches to ImdsEngine.
export { resolveLaunchOptions, type AccountMetadataDefaults, type ResolvedLaunchOptions } from './launch-options.ts';
export {
  LISTEN_ADDRESS,
  RuleViolation,
  TAG_KEY,
  UNICAST_MAC,
  type ListenAddress,
  type MaintenanceCode,
  type SpotAction,
} from './value-rules.ts';

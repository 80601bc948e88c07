// Public surface of the config loader: ini file → InstanceModel + appliance settings, or a ConfigError.
export { loadConfig, parseConfig } from './load-config.ts';
export type { FaultSettings, Ec2ApiSettings } from './load-config.ts';
export { ConfigError } from './config-error.ts';
export type { ConfigErrorKind } from './config-error.ts';
export { connectionPolicy, type ConnectionPolicy } from './values.ts';

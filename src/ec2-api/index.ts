export type { Ec2ApiState } from './actions.ts';
export { DEFAULT_ACCOUNT_DEFAULTS_FILE, loadAccountDefaults, saveAccountDefaults } from './account-defaults.ts';
export { MetadataOptionsChanger } from './options-changer.ts';
export {
  formatCredentials,
  generateOperatorKey,
  type CredentialsFormat,
  type CredentialsInfo,
} from './operator-credentials.ts';
export type { OptionsView } from './responses.ts';
export { parseEc2ApiListen, startEc2ApiServer } from './server.ts';

export { handleAction, ACTIONS, type Ec2ApiState, type Ec2Action } from './actions.ts';
export { authenticate, type AccessKey, type CallerKeys, type Principal, type RoleKey } from './authenticate.ts';
export {
  AccountDefaultsError,
  DEFAULT_ACCOUNT_DEFAULTS_FILE,
  loadAccountDefaults,
  saveAccountDefaults,
  validateAccountDefaults,
} from './account-defaults.ts';
export { Ec2ApiError, EC2_ERRORS, errorXml, type Ec2ErrorCode } from './errors.ts';
export { MetadataOptionsChanger, type OptionsPort } from './options-changer.ts';
export { formatCredentials, generateOperatorKey, type CredentialsFormat, type CredentialsInfo } from './operator-credentials.ts';
export { EC2_NAMESPACE, type OptionsView, type OptionsState } from './responses.ts';
export { Ec2ApiListenError, parseEc2ApiListen, startEc2ApiServer, type Ec2ApiServer, type ListenAddress } from './server.ts';

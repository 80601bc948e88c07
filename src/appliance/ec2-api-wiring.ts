// Wires the EC2 Query API into a running appliance: the launch options (EC2's order of precedence over the
// config, the flags, the account defaults file and the AMI's ImdsSupport), the one path through which options
// change (pending, then applied), the operator's keys and the loopback listener.
import type { Logger } from 'pino';
import {
  DEFAULT_ACCOUNT_DEFAULTS_FILE,
  MetadataOptionsChanger,
  generateOperatorKey,
  loadAccountDefaults,
  parseEc2ApiListen,
  saveAccountDefaults,
  startEc2ApiServer,
  type CredentialsInfo,
  type Ec2ApiState,
  type OptionsView,
} from '../ec2-api/index.ts';
import { ControlRequestError } from './control-server.ts';
import {
  OptionsError,
  resolveLaunchOptions,
  validateOptions,
  type ImdsEngine,
  type InstanceModel,
  type MetadataOptions,
  type ResolvedLaunchOptions,
} from '../imds/index.ts';
import type { Ec2ApiSettings } from '../config/index.ts';

export const DEFAULT_EC2_API_LISTEN = '127.0.0.1:9470';

export interface Ec2ApiRequest {
  /** HOST:PORT or "off"; default 127.0.0.1:9470. */
  listen: string;
  allowNonLoopback: boolean;
  settings: Ec2ApiSettings;
}

/** The options the instance launches with; a broken account defaults file stops the launch with its reason. */
export function launchOptions(
  instance: InstanceModel,
  launch: Partial<MetadataOptions>,
  settings: Ec2ApiSettings,
): ResolvedLaunchOptions & { accountDefaultsFile: string } {
  const accountDefaultsFile = settings.accountDefaultsFile ?? DEFAULT_ACCOUNT_DEFAULTS_FILE;
  const account = loadAccountDefaults(accountDefaultsFile);
  return { ...resolveLaunchOptions({ launch, account, imdsSupport: instance.imdsSupport }), accountDefaultsFile };
}

/** Option changes from the control socket and the EC2 API alike: validated, pending, then applied and logged. */
export function optionsChanger(engine: ImdsEngine, applyDelayMs: number, log: Logger): MetadataOptionsChanger {
  return new MetadataOptionsChanger(
    {
      current: () => engine.options,
      validate: (base, patch) => validateOptions(base, patch),
      apply: (next) => {
        const before = engine.options;
        const after = engine.setOptions(next);
        log.info({ before, after }, 'metadata options changed');
      },
    },
    applyDelayMs,
  );
}

/** The options as the EC2 API names them (ModifyInstanceMetadataOptions' result), for `imds-hop options`. */
function apiShape(instanceId: string, view: OptionsView): unknown {
  const o = view.options;
  return {
    InstanceId: instanceId,
    InstanceMetadataOptions: {
      State: view.state,
      HttpTokens: o.httpTokens,
      HttpPutResponseHopLimit: o.httpPutResponseHopLimit,
      HttpEndpoint: o.httpEndpoint,
      HttpProtocolIpv6: o.httpProtocolIpv6,
      InstanceMetadataTags: o.instanceMetadataTags,
    },
  };
}

/**
 * `imds-hop options`: without a change, the options in the API's names; with one, as ModifyInstanceMetadataOptions
 * (answered "pending"), the reply leaving once the change is in force.
 */
export async function changeOptions(
  changer: MetadataOptionsChanger,
  instanceId: string,
  set?: Partial<MetadataOptions>,
): Promise<unknown> {
  if (!set) return apiShape(instanceId, changer.view());
  try {
    const pending = changer.modify(set);
    await changer.whenApplied();
    return apiShape(instanceId, pending);
  } catch (error) {
    if (error instanceof OptionsError) throw new ControlRequestError('BAD_OPTION', error.message);
    throw error;
  }
}

export interface RunningEc2Api {
  credentials: CredentialsInfo;
  close(): Promise<void>;
}

export async function startEc2Api(
  request: Ec2ApiRequest,
  engine: ImdsEngine,
  instance: InstanceModel,
  changer: MetadataOptionsChanger,
  accountDefaultsFile: string,
  log: Logger,
): Promise<RunningEc2Api | undefined> {
  if (request.listen === 'off') return undefined;
  const { settings } = request;
  const listen = parseEc2ApiListen(request.listen, request.allowNonLoopback || settings.allowNonLoopback === true);
  const configured = settings.accessKeyId !== undefined && settings.secretAccessKey !== undefined;
  const operator = configured
    ? { accessKeyId: settings.accessKeyId as string, secretAccessKey: settings.secretAccessKey as string }
    : generateOperatorKey();
  const state: Ec2ApiState = {
    instance,
    metadataOptions: () => changer.view(),
    modifyMetadataOptions: (patch) => changer.modify(patch),
    // Read at each call, so an operator's edit of the file shows; a broken file is an internal error here.
    accountDefaults: () => loadAccountDefaults(accountDefaultsFile),
    setAccountDefaults: (next) => {
      saveAccountDefaults(accountDefaultsFile, next);
      log.info(
        { accountDefaults: next, file: accountDefaultsFile },
        'account metadata defaults changed; they apply at the next launch',
      );
    },
  };
  const server = await startEc2ApiServer(listen, {
    state,
    keys: {
      operator,
      roleCredentials: (nowMs) => engine.recentRoleCredentials(nowMs),
      allowRoleCredentials: settings.allowRoleCredentials === true,
    },
    region: instance.region,
    log: log.child({ layer: 'ec2-api' }),
  });
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  const credentials: CredentialsInfo = {
    ...operator,
    region: instance.region,
    endpoint: `http://${host}:${server.address.port}`,
    generated: !configured,
  };
  log.info(
    {
      endpoint: credentials.endpoint,
      accessKeyId: operator.accessKeyId,
      keys: configured ? 'config' : 'generated (imds-hop ec2-api credentials)',
    },
    'EC2 API listening',
  );
  return { credentials, close: () => server.close() };
}

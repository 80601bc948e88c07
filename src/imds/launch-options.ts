// The metadata options an instance launches with, per EC2's documented order of precedence
// ("Order of precedence for instance metadata options", EC2 User Guide): for each option, a value given at launch
// wins; else the account-level default for the Region (ModifyInstanceMetadataDefaults); else the AMI's
// (ImdsSupport = v2.0 → tokens required, hop limit 2); else EC2's launch default (tokens optional, hop limit 1).
import { DEFAULT_METADATA_OPTIONS, type MetadataOptions, type Toggle } from './instance.ts';
import { oneOfRule } from './value-rules.ts';

/** The AMI attribute ImdsSupport (RegisterImage): v2.0 is its one value; an AMI without it has none. */
export const IMDS_SUPPORT = oneOfRule('imds support', ['v2.0'] as const);
/** An AMI registered with ImdsSupport = v2.0 (AL2023 and most current AMIs), or one without it. */
type ImdsSupport = (typeof IMDS_SUPPORT.choices)[number] | undefined;

/** Account-level defaults (GetInstanceMetadataDefaults' AccountLevel); an absent field is "no-preference". */
export interface AccountMetadataDefaults {
  httpTokens?: MetadataOptions['httpTokens'];
  httpPutResponseHopLimit?: number;
  httpEndpoint?: Toggle;
  instanceMetadataTags?: Toggle;
}

interface LaunchInputs {
  /** Options given explicitly at launch: the config's [metadata-options] keys and `serve` flags. */
  launch: Partial<MetadataOptions>;
  account: AccountMetadataDefaults;
  imdsSupport: ImdsSupport;
}

/** What an AMI with ImdsSupport = v2.0 sets (EC2 User Guide, "Configure the AMI"). */
const IMDS_SUPPORT_V2_OPTIONS: Readonly<Partial<MetadataOptions>> = {
  httpTokens: 'required',
  httpPutResponseHopLimit: 2,
};

export type OptionSource = 'launch' | 'account' | 'ami' | 'ec2-default';

export interface ResolvedLaunchOptions {
  options: MetadataOptions;
  /** Where each option came from, for the serve log line. */
  sources: Record<keyof MetadataOptions, OptionSource>;
}

export function resolveLaunchOptions(inputs: LaunchInputs): ResolvedLaunchOptions {
  const ami = inputs.imdsSupport === 'v2.0' ? IMDS_SUPPORT_V2_OPTIONS : {};
  const account: Partial<MetadataOptions> = inputs.account;
  const options = { ...DEFAULT_METADATA_OPTIONS } as Record<keyof MetadataOptions, unknown>;
  const sources = {} as Record<keyof MetadataOptions, OptionSource>;
  for (const key of Object.keys(DEFAULT_METADATA_OPTIONS) as Array<keyof MetadataOptions>) {
    const layers: Array<[OptionSource, Partial<MetadataOptions>]> = [
      ['launch', inputs.launch],
      ['account', account],
      ['ami', ami],
    ];
    const found = layers.find(([, layer]) => layer[key] !== undefined);
    options[key] = found ? found[1][key] : DEFAULT_METADATA_OPTIONS[key];
    sources[key] = found ? found[0] : 'ec2-default';
  }
  return { options: options as unknown as MetadataOptions, sources };
}

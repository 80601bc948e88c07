// The instance metadata options (EC2 API InstanceMetadataOptionsRequest) and their rules, defined once: the serve
// and options flags, the config's [metadata-options], the control socket, the EC2 API, the account defaults file
// and the engine all check a value with the rule here, so none can accept what another refuses.
import type { MetadataOptions } from './instance.ts';
import { integerRule, oneOfRule, RuleViolation, type Rule } from './value-rules.ts';

/** http-put-response-hop-limit: the IP TTL of token responses (EC2 API: 1..64). */
export const HOP_LIMIT = integerRule('hop limit', 1, 64);
/** http-tokens: optional lets IMDSv1 through, required answers only requests with a session token. */
export const HTTP_TOKENS = oneOfRule('http-tokens', ['optional', 'required'] as const);
export const TOGGLES = ['enabled', 'disabled'] as const;
/** http-endpoint: whether the service answers at all. */
export const HTTP_ENDPOINT = oneOfRule('http-endpoint', TOGGLES);
/** instance-metadata-tags: whether tags/instance is served. */
export const INSTANCE_METADATA_TAGS = oneOfRule('instance-metadata-tags', TOGGLES);
/** http-protocol-ipv6: whether the IPv6 endpoint answers. */
export const HTTP_PROTOCOL_IPV6 = oneOfRule('http-protocol-ipv6', TOGGLES);

/** Each option's rule. The type binds the rules' values to MetadataOptions: a choice added to one fails to compile. */
export const METADATA_OPTION_RULES: { readonly [K in keyof MetadataOptions]: Rule<MetadataOptions[K]> } = {
  httpTokens: HTTP_TOKENS,
  httpEndpoint: HTTP_ENDPOINT,
  httpPutResponseHopLimit: HOP_LIMIT,
  instanceMetadataTags: INSTANCE_METADATA_TAGS,
  httpProtocolIpv6: HTTP_PROTOCOL_IPV6,
};

/** Each option's name as a config key and a flag (the EC2 CLI's spelling of the API parameter). */
export const METADATA_OPTION_KEYS: { readonly [K in keyof MetadataOptions]: string } = {
  httpTokens: 'http-tokens',
  httpEndpoint: 'http-endpoint',
  httpPutResponseHopLimit: 'http-put-response-hop-limit',
  instanceMetadataTags: 'instance-metadata-tags',
  httpProtocolIpv6: 'http-protocol-ipv6',
};

export class OptionsError extends Error {
  readonly code = 'IMDS_OPTIONS_INVALID';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'OptionsError';
  }
}

/** One option's value checked by its rule; OptionsError naming the field otherwise. */
function checkOption<K extends keyof MetadataOptions>(field: K, value: unknown): MetadataOptions[K] {
  try {
    return METADATA_OPTION_RULES[field].check(value);
  } catch (error) {
    if (error instanceof RuleViolation) throw new OptionsError(field, error.restated(field));
    throw error;
  }
}

function isOptionField(field: string): field is keyof MetadataOptions {
  return Object.hasOwn(METADATA_OPTION_RULES, field);
}

/** Like modify-instance-metadata-options: every field of the patch is checked, then all apply, or none. */
export function validateOptions(current: MetadataOptions, patch: Partial<MetadataOptions>): MetadataOptions {
  if (patch === null || typeof patch !== 'object')
    throw new OptionsError('options', 'options: expected an object of option values');
  const next: Record<string, unknown> = { ...current };
  for (const [field, value] of Object.entries(patch) as Array<[string, unknown]>) {
    if (value === undefined) continue;
    if (!isOptionField(field)) {
      throw new OptionsError(
        field,
        `${field}: unknown option; expected ${Object.keys(METADATA_OPTION_RULES).join(', ')}`,
      );
    }
    next[field] = checkOption(field, value);
  }
  return next as unknown as MetadataOptions;
}

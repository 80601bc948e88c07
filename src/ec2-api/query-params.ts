// The EC2 Query protocol's parameters: a form-encoded POST body (what the SDKs and the CLI send) and/or the URL's
// query string, flattened lists as Name.1, Name.2 and structures as Filter.1.Name, Filter.1.Value.1.
import { Ec2ApiError } from './errors.ts';

const MAX_PARAMETERS = 1000;

export type QueryParams = ReadonlyMap<string, string>;

export function parseQueryParams(urlQuery: string, formBody: string | undefined): QueryParams {
  const params = new Map<string, string>();
  for (const source of [urlQuery, formBody ?? '']) {
    for (const [key, value] of new URLSearchParams(source)) {
      if (params.size >= MAX_PARAMETERS)
        throw new Ec2ApiError('InvalidParameterValue', `more than ${MAX_PARAMETERS} parameters`);
      params.set(key, value);
    }
  }
  return params;
}

/** Values of Prefix.1, Prefix.2, … in index order (gaps allowed, as the protocol does not forbid them). */
export function listParam(params: QueryParams, prefix: string): string[] {
  const items: Array<[number, string]> = [];
  const pattern = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.([1-9][0-9]{0,3})$`);
  for (const [key, value] of params) {
    const match = pattern.exec(key);
    if (match) items.push([Number(match[1]), value]);
  }
  return items.sort(([a], [b]) => a - b).map(([, value]) => value);
}

export interface Filter {
  name: string;
  values: string[];
}

export function filtersParam(params: QueryParams): Filter[] {
  const indexes = new Set<number>();
  for (const key of params.keys()) {
    const match = /^Filter\.([1-9][0-9]{0,3})\./.exec(key);
    if (match) indexes.add(Number(match[1]));
  }
  return [...indexes]
    .sort((a, b) => a - b)
    .map((index) => {
      const name = params.get(`Filter.${index}.Name`);
      if (name === undefined)
        throw new Ec2ApiError('MissingParameter', `The request must contain the parameter Filter.${index}.Name`);
      return { name, values: listParam(params, `Filter.${index}.Value`) };
    });
}

export function requiredParam(params: QueryParams, name: string): string {
  const value = params.get(name);
  if (value === undefined || value === '')
    throw new Ec2ApiError('MissingParameter', `The request must contain the parameter ${name}`);
  return value;
}

export function booleanParam(params: QueryParams, name: string): boolean {
  const value = params.get(name);
  if (value === undefined) return false;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new Ec2ApiError(
    'InvalidParameterValue',
    `Value (${value}) for parameter ${name} is invalid. Expected a boolean.`,
  );
}

/** A value from a closed set, or InvalidParameterValue naming the parameter and the allowed values. */
export function enumParam<T extends string>(params: QueryParams, name: string, allowed: readonly T[]): T | undefined {
  const value = params.get(name);
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new Ec2ApiError(
    'InvalidParameterValue',
    `Value (${value}) for parameter ${name} is invalid. Expected one of: ${allowed.join(', ')}.`,
  );
}

export function integerParam(
  params: QueryParams,
  name: string,
  min: number,
  max: number,
  also: readonly number[] = [],
): number | undefined {
  const value = params.get(name);
  if (value === undefined) return undefined;
  const n = /^-?[0-9]{1,6}$/.test(value) ? Number(value) : Number.NaN;
  if ((n >= min && n <= max) || also.includes(n)) return n;
  const extra = also.length > 0 ? ` or ${also.join(', ')}` : '';
  throw new Ec2ApiError(
    'InvalidParameterValue',
    `Value (${value}) for parameter ${name} is invalid. Expected an integer from ${min} to ${max}${extra}.`,
  );
}

/** EC2 filter values take * (any run) and ? (one character) as wildcards. */
export function wildcardMatches(pattern: string, value: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`, 's').test(value);
}

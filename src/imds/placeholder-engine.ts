// A deliberately small metadata service for the packet-level foundation: the token rules of IMDSv2 (PUT only,
// TTL header 1..21600, no token through X-Forwarded-For, 401 on a bad token) and a short metadata tree.
// The full EC2 tree, policy switches and credentials replace this module in the engine issue.
import { TokenAuthority } from './token.ts';
import type { ImdsRequest, ImdsResponse } from './types.ts';

export interface PlaceholderInstance {
  instanceId: string;
  amiId: string;
  instanceType: string;
  localIpv4: string;
  userData: Uint8Array | undefined;
}

export interface PlaceholderOptions {
  /** TTL of the IP packets that carry a token response (http-put-response-hop-limit), 1..64. */
  hopLimit: number;
  tokenKey: Uint8Array;
  randomBytes: (n: number) => Uint8Array;
}

const TOKEN_PATH = '/latest/api/token';
const TTL_REQUEST_HEADER = 'x-aws-ec2-metadata-token-ttl-seconds';
const TOKEN_HEADER = 'x-aws-ec2-metadata-token';
const MAX_TOKEN_TTL_SECONDS = 21600;

function header(request: ImdsRequest, name: string): string | undefined {
  return request.headers.find(([key]) => key === name)?.[1];
}

function text(status: number, body: string | Uint8Array, extra: ReadonlyArray<readonly [string, string]> = []): ImdsResponse {
  return { status, headers: [['Content-Type', 'text/plain'], ...extra], body };
}

function notFound(): ImdsResponse {
  const body =
    '<?xml version="1.0" encoding="iso-8859-1"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n' +
    '\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n' +
    ' <head>\n  <title>404 - Not Found</title>\n </head>\n <body>\n  <h1>404 - Not Found</h1>\n </body>\n</html>\n';
  return { status: 404, headers: [['Content-Type', 'text/html']], body };
}

export class PlaceholderEngine {
  private readonly tokens: TokenAuthority;

  constructor(
    private readonly instance: PlaceholderInstance,
    private readonly options: PlaceholderOptions,
  ) {
    if (!Number.isInteger(options.hopLimit) || options.hopLimit < 1 || options.hopLimit > 64) {
      throw new RangeError(`hop limit must be an integer 1..64, got ${options.hopLimit}`);
    }
    this.tokens = new TokenAuthority(options.tokenKey, options.randomBytes);
  }

  handle(request: ImdsRequest, nowMs: number): ImdsResponse {
    const path = request.target.split('?', 1)[0];
    if (path === TOKEN_PATH) return this.tokenRequest(request, nowMs);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return text(405, '', [['Allow', 'GET, HEAD']]);
    }
    const token = header(request, TOKEN_HEADER);
    if (token !== undefined && this.tokens.verify(token, nowMs) !== 'valid') return text(401, '');
    return this.metadata(path);
  }

  private tokenRequest(request: ImdsRequest, nowMs: number): ImdsResponse {
    if (request.method !== 'PUT') return text(405, '', [['Allow', 'OPTIONS, PUT']]);
    if (header(request, 'x-forwarded-for') !== undefined) return text(403, '');
    const ttlText = header(request, TTL_REQUEST_HEADER);
    const ttlSeconds = ttlText !== undefined && /^[0-9]{1,5}$/.test(ttlText) ? Number(ttlText) : NaN;
    if (!(ttlSeconds >= 1 && ttlSeconds <= MAX_TOKEN_TTL_SECONDS)) return text(400, '');
    const token = this.tokens.issue(ttlSeconds, nowMs);
    return {
      ...text(200, token, [['X-Aws-Ec2-Metadata-Token-Ttl-Seconds', String(ttlSeconds)]]),
      hopLimit: this.options.hopLimit,
    };
  }

  private metadata(path: string): ImdsResponse {
    const { instance } = this;
    const leaves: Record<string, string> = {
      'ami-id': instance.amiId,
      'instance-id': instance.instanceId,
      'instance-type': instance.instanceType,
      'local-ipv4': instance.localIpv4,
    };
    if (path === '/') return text(200, ['1.0', '2007-01-19', '2021-07-15', 'latest'].join('\n'));
    if (path === '/latest' || path === '/latest/') {
      return text(200, ['dynamic', 'meta-data', ...(instance.userData ? ['user-data'] : [])].join('\n'));
    }
    if (path === '/latest/meta-data' || path === '/latest/meta-data/') return text(200, Object.keys(leaves).join('\n'));
    if (path === '/latest/user-data') return instance.userData ? text(200, instance.userData) : notFound();
    const key = path.startsWith('/latest/meta-data/') ? path.slice('/latest/meta-data/'.length) : '';
    return Object.hasOwn(leaves, key) ? text(200, leaves[key]) : notFound();
  }
}

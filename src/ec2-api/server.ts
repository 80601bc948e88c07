// The EC2 Query API listener: HTTP on a local address, SigV4-authenticated, answering the actions in actions.ts.
// Every request gets a requestId; every failure an EC2 error document; nothing a client sends escapes as an
// exception. Log lines carry the action, the access key id (public, as in CloudTrail) and the outcome — never a
// secret, a signature or a session token.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { handleAction, type Ec2ApiState } from './actions.ts';
import { authenticate, type CallerKeys } from './authenticate.ts';
import { Ec2ApiError, errorXml } from './errors.ts';
import { parseQueryParams } from './query-params.ts';
import { LISTEN_ADDRESS, RuleViolation, type ListenAddress } from '../imds/index.ts';
import type { SignableRequest } from './sigv4.ts';
import { OperatorError } from '../errors/operator-error.ts';

/** The Query API's requests are small; 64 KiB is far above any this appliance answers. */
const MAX_BODY_BYTES = 64 * 1024;

export class Ec2ApiListenError extends OperatorError {}

export type { ListenAddress };

/** HOST:PORT or [IPV6]:PORT; the host must be loopback unless `allowNonLoopback`. */
export function parseEc2ApiListen(text: string, allowNonLoopback: boolean): ListenAddress {
  let host: string;
  let port: number;
  try {
    ({ host, port } = LISTEN_ADDRESS.check(text));
  } catch (error) {
    if (error instanceof RuleViolation) throw new Ec2ApiListenError('BAD_ADDRESS', `EC2 API ${error.message}`);
    throw error;
  }
  const loopback = host === 'localhost' || host === '::1' || /^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$/.test(host);
  if (!loopback && !allowNonLoopback) {
    throw new Ec2ApiListenError(
      'EC2_API_NOT_LOOPBACK',
      `the EC2 API listens on loopback only; ${host} is not loopback (add --ec2-api-allow-non-loopback to mean it)`,
    );
  }
  return { host, port };
}

interface Ec2ApiDependencies {
  state: Ec2ApiState;
  keys: CallerKeys;
  region: string;
  log: Logger;
  nowMs?: () => number;
  requestId?: () => string;
}

export interface Ec2ApiServer {
  server: Server;
  /** The address actually bound (port 0 resolved). */
  address: ListenAddress;
  close(): Promise<void>;
}

export async function startEc2ApiServer(listen: ListenAddress, deps: Ec2ApiDependencies): Promise<Ec2ApiServer> {
  const server = createServer({ maxHeaderSize: 16 * 1024 }, (request, response) => {
    void serveRequest(request, response, deps).catch((error: unknown) => {
      deps.log.error({ err: error }, 'EC2 API request failed');
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Ec2ApiListenError(
          'EC2_API_LISTEN_FAILED',
          `cannot listen on ${listen.host}:${listen.port}: ${error.message}`,
        ),
      ),
    );
    server.listen(listen.port, listen.host, () => resolve());
  });
  const bound = server.address();
  const address = typeof bound === 'object' && bound !== null ? { host: listen.host, port: bound.port } : listen;
  return {
    server,
    address,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // Stop keeping bytes; the rest is read and dropped so the client still gets its error document.
        chunks.length = 0;
        request.removeAllListeners('data');
        request.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function pairs(raw: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] as string, raw[i + 1] as string]);
  return out;
}

function send(response: ServerResponse, status: number, requestId: string, body: string): void {
  response.writeHead(status, {
    'Content-Type': 'text/xml;charset=UTF-8',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': requestId,
    Server: 'AmazonEC2',
  });
  response.end(body);
}

async function serveRequest(
  request: IncomingMessage,
  response: ServerResponse,
  deps: Ec2ApiDependencies,
): Promise<void> {
  const requestId = (deps.requestId ?? randomUUID)();
  const nowMs = (deps.nowMs ?? Date.now)();
  const target = request.url ?? '/';
  const question = target.indexOf('?');
  const path = question < 0 ? target : target.slice(0, question);
  const query = question < 0 ? '' : target.slice(question + 1);
  let action: string | undefined;
  let accessKeyId: string | undefined;
  try {
    if (request.method !== 'POST' && request.method !== 'GET') {
      throw new Ec2ApiError('InvalidAction', `The HTTP method ${request.method} is not valid for this web service.`);
    }
    const body = await readBody(request);
    if (body === undefined)
      throw new Ec2ApiError('InvalidParameterValue', `request body larger than ${MAX_BODY_BYTES} bytes`);
    const signable: SignableRequest = { method: request.method, path, query, headers: pairs(request.rawHeaders), body };
    const contentType = request.headers['content-type'] ?? '';
    const form =
      request.method === 'POST' && contentType.startsWith('application/x-www-form-urlencoded')
        ? body.toString('utf8')
        : undefined;
    const params = parseQueryParams(query, form);
    action = params.get('Action');
    const principal = authenticate(signable, deps.keys, deps.region, nowMs);
    accessKeyId = principal.accessKeyId;
    const xml = handleAction(params, deps.state, requestId);
    send(response, 200, requestId, xml);
    deps.log.info({ requestId, action, accessKeyId, principal: principal.kind, status: 200 }, 'EC2 API request');
  } catch (error) {
    const refusal =
      error instanceof Ec2ApiError ? error : new Ec2ApiError('InternalError', 'An internal error has occurred');
    if (!(error instanceof Ec2ApiError)) deps.log.error({ err: error, requestId, action }, 'EC2 API action failed');
    send(response, refusal.status, requestId, errorXml(refusal, requestId));
    deps.log.info(
      { requestId, action, accessKeyId, status: refusal.status, code: refusal.code },
      'EC2 API request refused',
    );
  }
}

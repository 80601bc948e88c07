// Serves the control channel on a Unix socket owned by root with mode 0600: anyone who can change the metadata
// options of the "instance" must already be root on it, as with the EC2 API's IAM permission.
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { MAX_CONTROL_MESSAGE_BYTES, type ControlReply, type ControlRequest } from './control-protocol.ts';
import { ControlValidationError, parseControlRequest } from './control-validation.ts';
import { OperatorError } from '../errors/operator-error.ts';

type ControlHandler = (request: ControlRequest) => unknown; // a value or a promise of one

/** A handler error that reaches the client with its code and message (bad option values, unknown event ids). */
export class ControlRequestError extends OperatorError {}

export class ControlServerError extends OperatorError {}

interface ControlServer {
  path: string;
  close(): Promise<void>;
}

export async function startControlServer(path: string, handler: ControlHandler, log: Logger): Promise<ControlServer> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (existsSync(path)) {
    if (await socketAnswers(path)) {
      throw new ControlServerError('CONTROL_SOCKET_BUSY', `another imds-hop already listens on ${path}`);
    }
    unlinkSync(path); // left behind by an appliance that was killed
  }
  const server = createServer((socket) => serveConnection(socket, handler, log));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new ControlServerError('CONTROL_SOCKET_FAILED', `cannot listen on ${path}: ${error.message}`, { cause: error }),
      ),
    );
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  return {
    path,
    close: () => closeServer(server, path),
  };
}

function serveConnection(socket: Socket, handler: ControlHandler, log: Logger): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('error', () => socket.destroy());
  socket.on('data', (text: string) => {
    buffered += text;
    if (buffered.length > MAX_CONTROL_MESSAGE_BYTES) {
      reply(socket, { ok: false, code: 'REQUEST_TOO_LARGE', error: 'control request too large' });
      return;
    }
    const newline = buffered.indexOf('\n');
    if (newline < 0) return;
    const line = buffered.slice(0, newline);
    socket.removeAllListeners('data');
    void answer(line, handler, log).then((message) => reply(socket, message));
  });
}

async function answer(line: string, handler: ControlHandler, log: Logger): Promise<ControlReply> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { ok: false, code: 'BAD_REQUEST', error: 'control request is not JSON' };
  }
  let request: ControlRequest;
  try {
    request = parseControlRequest(parsed);
  } catch (error) {
    if (error instanceof ControlValidationError) return { ok: false, code: error.code, error: error.message };
    throw error;
  }
  try {
    return { ok: true, result: await handler(request) };
  } catch (error) {
    if (error instanceof ControlRequestError) return { ok: false, code: error.code, error: error.message };
    log.error({ err: error, op: request.op }, 'control request failed');
    return { ok: false, code: 'INTERNAL', error: `internal error: ${(error as Error).message}` };
  }
}

function reply(socket: Socket, message: ControlReply): void {
  socket.end(`${JSON.stringify(message)}\n`);
}

async function closeServer(server: Server, path: string): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  try {
    unlinkSync(path);
  } catch {
    // already removed
  }
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

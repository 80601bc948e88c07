// The client side of the control channel, used by `imds-hop options|events|metrics|identity-cert`.
import { createConnection } from 'node:net';
import { MAX_CONTROL_MESSAGE_BYTES, type ControlReply, type ControlRequest } from '../appliance/control-protocol.ts';
import { OperatorError, type OperatorErrorCode } from '../errors/operator-error.ts';

export class ControlClientError extends OperatorError {}

const TIMEOUT_MS = 10_000;

/** The appliance's code as sent, when it has the operator-error shape; anything else is reported as a failed call. */
function replyCode(code: unknown): OperatorErrorCode {
  return typeof code === 'string' && /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/.test(code)
    ? (code as OperatorErrorCode)
    : 'CONTROL_FAILED';
}

/** Sends one request and returns the result, or throws ControlClientError with the appliance's code. */
export function callControl(path: string, request: ControlRequest): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let text = '';
    const fail = (code: OperatorErrorCode, message: string) => {
      socket.destroy();
      reject(new ControlClientError(code, message));
    };
    socket.setTimeout(TIMEOUT_MS, () =>
      fail('CONTROL_TIMEOUT', `no answer from ${path} within ${TIMEOUT_MS / 1000} s`),
    );
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > MAX_CONTROL_MESSAGE_BYTES) fail('CONTROL_REPLY_TOO_LARGE', 'control reply too large');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
        fail('NOT_RUNNING', `no imds-hop is running with control socket ${path} (start one with "imds-hop serve")`);
      } else if (error.code === 'EACCES') {
        fail('NOT_PERMITTED', `cannot open ${path}: run as root`);
      } else {
        fail('CONTROL_FAILED', `control socket ${path}: ${error.message}`);
      }
    });
    socket.once('end', () => {
      let reply: ControlReply;
      try {
        reply = JSON.parse(text) as ControlReply;
      } catch {
        reject(new ControlClientError('CONTROL_FAILED', `unreadable reply from ${path}`));
        return;
      }
      if (reply.ok) resolve(reply.result);
      else reject(new ControlClientError(replyCode(reply.code), String(reply.error)));
    });
  });
}

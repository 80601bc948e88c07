// Byte-exact: what imds-hop puts on the wire for every response a published real-instance transcript shows, from
// the status line through header names, case and order to the body. Engine and HTTP session together, as the
// Host runs them, with the Date header pinned to the capture's. Sources: test/imds/ec2-behaviour-checklist.txt.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HttpSession, type ConnectionPolicy } from '../../src/appliance/http-session.ts';
import { defaultInstance } from '../../src/imds/index.ts';
import { NOW_MS, fetchToken, makeEngine } from '../imds/helpers.ts';

const DATE = 'Thu, 27 Jun 2024 22:31:31 GMT';

function exchange(request: string, options: { connection?: ConnectionPolicy; tokensRequired?: boolean } = {}) {
  const instance = defaultInstance();
  if (options.tokensRequired) instance.options.httpTokens = 'required';
  const { engine } = makeEngine(instance);
  const token = fetchToken(engine);
  const session = new HttpSession(
    {},
    (r) => engine.handle(r, NOW_MS),
    () => DATE,
    options.connection ?? 'close',
  );
  const output = session.receive(Buffer.from(request.replaceAll('$TOKEN', token), 'latin1'));
  const text = Buffer.concat(output.chunks.map((chunk) => chunk.bytes)).toString('latin1');
  return { text, close: output.close, engine };
}

describe('responses with a published capture, byte for byte', () => {
  test('PUT token with X-Forwarded-For: 403, lower-case content-type/date/server/content-length, no body (aws-sdk-kotlin#627)', () => {
    const { text, close } = exchange(
      'PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\nUser-Agent: curl/7.74.0\r\nAccept: */*\r\n' +
        'x-aws-ec2-metadata-token-ttl-seconds: 3600\r\nX-Forwarded-For: 10.1.45.173\r\n\r\n',
    );
    assert.equal(
      text,
      `HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ndate: ${DATE}\r\nserver: EC2ws\r\ncontent-length: 0\r\n\r\n`,
    );
    assert.equal(close, false, 'the capture shows no Connection: close and curl leaves the connection intact');
  });

  test('PUT to /latest/api/token/ (trailing slash): 403, Content-Length/Content-Type/Date/Server (aws_credentials#47)', () => {
    const { text } = exchange(
      'PUT /latest/api/token/ HTTP/1.1\r\nHost: 169.254.169.254\r\nUser-Agent: curl/7.74.0\r\nAccept: */*\r\n' +
        'x-aws-ec2-metadata-token-ttl-seconds: 21600\r\nconnection: keep-alive\r\n\r\n',
    );
    assert.equal(
      text,
      `HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nContent-Type: text/plain\r\nDate: ${DATE}\r\nServer: EC2ws\r\n\r\n`,
    );
  });

  test('PUT to a version-specific token path: the same 403 (EC2 User Guide, "Retrieve instance metadata")', () => {
    const { text } = exchange(
      'PUT /2021-03-23/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\nX-aws-ec2-metadata-token-ttl-seconds: 21600\r\n\r\n',
    );
    assert.equal(
      text,
      `HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nContent-Type: text/plain\r\nDate: ${DATE}\r\nServer: EC2ws\r\n\r\n`,
    );
  });

  test('GET /latest/api/token: "405 Not Allowed" with Allow: OPTIONS, PUT first (google-auth-library-ruby#421)', () => {
    const { text } = exchange(
      'GET /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\nX-aws-ec2-metadata-token-ttl-seconds: 21600\r\n\r\n',
    );
    // The capture ends after Allow; the rest of the head follows the 403 of the same front end (CHOICE).
    assert.ok(text.startsWith('HTTP/1.1 405 Not Allowed\r\nAllow: OPTIONS, PUT\r\n'), text);
    assert.equal(
      text,
      `HTTP/1.1 405 Not Allowed\r\nAllow: OPTIONS, PUT\r\nContent-Length: 0\r\nContent-Type: text/plain\r\nDate: ${DATE}\r\nServer: EC2ws\r\n\r\n`,
    );
  });

  test('GET with a token: TTL header first, then Content-Type … Server: EC2ws, Connection: close (2024 curl transcript)', () => {
    const { text, close, engine } = exchange(
      'GET /latest/meta-data/placement/region HTTP/1.1\r\nHost: 169.254.169.254\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\nX-aws-ec2-metadata-token: $TOKEN\r\n\r\n',
    );
    const lastModified = new Date(NOW_MS - 3600_000).toUTCString();
    assert.equal(engine.options.httpTokens, 'optional');
    assert.equal(
      text,
      'HTTP/1.1 200 OK\r\nX-Aws-Ec2-Metadata-Token-Ttl-Seconds: 21600\r\nContent-Type: text/plain\r\nAccept-Ranges: none\r\n' +
        `Last-Modified: ${lastModified}\r\nContent-Length: 9\r\nDate: ${DATE}\r\nServer: EC2ws\r\nConnection: close\r\n\r\nus-east-1`,
    );
    assert.equal(close, true, 'the service closes after the response ("Closing connection")');
  });

  test('GET without a token on a tokens-required instance: 401 with the 343-byte XHTML page (monkey#4275, arp142-hana#197)', () => {
    const { text } = exchange('GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n', {
      tokensRequired: true,
    });
    const [head, body] = text.split('\r\n\r\n') as [string, string];
    assert.match(
      head,
      /^HTTP\/1\.1 401 Unauthorized\r\nContent-Type: text\/html\r\nContent-Length: 343\r\nDate: [^\r]+\r\nServer: EC2ws\r\nConnection: close$/,
    );
    assert.equal(Buffer.byteLength(body), 343);
    assert.equal(
      body,
      '<?xml version="1.0" encoding="iso-8859-1"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n' +
        '\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n' +
        ' <head>\n  <title>401 - Unauthorized</title>\n </head>\n <body>\n  <h1>401 - Unauthorized</h1>\n </body>\n</html>\n',
    );
  });
});

describe('the connection policy', () => {
  test('keep-alive (opt-in) leaves out Connection: close and keeps serving on the same connection', () => {
    const request = 'GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: x\r\n\r\n';
    const { text, close } = exchange(request + request, { connection: 'keep-alive' });
    assert.equal(close, false);
    assert.equal(text.match(/HTTP\/1\.1 200 OK/g)?.length, 2);
    assert.doesNotMatch(text, /Connection:/);
  });

  test('close (default) answers the first of two pipelined requests, then ends the connection', () => {
    const request = 'GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: x\r\n\r\n';
    const { text, close } = exchange(request + request);
    assert.equal(close, true);
    assert.equal(text.match(/HTTP\/1\.1 200 OK/g)?.length, 1);
  });

  test('a client asking to close is honoured under keep-alive too', () => {
    const { text, close } = exchange('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', {
      connection: 'keep-alive',
    });
    assert.equal(close, true);
    assert.match(text, /\r\nServer: EC2ws\r\nConnection: close\r\n\r\n/);
  });
});

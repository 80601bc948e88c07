// Response serializer, checked byte for byte.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { reasonPhrase, serializeResponse } from '../../src/http/index.ts';
import { dec, enc } from './helpers.ts';

describe('serializeResponse', () => {
  it('writes status line, headers in order, Content-Length, body', () => {
    const out = serializeResponse(
      {
        status: 200,
        headers: [
          ['Content-Type', 'text/plain'],
          ['Server', 'EC2ws'],
        ],
        body: 'ami-id\n',
      },
      { keepAlive: true, omitBody: false },
    );
    assert.equal(
      dec(out),
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nServer: EC2ws\r\nContent-Length: 7\r\n\r\nami-id\n',
    );
  });

  it('accepts a Record, adds Connection: close when not keeping alive', () => {
    const out = serializeResponse(
      { status: 404, headers: { 'X-A': '1', 'x-b': '2' }, body: new Uint8Array([0, 255]) },
      { keepAlive: false, omitBody: false },
    );
    assert.deepEqual(
      out,
      new Uint8Array([
        ...enc('HTTP/1.1 404 Not Found\r\nX-A: 1\r\nx-b: 2\r\nContent-Length: 2\r\nConnection: close\r\n\r\n'),
        0,
        255,
      ]),
    );
  });

  it('announces the body length but omits the body for HEAD', () => {
    const out = serializeResponse({ status: 200, headers: [], body: 'hello' }, { keepAlive: true, omitBody: true });
    assert.equal(dec(out), 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n');
  });

  it('counts UTF-8 bytes of a string body', () => {
    const out = serializeResponse({ status: 200, headers: {}, body: 'é' }, { keepAlive: true, omitBody: false });
    assert.deepEqual(out, new Uint8Array([...enc('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n'), 0xc3, 0xa9]));
  });

  it('writes an empty reason for unknown statuses', () => {
    const out = serializeResponse({ status: 599, headers: {}, body: '' }, { keepAlive: true, omitBody: false });
    assert.equal(dec(out), 'HTTP/1.1 599 \r\nContent-Length: 0\r\n\r\n');
  });

  it('throws on programmer errors', () => {
    const opts = { keepAlive: true, omitBody: false };
    assert.throws(
      () => serializeResponse({ status: 200, headers: { 'X-A': 'a\r\nSet-Cookie: x' }, body: '' }, opts),
      TypeError,
    );
    assert.throws(() => serializeResponse({ status: 200, headers: { 'X-A': 'a\nb' }, body: '' }, opts), TypeError);
    assert.throws(() => serializeResponse({ status: 200, headers: { 'X-A': 'a\rb' }, body: '' }, opts), TypeError);
    assert.throws(() => serializeResponse({ status: 200, headers: { 'X A': 'a' }, body: '' }, opts), TypeError);
    assert.throws(
      () => serializeResponse({ status: 200, headers: { 'content-length': '3' }, body: '' }, opts),
      TypeError,
    );
    assert.throws(
      () => serializeResponse({ status: 200, headers: [['Connection', 'close']], body: '' }, opts),
      TypeError,
    );
    assert.throws(() => serializeResponse({ status: 42, headers: {}, body: '' }, opts), RangeError);
  });
});

describe('serializeResponse against the head written as one string', () => {
  interface Case {
    status: number;
    reason: string | undefined;
    headers: Array<[string, string]>;
    trailing: Array<[string, string]>;
    body: string;
    keepAlive: boolean;
    omitBody: boolean;
  }
  /** The layout spelled out the plain way: what the measured, in-place writing must reproduce byte for byte. */
  function asString(c: Case): string {
    const lines = (list: Array<[string, string]>) => list.map(([name, value]) => `${name}: ${value}\r\n`).join('');
    return (
      `HTTP/1.1 ${c.status} ${c.reason ?? reasonPhrase(c.status)}\r\n${lines(c.headers)}` +
      `Content-Length: ${c.body.length}\r\n${lines(c.trailing)}` +
      `${c.keepAlive ? '' : 'Connection: close\r\n'}\r\n${c.omitBody ? '' : c.body}`
    );
  }
  const name = fc.stringMatching(/^X-[A-Za-z0-9-]{1,12}$/);
  // Latin-1 values: visible ASCII, tab and the upper half, as a header value may hold.
  const value = fc
    .array(fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.constant(0x09), fc.integer({ min: 0xa0, max: 0xff })), {
      maxLength: 40,
    })
    .map((codes) => String.fromCharCode(...codes));
  const lines = fc.array(fc.tuple(name, value), { maxLength: 6 });
  const cases: fc.Arbitrary<Case> = fc.record({
    status: fc.constantFrom(200, 401, 404, 405, 503),
    reason: fc.option(fc.stringMatching(/^[A-Za-z ]{1,20}$/), { nil: undefined }),
    headers: lines,
    trailing: lines,
    body: fc.stringMatching(/^[ -~]{0,60}$/),
    keepAlive: fc.boolean(),
    omitBody: fc.boolean(),
  });

  it('is the same bytes for any headers, trailing headers, reason, body and framing', () => {
    fc.assert(
      fc.property(cases, (c) => {
        const out = serializeResponse(
          {
            status: c.status,
            headers: c.headers,
            body: c.body,
            ...(c.reason === undefined ? {} : { reason: c.reason }),
          },
          { keepAlive: c.keepAlive, omitBody: c.omitBody, trailingHeaders: c.trailing },
        );
        assert.equal(Buffer.from(out).toString('latin1'), asString(c));
      }),
    );
  });
});

describe('reasonPhrase', () => {
  it('covers the statuses the appliance sends', () => {
    const expected: Record<number, string> = {
      200: 'OK',
      400: 'Bad Request',
      401: 'Unauthorized',
      403: 'Forbidden',
      404: 'Not Found',
      405: 'Method Not Allowed',
      413: 'Content Too Large',
      414: 'URI Too Long',
      431: 'Request Header Fields Too Large',
      500: 'Internal Server Error',
      501: 'Not Implemented',
      503: 'Service Unavailable',
      505: 'HTTP Version Not Supported',
    };
    for (const [status, reason] of Object.entries(expected)) assert.equal(reasonPhrase(Number(status)), reason);
  });
});

// Properties: framing does not depend on how the stream is split, and no byte sequence makes push throw.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HttpRequestParser } from '../../src/http/index.ts';
import { enc, feed } from './helpers.ts';

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
const path = fc.stringMatching(/^\/[A-Za-z0-9\-._~%/?=&]{0,30}$/);
const value = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,20}[\x21-\x7e])?$/);

const request = fc
  .record({
    method: token,
    target: path,
    version: fc.constantFrom('1.0', '1.1'),
    fields: fc.array(fc.tuple(token, value), { maxLength: 6 }),
    body: fc.uint8Array({ maxLength: 40 }),
    leadingCrlf: fc.boolean(),
  })
  .map(({ method, target, version, fields, body, leadingCrlf }) => {
    const lines = fields
      .filter(([name]) => !['host', 'content-length', 'transfer-encoding'].includes(name.toLowerCase()))
      .map(([name, v]) => `${name}: ${v}\r\n`)
      .join('');
    const head = `${leadingCrlf ? '\r\n' : ''}${method} ${target} HTTP/${version}\r\nHost: h\r\n${lines}Content-Length: ${body.length}\r\n\r\n`;
    return new Uint8Array([...enc(head), ...body]);
  });

const stream = fc.array(request, { minLength: 1, maxLength: 4 }).map((parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return { bytes: out, count: parts.length };
});

function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.subarray(prev, p));
    prev = p;
  }
  return chunks;
}

describe('parser properties', () => {
  it('splitting a valid request stream anywhere yields identical events', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 12 }), ({ bytes, count }, cuts) => {
        const whole = feed([bytes]);
        assert.equal(whole.length, count);
        assert.ok(whole.every((e) => e.kind === 'request'));
        assert.deepEqual(feed(splitAt(bytes, cuts)), whole);
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary bytes never throw; an error ends the conversation', () => {
    const noisy = fc.array(
      fc.oneof(
        fc.uint8Array({ maxLength: 64 }),
        fc.constantFrom(
          ...['GET / HTTP/1.1\r\n', 'Host: x\r\n', '\r\n', ': ', ' ', '\n', 'Content-Length: 3\r\n', 'HTTP/9.9'].map(
            enc,
          ),
        ),
      ),
      { maxLength: 20 },
    );
    fc.assert(
      fc.property(noisy, (chunks) => {
        const parser = new HttpRequestParser({ maxRequestLineBytes: 64, maxHeaderBytes: 128, maxBodyBytes: 16 });
        let dead = false;
        for (const chunk of chunks) {
          const events = parser.push(chunk);
          if (dead) assert.deepEqual(events, []);
          for (const event of events) {
            assert.ok(
              event.kind === 'request' || (event.kind === 'error' && event.status >= 400 && event.code.length > 0),
            );
            if (event.kind === 'error') {
              dead = true;
              assert.equal(event, events.at(-1));
            }
          }
          assert.ok(parser.bufferedBytes <= 64 + 2 + 128 + 16);
        }
      }),
      { numRuns: 500 },
    );
  });
});

// Spec-case helpers: every case runs whole, split at every byte offset, and one byte at a time.
import assert from 'node:assert/strict';
import { HttpRequestParser, type HttpLimits, type HttpParseEvent } from '../../src/http/index.ts';

export const enc = (text: string): Uint8Array => new TextEncoder().encode(text);
export const dec = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

export function feed(chunks: Uint8Array[], limits: Partial<HttpLimits> = {}): HttpParseEvent[] {
  const parser = new HttpRequestParser(limits);
  return chunks.flatMap((chunk) => parser.push(chunk));
}

export function oneByteChunks(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (b) => Uint8Array.of(b));
}

/** Events for the input whole; asserts every split point and byte-at-a-time feeding give the same. */
export function parseEverySplit(input: string | Uint8Array, limits: Partial<HttpLimits> = {}): HttpParseEvent[] {
  const bytes = typeof input === 'string' ? enc(input) : input;
  const whole = feed([bytes], limits);
  for (let cut = 1; cut < bytes.length; cut++) {
    assert.deepEqual(feed([bytes.subarray(0, cut), bytes.subarray(cut)], limits), whole, `split at ${cut}`);
  }
  assert.deepEqual(feed(oneByteChunks(bytes), limits), whole, 'one byte at a time');
  return whole;
}

export function expectError(
  input: string | Uint8Array,
  status: number,
  code: string,
  limits: Partial<HttpLimits> = {},
): void {
  const events = parseEverySplit(input, limits);
  const last = events.at(-1);
  assert.ok(last && last.kind === 'error', `expected an error, got ${JSON.stringify(events)}`);
  assert.equal(last.status, status, last.message);
  assert.equal(last.code, code, last.message);
  assert.ok(last.message.length > 0);
}

export function expectRequests(input: string | Uint8Array, limits: Partial<HttpLimits> = {}) {
  const events = parseEverySplit(input, limits);
  return events.map((event) => {
    assert.equal(event.kind, 'request', JSON.stringify(event));
    return (event as Extract<HttpParseEvent, { kind: 'request' }>).request;
  });
}

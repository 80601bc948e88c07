import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { RateLimitedLog } from '../../src/appliance/rate-limited-log.ts';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: pino({ level: 'info' }, stream) };
}

describe('rate-limited log lines', () => {
  it('logs a burst, then one line per interval slice, and says how many lines each one stands for', async () => {
    const { lines, log } = capture();
    let now = 0;
    let suppressedCount = 0;
    const limited = new RateLimitedLog(
      log,
      () => now,
      () => (suppressedCount += 1),
      { burst: 10, intervalMs: 5_000 },
    );
    for (let i = 0; i < 20_000; i += 1) limited.warn('icmp', { i }, 'response packet died in transit');
    assert.equal(suppressedCount, 20_000 - 10);
    now = 500; // one slice of the interval: one line, carrying the count of what it replaces
    limited.warn('icmp', { i: 'next' }, 'response packet died in transit');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(lines.length, 11);
    assert.equal(lines[10]?.suppressed, 20_000 - 10);
    assert.equal(limited.pending('icmp'), 0);
  });

  it('keeps kinds apart: a flood of one does not silence another', async () => {
    const { lines, log } = capture();
    const limited = new RateLimitedLog(
      log,
      () => 0,
      () => {},
      { burst: 2, intervalMs: 1_000 },
    );
    for (let i = 0; i < 100; i += 1) limited.info('malformed-http', {}, 'malformed HTTP request');
    limited.error('frame-handler', {}, 'exception while handling a frame');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      lines.map((l) => l.msg),
      ['malformed HTTP request', 'malformed HTTP request', 'exception while handling a frame'],
    );
  });

  it('refills no faster than the rate, whatever the clock does', () => {
    const { log } = capture();
    let now = 0;
    let suppressed = 0;
    const limited = new RateLimitedLog(
      log,
      () => now,
      () => (suppressed += 1),
      { burst: 10, intervalMs: 5_000 },
    );
    // One attempt per millisecond for a minute: at most 10 + 60_000 / 500 lines get through.
    for (now = 0; now < 60_000; now += 1) limited.warn('icmp', {}, 'x');
    assert.ok(60_000 - suppressed <= 10 + 120, `${60_000 - suppressed} lines`);
    assert.ok(60_000 - suppressed >= 120, 'but a steady trickle does get through');
  });
});

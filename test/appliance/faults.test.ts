// The appliance's side of faults: what the injector answers (with the engine's own pages and bodies), how a
// session turns a fault into chunks, and how the pacer releases held responses in order on event-loop timers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { FaultInjector, expireCredentials, type FaultConfig } from '../../src/appliance/fault-injector.ts';
import { HttpSession, type SessionResponse, type ResponseChunk } from '../../src/appliance/http-session.ts';
import { ResponsePacer } from '../../src/appliance/response-pacer.ts';
import { NO_THROTTLE, parseEarlyBoot, parseFaultRule, parseThrottle } from '../../src/faults/index.ts';
import { errorPage, defaultInstance } from '../../src/imds/index.ts';
import { NOW_MS, bodyText, get, makeEngine, tokenPut } from '../imds/helpers.ts';

const ROLE = defaultInstance().iamRole?.name as string;
const CREDENTIALS = `/latest/meta-data/iam/security-credentials/${ROLE}`;
const PEER = () => ({ address: '169.254.169.253', mac: '02:00:00:00:00:02' });

function injector(config: Partial<FaultConfig> = {}) {
  const { engine } = makeEngine();
  const injected: Array<Record<string, string>> = [];
  const faults = new FaultInjector(
    { seed: 1, throttle: NO_THROTTLE, earlyBoot: undefined, rules: [], ...config },
    engine,
    (_name, labels) => injected.push(labels),
    pino({ level: 'silent' }),
    0,
  );
  const ask = (request = get('/latest/meta-data/instance-id'), nowMs = 0) =>
    faults.handle(request, 1, PEER, nowMs, NOW_MS);
  return { faults, ask, injected };
}

test("a status rule answers with the engine's EC2 error page; others pass through untouched", () => {
  const { ask, injected } = injector({
    rules: [parseFaultRule('outage', { action: 'status', status: '503', path: '/latest/meta-data/iam' })],
  });
  const refused = ask(get(CREDENTIALS));
  assert.equal(refused.status, 503);
  assert.equal(refused.body, errorPage(503));
  assert.match(String(refused.body), /503 - Service Unavailable/);
  assert.equal(ask().status, 200);
  assert.deepEqual(injected, [{ rule: 'outage', action: 'status' }]);
});

test("credential trouble: an error body with 200, and the engine's credentials already expired", () => {
  const { ask } = injector({
    rules: [
      parseFaultRule('role-error', { action: 'credential-error', method: 'HEAD' }),
      parseFaultRule('expired', { action: 'expired-credentials', 'expired-seconds': '90' }),
    ],
  });
  const failure = ask({ ...get(CREDENTIALS), method: 'HEAD' });
  assert.equal(failure.status, 200);
  assert.deepEqual(Object.keys(JSON.parse(String(failure.body))), ['Code', 'LastUpdated', 'Message']);
  assert.equal(JSON.parse(String(failure.body)).Code, 'Failure');
  const expired = JSON.parse(bodyText(ask(get(CREDENTIALS)).body));
  assert.equal(Date.parse(expired.Expiration), Math.floor((NOW_MS - 90_000) / 1000) * 1000);
  assert.ok(Date.parse(expired.LastUpdated) < Date.parse(expired.Expiration));
  assert.deepEqual(Object.keys(expired), [
    'Code',
    'LastUpdated',
    'Type',
    'AccessKeyId',
    'SecretAccessKey',
    'Token',
    'Expiration',
  ]);
  assert.equal(expireCredentials('not json', NOW_MS, 1), undefined);
});

test('the early-boot window refuses SYNs, then answers 404, then serves; 429 mode past the request rate', () => {
  const { faults, ask } = injector({
    earlyBoot: parseEarlyBoot({ 'refuse-seconds': '2', 'error-seconds': '3', 'error-status': '404' }),
  });
  assert.equal(faults.admitSyn(1, 0), false);
  assert.equal(faults.admitSyn(1, 2_000), true);
  assert.equal(ask(undefined, 2_000).status, 404);
  assert.equal(ask(undefined, 5_000).status, 200);
  faults.setThrottle({ 'request-rate': '1', 'request-burst': '2' });
  assert.deepEqual(
    [6_000, 6_000, 6_000, 7_000].map((t) => ask(undefined, t).status),
    [200, 200, 429, 200],
  );
});

test('the connection cap counts handshakes in flight and open connections; a stale handshake frees its place', () => {
  const { faults } = injector({ throttle: parseThrottle(NO_THROTTLE, { 'connections-per-source': '2' }) });
  assert.equal(faults.admitSyn(7, 0), true);
  assert.equal(faults.admitSyn(7, 0), true);
  assert.equal(faults.admitSyn(7, 0), false, 'two handshakes in flight');
  assert.equal(faults.admitSyn(8, 0), true, 'another source has its own cap');
  faults.connectionOpened(100, 7);
  faults.connectionOpened(101, 7);
  assert.equal(faults.admitSyn(7, 20_000), false, 'two open');
  faults.connectionClosed(100);
  assert.equal(faults.admitSyn(7, 20_000), true);
  assert.equal(faults.counters.snapshot()['connections-refused-per-source-cap'], 2);
});

test('the packet allowance drops and counts what is over it', () => {
  const { faults } = injector({ throttle: parseThrottle(NO_THROTTLE, { 'packet-allowance': '2' }) });
  assert.deepEqual(
    [0, 0, 0, 0].map((t) => faults.admitPacket(5, t)),
    [true, true, false, false],
  );
  assert.equal(faults.admitIpv6Packet(new Uint8Array(16), 1_000), true);
  assert.equal(faults.counters.snapshot()['linklocal-allowance-exceeded'], 2);
});

function session(response: SessionResponse) {
  return new HttpSession(
    {},
    () => response,
    () => 'Tue, 01 Dec 2026 00:00:00 GMT',
    'keep-alive',
    9,
  );
}
const REQUEST = new TextEncoder().encode(
  'GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n',
);

test('a session turns faults into chunks: nothing for silence, RST or FIN; a cut body; nothing after a fault', () => {
  const base: SessionResponse = { status: 200, headers: [['Content-Type', 'text/plain']], body: 'i-0123456789abcdef0' };
  const truncated = session({ ...base, delivery: { delayMs: 0, outcome: 'truncate', truncateBodyBytes: 4 } }).receive(
    REQUEST,
  );
  const text = new TextDecoder().decode(truncated.chunks[0]?.bytes);
  assert.ok(text.endsWith('\r\n\r\ni-01'), text);
  assert.match(text, /Content-Length: 19/);
  assert.equal(truncated.close, true);
  assert.equal(truncated.chunks.length, 1, 'the pipelined second request is not answered');
  for (const outcome of ['drop', 'reset', 'close'] as const) {
    const output = session({ status: 0, headers: [], body: '', delivery: { delayMs: 5, outcome } }).receive(REQUEST);
    assert.equal(output.chunks.length, 1);
    assert.equal(output.chunks[0]?.bytes.length, 0);
    assert.equal(output.chunks[0]?.delayMs, 5);
    assert.equal(output.chunks[0]?.then, outcome === 'drop' ? 'stall' : outcome);
    assert.equal(output.close, outcome === 'close');
  }
  const delayed = session({ ...base, delivery: { delayMs: 1500, outcome: 'respond' } }).receive(REQUEST);
  assert.deepEqual(
    delayed.chunks.map((c) => c.delayMs),
    [1500, 1500],
  );
});

test('the pacer keeps order behind a delay, honours FIN/RST/silence, and drops its timer with the connection', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const events: string[] = [];
  const pacer = new ResponsePacer(
    {
      send: (id, bytes, _tag, thenClose) => (
        events.push(`${id}:send:${new TextDecoder().decode(bytes)}${thenClose ? '+fin' : ''}`),
        true
      ),
      close: (id) => void events.push(`${id}:fin`),
      abort: (id) => void events.push(`${id}:rst`),
      settled: () => void events.push('settled'),
      overflow: (id, what) => void events.push(`${id}:overflow:${what}`),
    },
    { perConnection: 3, total: 2 },
  );
  const chunk = (text: string, extra: Partial<ResponseChunk> = {}): ResponseChunk => ({
    bytes: new TextEncoder().encode(text),
    ...extra,
  });
  pacer.deliver(1, [chunk('a', { delayMs: 100 }), chunk('b')], false);
  pacer.deliver(1, [chunk('c')], false);
  assert.deepEqual(events, []);
  t.mock.timers.tick(100);
  assert.deepEqual(events.splice(0), ['1:send:a', '1:send:b', '1:send:c', 'settled']);
  assert.equal(pacer.size, 0);

  pacer.deliver(2, [chunk('x', { delayMs: 50 })], false);
  assert.equal(pacer.closeWhenDone(2), true);
  t.mock.timers.tick(50);
  assert.deepEqual(events.splice(0), ['2:send:x+fin', 'settled']);

  pacer.deliver(3, [chunk('', { then: 'reset' })], false);
  pacer.deliver(4, [chunk('', { then: 'stall' })], false);
  pacer.deliver(4, [chunk('late')], false);
  assert.deepEqual(events.splice(0), ['3:rst']);
  assert.equal(pacer.closeWhenDone(4), false, 'a silent connection closes when the peer does');

  pacer.deliver(5, [chunk('y', { delayMs: 1000 })], false);
  pacer.deliver(6, [chunk('z', { delayMs: 1000 })], false); // 4 (stalled) and 5 hold the two places
  assert.deepEqual(events.splice(0), ['6:overflow:total', '6:rst']);
  pacer.forget(5);
  t.mock.timers.tick(1000);
  assert.deepEqual(events, [], 'a forgotten connection sends nothing');
  pacer.deliver(7, [chunk('1', { delayMs: 1 }), chunk('2'), chunk('3'), chunk('4')], false);
  assert.deepEqual(events.splice(0), ['7:overflow:per-connection', '7:rst']);
  pacer.stop();
});

test('rules see the request as the engine routes it: query cut, slashes collapsed, token header present', () => {
  const { ask } = injector({
    rules: [
      parseFaultRule('v2-only', {
        action: 'status',
        status: '500',
        token: 'present',
        path: '/latest/meta-data/instance-id',
      }),
    ],
  });
  assert.equal(ask(get('//latest/meta-data/instance-id?x=1', [['x-aws-ec2-metadata-token', 'abc']])).status, 500);
  assert.equal(ask(get('/latest/meta-data/instance-id')).status, 200);
  assert.equal(ask(tokenPut()).status, 200);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  FaultSet,
  FaultSpecError,
  compilePathPattern,
  parseFaultRule,
  ruleFields,
  ruleMatches,
  type RequestFacts,
} from '../../src/faults/index.ts';

const facts = (over: Partial<RequestFacts> = {}): RequestFacts => ({
  method: 'GET',
  path: '/latest/meta-data/instance-id',
  hasToken: false,
  sourceAddress: '169.254.169.253',
  sourceMac: '02:00:00:00:00:01',
  ...over,
});

function specError(fn: () => unknown): FaultSpecError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof FaultSpecError, String(error));
    return error;
  }
  assert.fail('no error');
}

test('a plain path is a prefix; *, ** and ? are anchored globs', () => {
  assert.ok(compilePathPattern('/latest/api/token').matches('/latest/api/token'));
  assert.ok(compilePathPattern('/latest/meta-data/iam').matches('/latest/meta-data/iam/security-credentials/role'));
  const oneSegment = compilePathPattern('/latest/meta-data/iam/security-credentials/*');
  assert.ok(oneSegment.matches('/latest/meta-data/iam/security-credentials/role'));
  assert.ok(!oneSegment.matches('/latest/meta-data/iam/security-credentials/role/x'));
  assert.ok(!oneSegment.matches('/x/latest/meta-data/iam/security-credentials/role'));
  assert.ok(compilePathPattern('/*/meta-data/**').matches('/2021-07-15/meta-data/iam/info'));
  assert.ok(compilePathPattern('/latest/meta-data/ami-i?').matches('/latest/meta-data/ami-id'));
  assert.ok(!compilePathPattern('/a.b').matches('/aXb'), 'a dot is literal');
});

test('property: a glob without wildcards is exactly the path; ** matches any suffix', () => {
  const segment = fc.stringMatching(/^[a-z0-9.-]{1,8}$/);
  fc.assert(
    fc.property(
      fc.array(segment, { minLength: 1, maxLength: 5 }),
      fc.array(segment, { maxLength: 4 }),
      (head, tail) => {
        const path = `/${head.join('/')}`;
        assert.ok(compilePathPattern(`${path}/**`).matches(`${path}/${tail.join('/')}`));
        assert.ok(compilePathPattern(path).matches(path + (tail.length ? `/${tail.join('/')}` : '')), 'prefix');
        const star = compilePathPattern(`${path}/*`);
        assert.equal(star.matches(`${path}/${tail.join('/')}`), tail.length <= 1);
      },
    ),
    { numRuns: 500 },
  );
});

test('property: a rule matches exactly when every condition it sets holds', () => {
  const methods = fc.constantFrom('GET', 'PUT', 'HEAD');
  const paths = fc.constantFrom(
    '/latest/api/token',
    '/latest/meta-data/iam/security-credentials/r',
    '/latest/meta-data/instance-id',
  );
  fc.assert(
    fc.property(
      fc.record({
        method: fc.option(methods, { nil: undefined }),
        path: fc.option(fc.constantFrom('/latest/api', '/latest/meta-data/iam/**'), { nil: undefined }),
        token: fc.constantFrom('any', 'present', 'absent'),
      }),
      fc.record({ method: methods, path: paths, hasToken: fc.boolean() }),
      (condition, request) => {
        const fields: Record<string, string> = { action: 'drop', token: condition.token };
        if (condition.method) fields.method = condition.method;
        if (condition.path) fields.path = condition.path;
        const rule = parseFaultRule('r', fields);
        const expected =
          (condition.method === undefined || condition.method === request.method) &&
          (condition.path === undefined || compilePathPattern(condition.path).matches(request.path)) &&
          (condition.token === 'any' || (condition.token === 'present') === request.hasToken);
        assert.equal(ruleMatches(rule, facts(request)), expected);
      },
    ),
    { numRuns: 1000 },
  );
});

test('sources: an address, an IPv4 CIDR block or a MAC', () => {
  const rule = (source: string) => parseFaultRule('s', { action: 'drop', source });
  assert.ok(ruleMatches(rule('169.254.169.253'), facts()));
  assert.ok(ruleMatches(rule('169.254.0.0/16'), facts()));
  assert.ok(!ruleMatches(rule('198.18.0.0/15'), facts()));
  assert.ok(ruleMatches(rule('02:00:00:00:00:01'), facts()));
  assert.ok(!ruleMatches(rule('02:00:00:00:00:02'), facts()));
  assert.ok(ruleMatches(rule('fd00:ec2::253'), facts({ sourceAddress: 'fd00:ec2::253' })));
  assert.ok(!ruleMatches(rule('169.254.0.0/16'), facts({ sourceAddress: 'fd00:ec2::253' })));
});

test('every bad field is refused with the key that is wrong', () => {
  assert.equal(specError(() => parseFaultRule('x', {})).key, 'action');
  assert.equal(specError(() => parseFaultRule('x', { action: 'explode' })).key, 'action');
  assert.equal(specError(() => parseFaultRule('x', { action: 'delay' })).key, 'delay-ms');
  assert.equal(specError(() => parseFaultRule('x', { action: 'status' })).key, 'status');
  assert.equal(specError(() => parseFaultRule('x', { action: 'status', status: '200' })).key, 'status');
  assert.equal(specError(() => parseFaultRule('x', { action: 'drop', status: '500' })).key, 'status');
  assert.equal(specError(() => parseFaultRule('x', { action: 'drop', 'delay-ms': '5' })).key, 'delay-ms');
  assert.equal(specError(() => parseFaultRule('x', { action: 'drop', probability: '1.5' })).key, 'probability');
  assert.equal(specError(() => parseFaultRule('x', { action: 'drop', count: '0' })).key, 'count');
  assert.equal(specError(() => parseFaultRule('x', { action: 'drop', path: 'latest' })).key, 'path');
  assert.equal(specError(() => parseFaultRule('x', { action: 'drop', method: 'G T' })).key, 'method');
  assert.equal(specError(() => parseFaultRule('x', { action: 'drop', source: '300.1.1.1' })).key, 'source');
  assert.equal(specError(() => parseFaultRule('x', { action: 'drop', colour: 'red' })).key, 'colour');
  assert.equal(specError(() => parseFaultRule('bad name', { action: 'drop' })).key, 'name');
});

test('a rule reads back as the fields that define it', () => {
  const fields = {
    action: 'status',
    status: '500',
    method: 'GET',
    path: '/latest/meta-data/iam/**',
    token: 'present',
    count: '3',
    probability: '0.5',
    'delay-ms': '200',
    'start-after': '2',
    duration: '30',
  };
  const rule = parseFaultRule('outage', fields);
  assert.deepEqual(ruleFields(rule), fields);
  assert.deepEqual(ruleFields(parseFaultRule('outage', ruleFields(rule))), fields);
});

test('first matching rule wins; a count retires it; the window opens after start-after and closes after duration', () => {
  const set = new FaultSet(1);
  set.add(parseFaultRule('three-puts', { action: 'drop', method: 'PUT', count: '3' }), 0);
  set.add(parseFaultRule('later', { action: 'reset', 'start-after': '10', duration: '5' }), 0);
  const put = facts({ method: 'PUT', path: '/latest/api/token' });
  assert.deepEqual(
    [1, 2, 3, 4].map(() => set.decide(put, 0)?.rule.name),
    ['three-puts', 'three-puts', 'three-puts', undefined],
  );
  assert.equal(set.decide(facts(), 9_999), undefined);
  assert.equal(set.decide(facts(), 10_000)?.rule.name, 'later');
  assert.equal(set.decide(facts(), 14_999)?.rule.name, 'later');
  assert.equal(set.decide(facts(), 15_000), undefined);
  assert.deepEqual(
    set.list(15_000).map((r) => [r.name, r.state, r.injected]),
    [
      ['three-puts', 'spent', 3],
      ['later', 'expired', 2],
    ],
  );
  assert.equal(set.clear('later'), 1);
  assert.equal(set.clear(), 1);
  assert.equal(set.size, 0);
});

test('probability: the same seed replays the same injections; another rule does not shift them', () => {
  const run = (seed: number, withOther: boolean) => {
    const set = new FaultSet(seed);
    if (withOther) set.add(parseFaultRule('other', { action: 'drop', method: 'DELETE', probability: '0.5' }), 0);
    set.add(parseFaultRule('flaky', { action: 'status', status: '500', probability: '0.3' }), 0);
    return Array.from({ length: 200 }, () => (set.decide(facts(), 0) ? 1 : 0)).join('');
  };
  assert.equal(run(42, false), run(42, false));
  assert.equal(run(42, false), run(42, true));
  assert.notEqual(run(42, false), run(43, false));
  const hits = [...run(42, false)].filter((c) => c === '1').length;
  assert.ok(hits > 35 && hits < 85, `${hits} of 200 at p = 0.3`);
});

// Runs every line of ec2-behaviour-checklist.txt against a fresh engine (default instance, fixed clock).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ImdsEngine, TokenAuthority, defaultInstance } from '../../src/imds/index.ts';
import type { ImdsRequest, InstanceModel, MaintenanceCode, SpotAction } from '../../src/imds/index.ts';
import { NOW_MS, TOKEN_KEY, bodyText, fetchToken, makeEngine, randomBytes } from './helpers.ts';

interface Expectation {
  status: number;
  bodyMatches: RegExp[];
  bodyRejects: RegExp[];
  headers: Array<[string, string]>;
  absentHeaders: string[];
  hopLimit: number | undefined;
}

interface Case {
  lineNumber: number;
  text: string;
  flags: string[];
  method: string;
  target: string;
  headers: Array<[string, string]>;
  expect: Expectation;
}

const LINE = /^(?:\[([^\]]*)\]\s+)?([A-Za-z]+)\s+(\S+)((?:;\s*[^;]+?)*)\s+->\s+(\d{3})(.*?)(?:\s+#\s.*)?$/;

function parseExpectation(status: number, rest: string): Expectation {
  const expectation: Expectation = {
    status,
    bodyMatches: [],
    bodyRejects: [],
    headers: [],
    absentHeaders: [],
    hopLimit: undefined,
  };
  let remaining = rest.trim();
  while (remaining.length > 0) {
    const regex = /^(!?)\/((?:\\.|[^\\\n])*?)\/(?=\s|$)/.exec(remaining);
    const headerMatch = /^header:([^=]+)=(.*?)(?=\s+(?:header:|no-header:|hop=|!?\/)|$)/.exec(remaining);
    const absent = /^no-header:(\S+)/.exec(remaining);
    const hop = /^hop=(\d+)/.exec(remaining);
    let consumed: string;
    if (regex) {
      (regex[1] === '!' ? expectation.bodyRejects : expectation.bodyMatches).push(new RegExp(regex[2]));
      consumed = regex[0];
    } else if (headerMatch) {
      expectation.headers.push([headerMatch[1], headerMatch[2]]);
      consumed = headerMatch[0];
    } else if (absent) {
      expectation.absentHeaders.push(absent[1]);
      consumed = absent[0];
    } else if (hop) {
      expectation.hopLimit = Number(hop[1]);
      consumed = hop[0];
    } else {
      throw new Error(`cannot parse expectation "${remaining}"`);
    }
    remaining = remaining.slice(consumed.length).trim();
  }
  return expectation;
}

export function parseChecklist(text: string): Case[] {
  const cases: Case[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const match = LINE.exec(line);
    if (!match) throw new Error(`checklist line ${index + 1} does not parse: ${line}`);
    const [, flags = '', method, target, headerText, status, rest] = match;
    const headers = headerText
      .split(';')
      .map((part) => part.trim())
      .filter((part) => part !== '')
      .map((part): [string, string] => {
        const colon = part.indexOf(':');
        return [part.slice(0, colon).trim().toLowerCase(), part.slice(colon + 1).trim()];
      });
    cases.push({
      lineNumber: index + 1,
      text: line,
      flags: flags.split(/\s+/).filter((flag) => flag !== ''),
      method,
      target,
      headers,
      expect: parseExpectation(Number(status), rest),
    });
  });
  return cases;
}

function engineFor(flags: string[]): ImdsEngine {
  const instance: InstanceModel = defaultInstance();
  const deferred: Array<(engine: ImdsEngine) => void> = [];
  for (const flag of flags) {
    const [name, value = ''] = flag.split('=');
    switch (name) {
      case 'http-tokens':
        instance.options.httpTokens = value as 'optional' | 'required';
        break;
      case 'http-endpoint':
        instance.options.httpEndpoint = value as 'enabled' | 'disabled';
        break;
      case 'tags':
        instance.options.instanceMetadataTags = value as 'enabled' | 'disabled';
        break;
      case 'hop-limit':
        instance.options.httpPutResponseHopLimit = Number(value);
        break;
      case 'no-role':
        instance.iamRole = undefined;
        break;
      case 'user-data':
        instance.userData = new TextEncoder().encode(value);
        break;
      case 'asg':
        instance.autoscalingTargetLifecycleState = value;
        break;
      case 'tag':
        instance.tags[value] = 'tagged';
        break;
      case 'spot':
        deferred.push((engine) => engine.scheduleSpotInterruption(value as SpotAction, NOW_MS));
        break;
      case 'rebalance':
        deferred.push((engine) => engine.recommendRebalance(NOW_MS));
        break;
      case 'maintenance':
        deferred.push((engine) => engine.scheduleMaintenance({ code: value as MaintenanceCode }, NOW_MS));
        break;
      default:
        throw new Error(`unknown checklist flag ${flag}`);
    }
  }
  const { engine } = makeEngine(instance);
  for (const apply of deferred) apply(engine);
  return engine;
}

/** Replaces `token: KIND` with a real X-aws-ec2-metadata-token of that kind. */
function tokenHeader(engine: ImdsEngine, kind: string): [string, string] {
  const instanceId = defaultInstance().instanceId;
  switch (kind) {
    case 'valid': {
      // Issued while the endpoint is enabled, whatever the case's options.
      const options = engine.options;
      engine.setOptions({ httpEndpoint: 'enabled' });
      const token = fetchToken(engine);
      engine.setOptions(options);
      return ['x-aws-ec2-metadata-token', token];
    }
    case 'expired':
      return [
        'x-aws-ec2-metadata-token',
        new TokenAuthority(TOKEN_KEY, randomBytes, instanceId).issue(10, NOW_MS - 20_000),
      ];
    case 'forged':
      return [
        'x-aws-ec2-metadata-token',
        new TokenAuthority(new Uint8Array(32).fill(9), randomBytes, instanceId).issue(600, NOW_MS),
      ];
    case 'other-instance':
      return [
        'x-aws-ec2-metadata-token',
        new TokenAuthority(TOKEN_KEY, randomBytes, 'i-0123456789abcdef0').issue(600, NOW_MS),
      ];
    case 'malformed':
      return ['x-aws-ec2-metadata-token', 'not-a-token'];
    default:
      throw new Error(`unknown token kind ${kind}`);
  }
}

const cases = parseChecklist(readFileSync(new URL('./ec2-behaviour-checklist.txt', import.meta.url), 'utf8'));

test('the checklist has at least 80 behaviours', () => {
  assert.ok(cases.length >= 80, `only ${cases.length} lines`);
});

for (const c of cases) {
  test(`checklist:${c.lineNumber} ${c.text.replace(/\s+#.*$/, '').slice(0, 110)}`, () => {
    const engine = engineFor(c.flags);
    const headers = c.headers.map(([name, value]) =>
      name === 'token' ? tokenHeader(engine, value) : ([name, value] as [string, string]),
    );
    const request: ImdsRequest = { method: c.method, target: c.target, headers };
    const response = engine.handle(request, NOW_MS);
    const body = bodyText(response.body);
    assert.equal(response.status, c.expect.status, `status for line ${c.lineNumber}; body: ${body.slice(0, 200)}`);
    for (const pattern of c.expect.bodyMatches) assert.match(body, pattern);
    for (const pattern of c.expect.bodyRejects) assert.doesNotMatch(body, pattern);
    // A captured head (ec2-responses.ts) lists its own header lines; the fixed-value ones are checked here.
    const sent = response.captured
      ? response.captured.headers.flatMap(([key, value]) => (typeof value === 'string' ? [[key, value] as const] : []))
      : response.headers;
    for (const [name, value] of c.expect.headers) {
      const found = sent.find(([key]) => key.toLowerCase() === name.toLowerCase());
      assert.ok(found, `header ${name} missing`);
      assert.equal(found[1], value);
    }
    for (const name of c.expect.absentHeaders) {
      assert.ok(!sent.some(([key]) => key.toLowerCase() === name.toLowerCase()), `header ${name} present`);
    }
    if (c.expect.hopLimit !== undefined) assert.equal(response.hopLimit, c.expect.hopLimit);
  });
}

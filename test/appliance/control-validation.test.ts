// Control-socket requests checked against the rules the CLI uses: one definition, so they cannot disagree.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ControlValidationError, parseControlRequest } from '../../src/appliance/control-validation.ts';
import { buildProgram } from '../../src/cli/main.ts';
import { NOTICE_SECONDS } from '../../src/imds/value-rules.ts';
import { HOP_LIMIT } from '../../src/imds/metadata-options.ts';
import { ConfigError, parseConfig } from '../../src/config/index.ts';

function refusal(value: unknown): { code: string; message: string } | undefined {
  try {
    parseControlRequest(value);
    return undefined;
  } catch (error) {
    assert.ok(error instanceof ControlValidationError, String(error));
    return { code: error.code, message: error.message };
  }
}

const spot = (noticeSeconds: unknown) => ({
  op: 'events',
  command: { kind: 'spot-interruption', action: 'terminate', noticeSeconds },
});

/** What a CLI option's parser makes of a text: the number, or undefined when it refuses it. */
function cliParse(path: readonly string[], flag: string, text: string): number | undefined {
  const program = buildProgram()
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
  let command = program;
  for (const name of path)
    command = command.commands.find((c) => c.name() === name) ?? assert.fail(`no command ${name}`);
  const option = command.options.find((o) => o.long === flag);
  assert.ok(option?.parseArg, `the CLI parses ${flag}`);
  try {
    return option.parseArg(text, undefined) as unknown as number;
  } catch {
    return undefined;
  }
}

const cliNotice = (text: string) => cliParse(['events', 'spot-interruption'], '--notice', text);

/** Whether a config file takes this hop limit. */
function configTakesHopLimit(text: string): boolean {
  try {
    parseConfig(`[metadata-options]\nhttp-put-response-hop-limit = ${text}\n`, 'x.ini', () => new Uint8Array());
    return true;
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return false;
  }
}

describe('control-socket request validation', () => {
  it('refuses the notice of 1e300 seconds that once broke every later metadata request', () => {
    assert.equal(refusal(spot(1e300))?.code, 'BAD_VALUE');
    assert.match(refusal(spot(1e300))?.message ?? '', /notice seconds must be an integer from 0 to 999999/);
    for (const bad of [-1, 1.5, '120', null, Number.MAX_SAFE_INTEGER, undefined])
      assert.equal(refusal(spot(bad))?.code, 'BAD_VALUE', String(bad));
    assert.equal(refusal(spot(120)), undefined);
  });

  it('accepts exactly the notices the CLI accepts (one rule, property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -10, max: 2_000_000 }), fc.constantFrom(999_999, 1_000_000, 0)), (n) => {
        const viaCli = cliNotice(String(n));
        const viaSocket = refusal(spot(n)) === undefined;
        assert.equal(viaCli !== undefined, viaSocket, `notice ${n}`);
        assert.equal(viaSocket, n >= NOTICE_SECONDS.min && n <= NOTICE_SECONDS.max);
      }),
      { numRuns: 200 },
    );
  });

  it('checks every event field and refuses unknown ones', () => {
    const event = (command: Record<string, unknown>) => refusal({ op: 'events', command });
    assert.equal(event({ kind: 'spot-interruption', action: 'explode', noticeSeconds: 1 })?.code, 'BAD_VALUE');
    assert.equal(event({ kind: 'maintenance', code: 'system-reboot', notBeforeMs: 1e300 })?.code, 'BAD_VALUE');
    assert.equal(
      event({ kind: 'maintenance', code: 'system-reboot', description: 'x'.repeat(257) })?.code,
      'BAD_VALUE',
    );
    assert.equal(event({ kind: 'maintenance', code: 'system-reboot', description: 'line\nbreak' })?.code, 'BAD_VALUE');
    assert.equal(event({ kind: 'maintenance', code: 'reboot-now' })?.code, 'BAD_VALUE');
    assert.equal(event({ kind: 'cancel-maintenance', eventId: 42 })?.code, 'BAD_VALUE');
    assert.equal(event({ kind: 'lifecycle-state', state: '<script>' })?.code, 'BAD_VALUE');
    assert.equal(
      event({ kind: 'spot-interruption', action: 'stop', noticeSeconds: 1, extra: true })?.code,
      'BAD_REQUEST',
    );
    assert.equal(event({ kind: 'self-destruct' })?.code, 'BAD_REQUEST');
    assert.equal(
      event({ kind: 'maintenance', code: 'system-reboot', notBeforeMs: 1_800_000_000_000, description: 'patching' }),
      undefined,
    );
    assert.equal(event({ kind: 'lifecycle-state' }), undefined);
    assert.deepEqual(
      parseControlRequest({ op: 'events', command: { kind: 'lifecycle-state', state: 'Warmed:Running' } }),
      {
        op: 'events',
        command: { kind: 'lifecycle-state', state: 'Warmed:Running' },
      },
    );
  });

  it('refuses malformed envelopes', () => {
    for (const bad of [
      null,
      [],
      'options',
      { op: 'reboot' },
      { op: 'metrics', extra: 1 },
      { op: 'options', set: 'x' },
      { op: 'events' },
    ]) {
      assert.equal(refusal(bad)?.code, 'BAD_REQUEST', JSON.stringify(bad));
    }
    assert.equal(refusal({ op: 'identity-cert', kind: 'bogus' })?.code, 'BAD_VALUE');
    assert.deepEqual(parseControlRequest({ op: 'identity-cert', kind: 'ca' }), { op: 'identity-cert', kind: 'ca' });
    assert.deepEqual(parseControlRequest({ op: 'options', set: { httpPutResponseHopLimit: 2 } }), {
      op: 'options',
      set: { httpPutResponseHopLimit: 2 },
    });
  });

  it('checks option values with the rules the CLI, the config and the engine use (property)', () => {
    const options = (set: Record<string, unknown>) => refusal({ op: 'options', set });
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -5, max: 80 }), fc.constantFrom(0, 1, 64, 65)), (n) => {
        const viaSocket = options({ httpPutResponseHopLimit: n }) === undefined;
        assert.equal(viaSocket, n >= HOP_LIMIT.min && n <= HOP_LIMIT.max, `hop limit ${n}`);
        for (const path of [['serve'], ['options'], ['lab', 'up'], ['check-capture']]) {
          assert.equal(
            cliParse(path, '--hop-limit', String(n)) !== undefined,
            viaSocket,
            `${path.join(' ')} --hop-limit ${n}`,
          );
        }
        assert.equal(configTakesHopLimit(String(n)), viaSocket, `config hop limit ${n}`);
      }),
      { numRuns: 100 },
    );
    assert.equal(options({ httpPutResponseHopLimit: 1.5 })?.code, 'BAD_VALUE');
    assert.equal(options({ httpPutResponseHopLimit: '2' })?.code, 'BAD_VALUE');
    assert.equal(options({ httpTokens: 'always' })?.code, 'BAD_VALUE');
    assert.match(
      options({ httpEndpoint: 'on' })?.message ?? '',
      /http-endpoint must be "enabled" or "disabled", got "on"/,
    );
    assert.equal(options({ hopLimit: 2 })?.code, 'BAD_REQUEST');
    assert.deepEqual(
      parseControlRequest({ op: 'options', set: { httpTokens: 'required', instanceMetadataTags: 'enabled' } }),
      {
        op: 'options',
        set: { httpTokens: 'required', instanceMetadataTags: 'enabled' },
      },
    );
  });

  it('default TTL, fault seed and listen addresses: the flags and the config take the same values', () => {
    const config = (section: string, key: string, text: string) => {
      try {
        parseConfig(`[${section}]\n${key} = ${text}\n`, 'x.ini', () => new Uint8Array());
        return true;
      } catch (error) {
        assert.ok(error instanceof ConfigError, String(error));
        return false;
      }
    };
    for (const text of ['0', '1', '64', '255', '256', '-1', '1e2', '01', '4294967295', '4294967296']) {
      assert.equal(
        cliParse(['serve'], '--default-ttl', text) !== undefined,
        config('appliance', 'default-ttl', text),
        `default TTL ${text}`,
      );
      assert.equal(
        cliParse(['serve'], '--fault-seed', text) !== undefined,
        config('faults', 'seed', text),
        `fault seed ${text}`,
      );
    }
    for (const text of [
      '127.0.0.1:9469',
      'localhost:1',
      '[::1]:9470',
      '0.0.0.0:65535',
      'off',
      '9469',
      ':80',
      '127.0.0.1:0',
      '127.0.0.1:65536',
      'example.com:80',
      '[zz]:80',
      '010.0.0.1:80',
    ]) {
      const viaCli = (flag: string) => cliParse(['serve'], flag, text) !== undefined;
      assert.equal(viaCli('--metrics-listen'), config('appliance', 'metrics-listen', text), `metrics listen ${text}`);
      assert.equal(viaCli('--ec2-api-listen'), config('appliance', 'ec2-api-listen', text), `EC2 API listen ${text}`);
    }
    assert.equal(cliParse(['serve'], '--default-ttl', '0'), undefined);
    assert.equal(cliParse(['serve'], '--fault-seed', '4294967295'), 4294967295);
  });
});

// Faults on demand against real clients, asserted from the client's side and from the appliance's counters.
//
//   [ns ihNNNflt] curl, ping, python3-botocore, @smithy/credential-provider-imds
//        |  route 169.254.169.254/32 dev tap
//   [tap ihNNNtap] --> imds-hop serve (faults and throttle changed live with `imds-hop faults|throttle`)
//
// Every test holds whether the appliance answers with keep-alive or with EC2's Connection: close.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import {
  Appliance,
  REPO_ROOT,
  SERVICE_ADDRESS,
  cleanupAll,
  createNamespace,
  imdsHop,
  inNamespace,
  skipUnlessRoot,
  sweepStaleNamespaces,
} from './harness.ts';
import { defaultInstance } from '../../src/imds/instance.ts';
import { ControlClientError, callControl } from '../../src/cli/control-client.ts';
import { defaultControlSocket } from '../../src/appliance/control-protocol.ts';

const BASE = `http://${SERVICE_ADDRESS}`;
const CLIENTS = join(REPO_ROOT, 'test/integration/clients');
const ROLE = defaultInstance().iamRole?.name as string;
const CREDENTIALS_PATH = `/latest/meta-data/iam/security-credentials/${ROLE}`;

/** A client kept running in the namespace, driven one stdin line at a time, answering one JSON line each. */
class LineClient {
  private readonly lines: string[] = [];
  private waiting: ((line: string) => void) | undefined;
  readonly stderr: string[] = [];
  private readonly child: ChildProcess;

  constructor(namespace: string, command: string, args: string[]) {
    this.child = spawn('ip', ['netns', 'exec', namespace, command, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (this.waiting) {
        const resolve = this.waiting;
        this.waiting = undefined;
        resolve(line);
      } else this.lines.push(line);
    });
    this.child.stderr!.setEncoding('utf8').on('data', (text: string) => this.stderr.push(text));
  }

  async send(line: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    this.child.stdin!.write(`${line}\n`);
    const next =
      this.lines.shift() ??
      (await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no answer to "${line}" within ${timeoutMs} ms: ${this.stderr.join('')}`)),
          timeoutMs,
        );
        this.waiting = (text) => {
          clearTimeout(timer);
          resolve(text);
        };
      }));
    return JSON.parse(next) as Record<string, unknown>;
  }

  stop(): void {
    this.child.stdin!.end();
    this.child.kill();
  }
}

function metricValue(text: string, name: string, labelPart = ''): number {
  return text
    .split('\n')
    .filter((line) => (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) && line.includes(labelPart))
    .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

describe('faults on demand with real clients', { skip: skipUnlessRoot }, () => {
  let namespace: string;
  let appliance: Appliance;
  const control = () => ['--interface', appliance.interfaceName];

  async function ok(args: string[]): Promise<unknown> {
    const result = await imdsHop([...args, ...control()]);
    assert.equal(result.code, 0, `imds-hop ${args.join(' ')}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  }

  async function metrics(): Promise<string> {
    const result = await imdsHop(['metrics', ...control()]);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout;
  }

  const injected = async (rule: string) =>
    metricValue(await metrics(), 'imds_hop_faults_injected_total', `rule="${rule}"`);

  async function curl(args: string[]) {
    return inNamespace(namespace, 'curl', ['-sS', '--max-time', '10', ...args]);
  }

  before(async () => {
    sweepStaleNamespaces();
    namespace = createNamespace('flt');
    appliance = await Appliance.start(namespace, ['--log-level', 'info', '--fault-seed', '7']);
  });

  after(async () => {
    await appliance?.stop();
    cleanupAll();
  });

  test('a token PUT silently dropped: botocore and the JS SDK fall back to IMDSv1 after their 1 s timeout', async () => {
    await ok(['faults', 'add', 'token-timeout', '--method', 'PUT', '--path', '/latest/api/token', '--action', 'drop']);
    const noTokenBefore = metricValue(await metrics(), 'imds_hop_metadata_no_token_total');

    const boto = new LineClient(namespace, '/usr/bin/python3', [join(CLIENTS, 'botocore-session.py')]);
    try {
      const loaded = await boto.send('load');
      assert.match(String(loaded.access_key), /^ASIA/, 'botocore got no credentials through the v1 fallback');
      assert.ok(
        (loaded.elapsed as number) >= 0.95,
        `botocore answered in ${loaded.elapsed} s: the PUT was not waited for`,
      );
    } finally {
      boto.stop();
    }
    const smithy = new LineClient(namespace, process.execPath, [join(CLIENTS, 'smithy-session.mjs')]);
    try {
      const called = await smithy.send('call');
      assert.match(String(called.accessKeyId), /^ASIA/, JSON.stringify(called));
      assert.ok((called.elapsedMs as number) >= 950, `smithy answered in ${called.elapsedMs} ms`);
    } finally {
      smithy.stop();
    }
    // Each client sent one PUT that vanished, then read the role and its credentials without a token.
    assert.equal(await injected('token-timeout'), 2);
    assert.equal(metricValue(await metrics(), 'imds_hop_metadata_no_token_total') - noTokenBefore, 4);
    const listed = (await ok(['faults', 'list'])) as {
      rules: Array<{ name: string; injected: number; state: string }>;
    };
    assert.deepEqual(
      listed.rules.map((r) => [r.name, r.injected, r.state]),
      [['token-timeout', 2, 'active']],
    );
    await appliance.waitFor((r) => r.msg === 'fault injected' && r.rule === 'token-timeout');
  });

  test('the same drop with tokens required: neither client gets credentials', async () => {
    await ok(['options', '--http-tokens', 'required']);
    try {
      const boto = new LineClient(namespace, '/usr/bin/python3', [join(CLIENTS, 'botocore-session.py')]);
      try {
        assert.equal((await boto.send('load')).access_key, null);
      } finally {
        boto.stop();
      }
      const smithy = new LineClient(namespace, process.execPath, [join(CLIENTS, 'smithy-session.mjs')]);
      try {
        const called = await smithy.send('call');
        assert.equal(called.accessKeyId, undefined);
        assert.ok(called.error, 'smithy returned credentials');
      } finally {
        smithy.stop();
      }
      assert.ok(metricValue(await metrics(), 'imds_hop_metadata_no_token_rejected_total') >= 2);
    } finally {
      await ok(['options', '--http-tokens', 'optional']);
      await ok(['faults', 'clear']);
    }
  });

  test('the JS SDK keeps serving its cached credentials through a credential-path outage (static stability)', async () => {
    const smithy = new LineClient(namespace, process.execPath, [join(CLIENTS, 'smithy-session.mjs')]);
    try {
      const first = await smithy.send('call');
      assert.match(String(first.accessKeyId), /^ASIA/);
      await ok([
        'faults',
        'add',
        'credential-outage',
        '--path',
        '/latest/meta-data/iam/security-credentials/**',
        '--action',
        'status',
        '--status',
        '500',
      ]);
      const during = await smithy.send('call');
      assert.equal(
        during.accessKeyId,
        first.accessKeyId,
        `no cached credentials during the outage: ${JSON.stringify(during)}`,
      );
      // Static stability extends the expiration 5 to 10 minutes and says so.
      const extendedBy = Date.parse(String(during.expiration)) - Date.now();
      assert.ok(extendedBy > 4 * 60_000 && extendedBy <= 10 * 60_000 + 5_000, `expiration ${during.expiration}`);
      assert.ok(
        (during.warnings as string[]).some((w) => /credential expiration extension/.test(w)),
        JSON.stringify(during.warnings),
      );
      assert.ok((await injected('credential-outage')) >= 1);
      // A fresh provider has nothing to fall back on: the outage is real.
      const fresh = new LineClient(namespace, process.execPath, [join(CLIENTS, 'smithy-session.mjs')]);
      try {
        assert.ok((await fresh.send('call')).error);
      } finally {
        fresh.stop();
      }
    } finally {
      smithy.stop();
      await ok(['faults', 'clear', 'credential-outage']);
    }
  });

  test('botocore refreshes credentials that near expiry, and leaves far-off ones alone', async () => {
    const servedAccessKey = async () =>
      JSON.parse((await curl([`${BASE}${CREDENTIALS_PATH}`])).stdout).AccessKeyId as string;
    const served = async () => metricValue(await metrics(), 'imds_hop_credentials_served_total');

    // Six-hour credentials: ten minutes later botocore still holds them, without asking again.
    const far = new LineClient(namespace, '/usr/bin/python3', [join(CLIENTS, 'botocore-session.py')]);
    try {
      const loaded = await far.send('load');
      await ok(['credentials', 'rotate']);
      const before = await served();
      assert.equal((await far.send('advance 600')).access_key, loaded.access_key);
      assert.equal(await served(), before, 'botocore fetched credentials it did not need');
    } finally {
      far.stop();
    }

    // Credentials that expire in 15 minutes (the next set 5 minutes before): botocore extends their expiry by its
    // jitter (botocore's own static stability), then refreshes once its advisory window comes.
    const rotated = (await ok(['credentials', 'rotate', '--lifetime', '900', '--lead-time', '300'])) as {
      accessKeyId: string;
      expiration: string;
    };
    assert.ok(Date.parse(rotated.expiration) - Date.now() <= 900_000);
    const near = new LineClient(namespace, '/usr/bin/python3', [join(CLIENTS, 'botocore-session.py')]);
    try {
      const loaded = await near.send('load');
      assert.equal(loaded.access_key, rotated.accessKeyId);
      assert.ok(
        Date.parse(String(loaded.expiry)) > Date.parse(rotated.expiration),
        `botocore kept expiry ${loaded.expiry}`,
      );
      await ok(['credentials', 'rotate']);
      const next = await servedAccessKey();
      const before = await served();
      const refreshed = await near.send('advance 1000');
      assert.equal(refreshed.access_key, next, 'botocore did not refresh');
      assert.ok((await served()) > before, 'the appliance saw no refresh');
    } finally {
      near.stop();
    }
  });

  test('a client under the packet allowance sees timeouts; linklocal-allowance-exceeded counts exactly the dropped packets', async () => {
    await ok(['throttle', '--packet-allowance', '10', '--packet-burst', '10']);
    try {
      const before = (await appliance.counters())['linklocal-allowance-exceeded'] ?? 0;
      const ping = await inNamespace(
        namespace,
        'ping',
        ['-n', '-q', '-c', '40', '-i', '0.01', '-W', '2', SERVICE_ADDRESS],
        30_000,
      );
      const match = /(\d+) packets transmitted, (\d+) received/.exec(ping.stdout);
      assert.ok(match, ping.stdout + ping.stderr);
      const lost = Number(match[1]) - Number(match[2]);
      const exceeded = ((await appliance.counters())['linklocal-allowance-exceeded'] ?? 0) - before;
      // 40 echo requests in well under 3 s against 10 a second (and a burst of 10): most cannot pass.
      assert.ok(lost >= 5, `only ${lost} of 40 echo requests lost at 10 packets/s`);
      assert.equal(exceeded, lost, 'dropped packets and linklocal-allowance-exceeded differ');

      await ok([
        'throttle',
        '--packet-allowance',
        'off',
        '--source-packet-allowance',
        '4',
        '--source-packet-burst',
        '4',
      ]);
      const http = await inNamespace(
        namespace,
        process.execPath,
        [join(CLIENTS, 'http-client.mjs'), 'concurrent', '10', `${BASE}/latest/meta-data/instance-id`, '1500'],
        30_000,
      );
      const outcome = JSON.parse(http.stdout) as { ok: number; errors: string[] };
      assert.ok(
        outcome.errors.some((e) => /timeout/i.test(e)),
        `no client timed out: ${http.stdout}`,
      );
      assert.ok(outcome.ok < 10);
      assert.ok((await appliance.counters())['linklocal-allowance-exceeded-source-allowance'] > 0);
    } finally {
      await ok(['throttle', '--packet-allowance', 'off', '--source-packet-allowance', 'off']);
    }
  });

  test('429 mode answers curl with 429 Too Many Requests and an EC2 error page', async () => {
    await ok(['throttle', '--request-rate', '1', '--request-burst', '1']);
    try {
      // One curl, six requests back to back: well past one request a second however loaded the machine is.
      const url = `${BASE}/latest/meta-data/instance-id`;
      const result = await curl(['-w', '\n%{http_code}\n', url, url, url, url, url, url]);
      const statuses = result.stdout.split('\n').filter((line) => /^[0-9]{3}$/.test(line));
      assert.equal(statuses.length, 6, result.stdout);
      assert.ok(statuses.filter((s) => s === '429').length >= 3, statuses.join(','));
      assert.match(result.stdout, /<title>429 - Too Many Requests<\/title>/);
      assert.equal(await injected('throttle/request-rate'), statuses.filter((s) => s === '429').length);
    } finally {
      await ok(['throttle', '--request-rate', 'off']);
    }
  });

  test('a connection cap per source refuses the extra connections with RST, counted', async () => {
    // The allowance test before may leave connections whose last packets it dropped: they close when our
    // retransmissions meet the client's RST (or at the idle timeout), and the cap counts them. Wait them out, and
    // leave room for any still there, so this test's two connections fit under the cap.
    const established = async () => {
      const counters = await appliance.counters();
      return (
        (counters['tcp-connections-open'] ?? 0) -
        (counters['tcp-connections-time-wait'] ?? 0) -
        (counters['tcp-connections-half-open'] ?? 0)
      );
    };
    let left = await established();
    for (const deadline = Date.now() + 60_000; left > 0 && Date.now() < deadline; left = await established())
      await new Promise((resolve) => setTimeout(resolve, 500));
    await ok(['throttle', '--connections-per-source', String(2 + left)]);
    try {
      const http = await inNamespace(
        namespace,
        process.execPath,
        [join(CLIENTS, 'http-client.mjs'), 'concurrent', '12', `${BASE}/latest/meta-data/instance-id`, '5000'],
        30_000,
      );
      const outcome = JSON.parse(http.stdout) as { ok: number; errors: string[] };
      assert.ok(outcome.ok >= 2, http.stdout);
      assert.ok(
        outcome.errors.some((e) => /ECONNREFUSED|ECONNRESET/.test(e)),
        http.stdout,
      );
      assert.equal((await appliance.counters())['connections-refused-per-source-cap'], 12 - outcome.ok);
    } finally {
      await ok(['throttle', '--connections-per-source', 'off']);
    }
  });

  test('slow, reset, truncated, closed and failed answers, as curl sees them', async () => {
    const url = `${BASE}/latest/meta-data/instance-id`;
    const cases: Array<[string[], (r: { code: number; stdout: string; stderr: string }) => void]> = [
      [
        ['--action', 'delay', '--delay-ms', '1500'],
        (r) => {
          assert.equal(r.code, 0, r.stderr);
          assert.ok(Number(r.stdout.split('\n').pop()) >= 1.4, r.stdout);
        },
      ],
      [['--action', 'reset'], (r) => assert.equal(r.code, 56, r.stderr)], // recv failure: connection reset
      [['--action', 'truncate', '--truncate-bytes', '5'], (r) => assert.equal(r.code, 18, r.stderr)], // partial file
      [['--action', 'close'], (r) => assert.equal(r.code, 52, r.stderr)], // empty reply
      [['--action', 'status', '--status', '503'], (r) => assert.match(r.stdout, /503 - Service Unavailable/)],
    ];
    for (const [args, check] of cases) {
      await ok(['faults', 'add', 'once', '--path', '/latest/meta-data/instance-id', '--count', '1', ...args]);
      check(await curl(['-w', '\n%{time_total}', url]));
      assert.equal(
        (await curl([url])).stdout,
        defaultInstance().instanceId,
        `rule not retired after ${args.join(' ')}`,
      );
    }
    assert.ok((await injected('once')) >= 5);
  });

  test('credential trouble: expired credentials and a 200 carrying Code/Message', async () => {
    await ok([
      'faults',
      'add',
      'expired',
      '--path',
      CREDENTIALS_PATH,
      '--action',
      'expired-credentials',
      '--expired-seconds',
      '120',
      '--count',
      '1',
    ]);
    const expired = JSON.parse((await curl([`${BASE}${CREDENTIALS_PATH}`])).stdout);
    assert.equal(expired.Code, 'Success');
    assert.ok(Math.abs(Date.parse(expired.Expiration) - (Date.now() - 120_000)) < 5_000, expired.Expiration);

    await ok([
      'faults',
      'add',
      'role-error',
      '--path',
      CREDENTIALS_PATH,
      '--action',
      'credential-error',
      '--message',
      'EC2 cannot assume the role',
    ]);
    try {
      const failure = JSON.parse((await curl([`${BASE}${CREDENTIALS_PATH}`])).stdout);
      assert.deepEqual([failure.Code, failure.Message], ['Failure', 'EC2 cannot assume the role']);
      const boto = new LineClient(namespace, '/usr/bin/python3', [join(CLIENTS, 'botocore-session.py')]);
      try {
        assert.equal((await boto.send('load')).access_key, null, 'botocore took an error body for credentials');
      } finally {
        boto.stop();
      }
    } finally {
      await ok(['faults', 'clear']);
    }
  });

  test('the early-boot window: connections refused, then 401, then normal service', async () => {
    await ok(['faults', 'early-boot', '--refuse-seconds', '8', '--error-seconds', '5']);
    const seen: string[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const result = await curl([
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '--max-time',
        '3',
        `${BASE}/latest/meta-data/instance-id`,
      ]);
      const outcome = result.code === 7 ? 'refused' : result.stdout;
      if (seen.at(-1) !== outcome) seen.push(outcome);
      if (outcome === '200') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.deepEqual(seen, ['refused', '401', '200']);
    assert.ok((await appliance.counters())['connections-refused-early-boot'] >= 1);
  });

  test('bad rules are refused with the key that is wrong, by the CLI and by the appliance', async () => {
    const local = await imdsHop(['faults', 'add', 'x', '--action', 'status', '--status', '200', ...control()]);
    assert.notEqual(local.code, 0);
    assert.match(local.stderr, /status: 200 is out of range \(400\.\.599\)/);
    const throttle = await imdsHop(['throttle', '--packet-allowance', 'fast', ...control()]);
    assert.notEqual(throttle.code, 0);
    assert.match(throttle.stderr, /packet-allowance: "fast" is not an integer/);
    // The control socket runs the same parser: a client that skips the CLI's check gets the same answer.
    await assert.rejects(
      callControl(defaultControlSocket(appliance.interfaceName), {
        op: 'faults',
        command: { kind: 'add', name: 'x', fields: { action: 'status', status: '200' } },
      }),
      (error: unknown) =>
        error instanceof ControlClientError &&
        error.code === 'BAD_FAULT' &&
        /status: 200 is out of range/.test(error.message),
    );
  });
});

// Hostile traffic from inside the instance namespace, each attack bounded in count and time:
//
//   [ns ihNNNhost]  curl, python3 (kernel TCP, AF_PACKET raw frames) --tap ihNNNtap--> imds-hop serve
//                   spoofed sources 198.18.0.0/15 exist only inside the frames; nothing leaves the namespace
//
// Each test reproduces one attack from issue #13 and asserts the defence: SYN flood, request trickled byte by
// byte, ICMP error flood, stalled readers, lower-case methods, an out-of-range control value, SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  Appliance,
  REPO_ROOT,
  SERVICE_ADDRESS,
  cleanupAll,
  createNamespace,
  inNamespace,
  runSync,
  skipUnlessRoot,
  sweepStaleNamespaces,
  temporaryDirectory,
} from './harness.ts';

const APPLIANCE_MAC = '02:a9:fe:a9:fe:01';
const HOSTILE = join(REPO_ROOT, 'test/integration/clients/hostile.py');
const URL_ID = `http://${SERVICE_ADDRESS}/latest/meta-data/instance-id`;
const SYN_FLOOD_COUNT = 50_000;
const SYN_FLOOD_SECONDS = 10;

function rssKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? Number.NaN);
}

/** One control-socket request, raw: what a script (not the CLI) could send. */
function controlRequest(path: string, request: unknown): Promise<{ ok: boolean; code?: string; error?: string }> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(JSON.parse(text) as { ok: boolean; code?: string }));
    socket.on('error', reject);
    socket.write(`${JSON.stringify(request)}\n`);
  });
}

describe('hostile traffic', { skip: skipUnlessRoot }, () => {
  let namespace: string;
  let appliance: Appliance;
  let pid: number;

  const curl = (args: string[], timeoutS = 10) =>
    inNamespace(namespace, 'curl', ['-sS', '--max-time', String(timeoutS), ...args], (timeoutS + 5) * 1000);

  before(async () => {
    sweepStaleNamespaces();
    namespace = createNamespace('host');
    const userData = join(temporaryDirectory(), 'user-data');
    writeFileSync(userData, 'x'.repeat(16 * 1024)); // EC2's user-data limit: the largest response there is
    appliance = await Appliance.start(namespace, [
      '--mac',
      APPLIANCE_MAC,
      '--log-level',
      'info',
      '--request-header-timeout',
      '2',
      '--send-timeout',
      '5',
      '--user-data-file',
      userData,
      // The stalled readers pipeline requests, which only persistent connections allow (EC2's default closes
      // after each response: then every connection holds one response, and the same send timeout applies).
      '--connection',
      'keep-alive',
    ]);
    pid = Number(appliance.records.find((r) => typeof r.pid === 'number')?.pid);
    assert.ok(pid > 0);
  });

  after(async () => {
    await appliance?.stop();
    cleanupAll();
  });

  test(
    `a flood of ${SYN_FLOOD_COUNT} spoofed SYNs: SYN cookies keep answering a real client during and after it`,
    { timeout: 120_000 },
    async (t) => {
      const before = await appliance.counters();
      const flood = inNamespace(
        namespace,
        'python3',
        [
          HOSTILE,
          'syn-flood',
          appliance.interfaceName,
          APPLIANCE_MAC,
          String(SYN_FLOOD_COUNT),
          String(SYN_FLOOD_SECONDS),
        ],
        90_000,
      );
      let floodDone = false;
      void flood.then(() => (floodDone = true));
      // Real requests while the flood runs: each must be answered, and at least one must finish before it ends.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      let answeredDuringFlood = 0;
      let attempts = 0;
      while (!floodDone && attempts < 20) {
        attempts += 1;
        const served = await curl([URL_ID], 10);
        assert.equal(served.code, 0, `request ${attempts} during the flood: ${served.stderr}`);
        assert.match(served.stdout, /^i-[0-9a-f]+$/);
        if (!floodDone) answeredDuringFlood += 1;
      }
      const result = await flood;
      assert.equal(result.code, 0, result.stderr);
      const [sent, seconds] = result.stdout.trim().split(' ').map(Number);
      assert.ok((sent ?? 0) >= SYN_FLOOD_COUNT * 0.99, `flood sent ${sent} SYNs in ${seconds} s`);
      assert.ok(answeredDuringFlood >= 1, 'a request completed while the flood was still running');
      const afterFlood = await curl([URL_ID]);
      assert.equal(afterFlood.code, 0, 'answered right after the flood');
      const counters = await appliance.counters();
      const delta = (name: string) => (counters[name] ?? 0) - (before[name] ?? 0);
      // The tap's queue (like a NIC ring) drops what the appliance cannot read in time; of what it read, every SYN
      // past the table got a cookie and none was dropped.
      const tapStats = runSync('ip', ['-n', namespace, '-s', 'link', 'show', appliance.interfaceName]);
      const handled = delta('tcp-syn-cookies-sent') + delta('tcp-syns-received');
      t.diagnostic(
        `flood: ${sent} SYNs in ${seconds} s; appliance handled ${handled} (cookies ${delta('tcp-syn-cookies-sent')}, accepted ${delta('tcp-syn-cookies-accepted')}); ${answeredDuringFlood} requests answered during it`,
      );
      assert.ok(
        delta('tcp-syn-cookies-sent') >= 10_000,
        `syn-cookies-sent ${delta('tcp-syn-cookies-sent')}, SYNs handled ${handled}; tap: ${tapStats}`,
      );
      assert.ok((counters['tcp-connections-half-open'] ?? 0) <= 1024, 'the half-open table never grew past its bound');
      assert.equal(delta('tcp-syn-dropped-half-open-full'), 0, 'no SYN was dropped for a full table');
    },
  );

  test(
    'a request trickled one byte at a time gets 408 from the header timeout, however often bytes arrive',
    { timeout: 60_000 },
    async () => {
      const before = await appliance.counters();
      const slow = await inNamespace(namespace, 'python3', [HOSTILE, 'slow-header', SERVICE_ADDRESS, '0.25'], 40_000);
      assert.equal(slow.code, 0, slow.stderr);
      const [seconds, ...status] = slow.stdout.trim().split(' ');
      assert.equal(status.join(' '), 'HTTP/1.1 408 Request Timeout');
      assert.ok(Number(seconds) >= 2 && Number(seconds) < 6, `408 after ${seconds} s (timeout 2 s)`);
      const counters = await appliance.counters();
      assert.equal((counters['requests-header-timeout'] ?? 0) - (before['requests-header-timeout'] ?? 0), 1);
    },
  );

  test(
    '20,000 spoofed ICMP errors quoting packets never sent: every one counted, the log stays short',
    { timeout: 60_000 },
    async () => {
      const before = await appliance.counters();
      const linesBefore = appliance.records.length;
      const flood = await inNamespace(
        namespace,
        'python3',
        [HOSTILE, 'icmp-flood', appliance.interfaceName, APPLIANCE_MAC, '20000'],
        40_000,
      );
      assert.equal(flood.code, 0, flood.stderr);
      assert.ok(Number(flood.stdout.trim()) >= 19_800);
      const served = await curl([URL_ID]);
      assert.equal(served.code, 0);
      const counters = await appliance.counters();
      const unmatched = (counters['icmp-errors-unmatched'] ?? 0) - (before['icmp-errors-unmatched'] ?? 0);
      const received = (counters['icmp-time-exceeded-received'] ?? 0) - (before['icmp-time-exceeded-received'] ?? 0);
      // The tap's queue may drop some under the burst; every one the appliance read was checked and counted.
      assert.ok(received >= 5_000, `icmp-time-exceeded-received ${received}`);
      assert.equal(unmatched, received, 'every error read was refused: none quotes a segment we sent');
      const icmpLines = appliance.records.slice(linesBefore).filter((r) => /died|refused on the way/.test(r.msg));
      assert.equal(icmpLines.length, 0, 'none of them is logged as a response dying');
      assert.ok(appliance.records.length - linesBefore < 20, `${appliance.records.length - linesBefore} log lines`);
    },
  );

  test(
    '300 connections pipelining GETs and never reading: memory stays bounded, the send timeout resets them',
    { timeout: 120_000 },
    async (t) => {
      const before = await appliance.counters();
      const baseline = rssKiB(pid);
      const child = spawn(
        'ip',
        ['netns', 'exec', namespace, 'python3', HOSTILE, 'stalled-readers', SERVICE_ADDRESS, '300', '60'],
        {
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (text: Buffer) => (String(text).includes('ready') ? resolve() : undefined));
          child.once('exit', (code) => reject(new Error(`stalled-readers exited with ${code}`)));
        });
        let peak = baseline;
        const started = Date.now();
        let counters = await appliance.counters();
        while (Date.now() - started < 30_000) {
          peak = Math.max(peak, rssKiB(pid));
          counters = await appliance.counters();
          if (
            (counters['tcp-connections-reset-send-timeout'] ?? 0) -
              (before['tcp-connections-reset-send-timeout'] ?? 0) >=
            250
          )
            break;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
        const resets =
          (counters['tcp-connections-reset-send-timeout'] ?? 0) - (before['tcp-connections-reset-send-timeout'] ?? 0);
        const refused =
          (counters['tcp-send-refused-global-budget'] ?? 0) - (before['tcp-send-refused-global-budget'] ?? 0);
        assert.ok(resets + refused >= 250, `resets ${resets}, refused ${refused}`);
        // Unbounded, 300 stalled connections held up to 1 MiB each (~300 MiB); the shared budget is 64 MiB.
        const growthMiB = (peak - baseline) / 1024;
        t.diagnostic(
          `stalled readers: RSS ${(baseline / 1024).toFixed(0)} MiB -> peak ${(peak / 1024).toFixed(0)} MiB; resets ${resets}, budget refusals ${refused}`,
        );
        assert.ok(
          growthMiB < 160,
          `RSS grew by ${growthMiB.toFixed(0)} MiB (baseline ${(baseline / 1024).toFixed(0)} MiB)`,
        );
        const served = await curl([URL_ID]);
        assert.equal(served.code, 0, 'a real client is answered meanwhile');
      } finally {
        child.stdin.end();
        child.kill('SIGTERM');
      }
    },
  );

  test('"put" and "Put" are not PUT: 405 and no token, as for any unknown method', async () => {
    for (const method of ['put', 'Put']) {
      const answer = await curl([
        '-i',
        '-X',
        method,
        '-H',
        'X-aws-ec2-metadata-token-ttl-seconds: 60',
        `http://${SERVICE_ADDRESS}/latest/api/token`,
      ]);
      assert.equal(answer.code, 0, answer.stderr);
      assert.match(answer.stdout, /^HTTP\/1\.1 405 /);
      assert.doesNotMatch(answer.stdout, /X-Aws-Ec2-Metadata-Token-Ttl-Seconds/i);
    }
    const real = await curl([
      '-X',
      'PUT',
      '-H',
      'X-aws-ec2-metadata-token-ttl-seconds: 60',
      `http://${SERVICE_ADDRESS}/latest/api/token`,
    ]);
    assert.match(real.stdout, /^[A-Za-z0-9+/_=-]{40,}$/, 'the real PUT still gets a token');
  });

  test(
    'a spot notice of 1e300 s through the control socket is refused; the data path keeps serving; SIGTERM exits and frees the tap',
    { timeout: 60_000 },
    async () => {
      const socketPath = `/run/imds-hop/${appliance.interfaceName}.sock`;
      const reply = await controlRequest(socketPath, {
        op: 'events',
        command: { kind: 'spot-interruption', action: 'terminate', noticeSeconds: 1e300 },
      });
      assert.equal(reply.ok, false);
      assert.equal(reply.code, 'BAD_VALUE');
      const served = await curl([
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        `http://${SERVICE_ADDRESS}/latest/meta-data/spot/instance-action`,
      ]);
      assert.equal(served.stdout, '404', 'no event was scheduled, and the request was answered');
      const counters = await appliance.counters();
      assert.equal(counters['frame-handler-exceptions'] ?? 0, 0);
      const started = Date.now();
      const code = await appliance.stop();
      assert.equal(code, 0);
      assert.ok(Date.now() - started < 8_000, `exited after ${Date.now() - started} ms`);
      assert.throws(() => runSync('ip', ['-n', namespace, 'link', 'show', appliance.interfaceName]), 'the tap is gone');
    },
  );
});

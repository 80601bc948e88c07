// `imds-hop lab demo`: every scenario of the misconfiguration lab under every setting that matters, observed from
// the attacker's (or the container's) side, plus the capture assertions; a table, a verdict, and the artifacts
// (table as text and JSON, one pcap per interface and setting) under artifacts/lab/.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertNoTokenBeyondInstance,
  assertTimeExceeded,
  assertTokenTtl,
  readPcap,
  tokenResponseFrames,
  type AssertionResult,
} from './capture-assertions.ts';
import type { CaptureFiles, HttpOutcome, LabDriver, Setting, Side } from './lab-driver.ts';
import { netnsLab } from './netns-driver.ts';
import { ARTIFACTS_DIR, LAB } from './topology.ts';

export interface DemoRow {
  scenario: string;
  setting: string;
  check: string;
  expected: string;
  observed: string;
  pass: boolean;
  detail?: string;
}

interface DemoReport {
  rows: DemoRow[];
  pass: boolean;
  pcaps: string[];
  table: string;
}

const SETTINGS: Setting[] = [
  { httpTokens: 'optional', hopLimit: 1 },
  { httpTokens: 'optional', hopLimit: 2 },
  { httpTokens: 'required', hopLimit: 1 },
  { httpTokens: 'required', hopLimit: 2 },
];

function settingLabel(setting: Setting): string {
  return `${setting.httpTokens === 'optional' ? 'v1 allowed' : 'tokens required'}, hop ${setting.hopLimit}`;
}

function settingSlug(setting: Setting): string {
  return `${setting.httpTokens}-hop${setting.hopLimit}`;
}

const SERVICE = `http://${LAB.serviceAddress}`;
const CREDENTIALS_PATH = `/latest/meta-data/iam/security-credentials/${LAB.role}`;
const TOKEN_PATH = '/latest/api/token';
function putToken(lab: LabDriver, side: Side, url: string): Promise<HttpOutcome> {
  return lab.curl(side, url, ['-X', 'PUT', '-H', 'X-aws-ec2-metadata-token-ttl-seconds: 21600'], lab.tokenWaitSeconds);
}

function get(lab: LabDriver, side: Side, url: string, extra: string[] = []): Promise<HttpOutcome> {
  return lab.curl(side, url, extra, lab.requestSeconds);
}

/** One word for what the client got: what the table compares. */
function describe(outcome: HttpOutcome, asToken = false): string {
  if (outcome.exit === 28) return asToken ? 'no token (timed out)' : 'timed out';
  if (outcome.exit !== 0) return `curl failed (${outcome.exit})`;
  if (outcome.status === 200 && outcome.body.includes('"AccessKeyId"')) return '200 credentials';
  if (asToken && outcome.status === 200 && /^[A-Za-z0-9+/=_-]{16,}$/.test(outcome.body)) return 'token';
  if (outcome.status === 403 && outcome.body.includes('blocked by WAF')) return '403 from the WAF';
  return String(outcome.status);
}

function credentialsOrRefused(setting: Setting): string {
  return setting.httpTokens === 'optional' ? '200 credentials' : '401';
}

async function diedAtHopLogged(lab: LabDriver, mark: string, hopLimit: number, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const logged = (await lab.logSince(mark))
      .split('\n')
      .some((line) => line.includes('"tokenResponse":true') && line.includes(`token response died at hop ${hopLimit}`));
    if (logged || Date.now() >= deadline) return logged;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

type RowSink = (scenario: string, check: string, expected: string, observed: string, detail?: string) => void;

async function routerScenario(lab: LabDriver, setting: Setting, add: RowSink): Promise<void> {
  const scenario = '1 router/NAT';
  add(
    scenario,
    'attacker v1 GET credentials',
    credentialsOrRefused(setting),
    describe(await get(lab, 'attacker', SERVICE + CREDENTIALS_PATH)),
  );
  const logMark = await lab.logMark();
  const put = await putToken(lab, 'attacker', SERVICE + TOKEN_PATH);
  add(scenario, 'attacker token PUT', setting.hopLimit === 1 ? 'no token (timed out)' : 'token', describe(put, true));
  if (describe(put, true) === 'token') {
    const withToken = await get(lab, 'attacker', SERVICE + CREDENTIALS_PATH, [
      '-H',
      `X-aws-ec2-metadata-token: ${put.body}`,
    ]);
    add(scenario, 'attacker GET credentials with that token', '200 credentials', describe(withToken));
  }
  const logged = await diedAtHopLogged(lab, logMark, setting.hopLimit, setting.hopLimit === 1 ? 3000 : 300);
  add(
    scenario,
    `appliance logs "token response died at hop ${setting.hopLimit}"`,
    setting.hopLimit === 1 ? 'logged' : 'not logged',
    logged ? 'logged' : 'not logged',
  );
}

async function containerScenario(lab: LabDriver, setting: Setting, add: RowSink): Promise<void> {
  const scenario = '2 container';
  const put = await putToken(lab, 'container', SERVICE + TOKEN_PATH);
  add(
    scenario,
    'container token PUT (one bridge hop)',
    setting.hopLimit === 1 ? 'no token (timed out)' : 'token',
    describe(put, true),
  );
  add(
    scenario,
    'container v1 GET credentials',
    credentialsOrRefused(setting),
    describe(await get(lab, 'container', SERVICE + CREDENTIALS_PATH)),
  );
}

async function proxyScenarios(lab: LabDriver, setting: Setting, add: RowSink): Promise<void> {
  const proxy = `http://${lab.instanceAddress}:${LAB.proxyPort}`;
  add(
    '3 open reverse proxy',
    'token PUT via nginx (adds X-Forwarded-For)',
    '403',
    describe(await putToken(lab, 'attacker', proxy + TOKEN_PATH), true),
  );
  add(
    '3 open reverse proxy',
    'v1 GET credentials via nginx',
    credentialsOrRefused(setting),
    describe(await get(lab, 'attacker', proxy + CREDENTIALS_PATH)),
  );
  const waf = `http://${lab.instanceAddress}:${LAB.wafPort}`;
  add(
    '4 GET-only WAF proxy',
    'token PUT via the WAF',
    '403 from the WAF',
    describe(await putToken(lab, 'attacker', waf + TOKEN_PATH), true),
  );
  add(
    '4 GET-only WAF proxy',
    'v1 GET credentials via the WAF',
    credentialsOrRefused(setting),
    describe(await get(lab, 'attacker', waf + CREDENTIALS_PATH)),
  );
  const ssrf = `http://${lab.instanceAddress}:${LAB.ssrfPort}/fetch?url=${encodeURIComponent(SERVICE + CREDENTIALS_PATH)}`;
  add(
    '5 SSRF web app',
    'GET /fetch?url=<role credentials>',
    credentialsOrRefused(setting),
    describe(await get(lab, 'attacker', ssrf)),
  );
}

function assertionRow(
  result: AssertionResult,
  expectHolds: boolean,
): { expected: string; observed: string; detail: string } {
  return {
    expected: expectHolds ? 'holds' : 'violated',
    observed: result.ok ? 'holds' : 'violated',
    detail: result.detail,
  };
}

async function captureAssertions(setting: Setting, files: CaptureFiles, add: RowSink): Promise<void> {
  const tap = await readPcap(files.tap);
  const { tokens } = tokenResponseFrames(tap.frames);
  const stopped = setting.hopLimit === 1;
  const ttl = assertionRow(assertTokenTtl(tap, setting.hopLimit), true);
  add('capture', `tap: token frames leave with TTL ${setting.hopLimit}`, ttl.expected, ttl.observed, ttl.detail);
  const icmp = assertTimeExceeded(tap, true);
  add(
    'capture',
    'tap: router ICMP time-exceeded',
    stopped ? 'present' : 'absent',
    icmp.ok ? 'present' : 'absent',
    icmp.detail,
  );
  for (const side of ['attacker', 'container'] as const) {
    const beyond = assertionRow(assertNoTokenBeyondInstance(await readPcap(files[side]), tokens), stopped);
    add('capture', `${side} link: no token bytes beyond the instance`, beyond.expected, beyond.observed, beyond.detail);
  }
}

function formatTable(rows: DemoRow[]): string {
  const headers = ['scenario', 'setting', 'check', 'expected', 'observed', 'result'];
  const cells = rows.map((r) => [r.scenario, r.setting, r.check, r.expected, r.observed, r.pass ? 'PASS' : 'FAIL']);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const failed = rows.filter((r) => !r.pass).length;
  const verdict =
    failed === 0
      ? `VERDICT: PASS — all ${rows.length} checks behaved as EC2's IMDSv2 defences predict`
      : `VERDICT: FAIL — ${failed} of ${rows.length} checks differ from the expectation`;
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line), '', verdict, ''].join('\n');
}

/** Runs every scenario against the running lab; leaves the appliance with the last setting. */
export async function runDemo(
  print: (text: string) => void = (t) => process.stdout.write(t),
  lab: LabDriver = netnsLab,
  artifactsDir: string = ARTIFACTS_DIR,
): Promise<DemoReport> {
  mkdirSync(artifactsDir, { recursive: true });
  for (const name of readdirSync(artifactsDir))
    if (name.endsWith('.pcap') || name.startsWith('demo-table')) rmSync(join(artifactsDir, name));
  const rows: DemoRow[] = [];
  const pcaps: string[] = [];
  for (const setting of SETTINGS) {
    const label = settingLabel(setting);
    print(`--- ${label}\n`);
    await lab.setOptions(setting);
    const add: RowSink = (scenario, check, expected, observed, detail) => {
      const row: DemoRow = { scenario, setting: label, check, expected, observed, pass: expected === observed };
      if (detail) row.detail = detail;
      rows.push(row);
      print(`${row.pass ? 'PASS' : 'FAIL'}  ${scenario}: ${check}: expected ${expected}, observed ${observed}\n`);
    };
    const files: CaptureFiles = {
      tap: join(artifactsDir, `${settingSlug(setting)}-tap.pcap`),
      attacker: join(artifactsDir, `${settingSlug(setting)}-attacker.pcap`),
      container: join(artifactsDir, `${settingSlug(setting)}-container.pcap`),
    };
    const captures = await lab.startCaptures(files);
    try {
      await routerScenario(lab, setting, add);
      await containerScenario(lab, setting, add);
      // The proxies and the SSRF app sit on the instance itself: zero hops, so the hop limit never matters there.
      if (setting.hopLimit === 1) await proxyScenarios(lab, setting, add);
      await new Promise((resolve) => setTimeout(resolve, 300)); // the last retransmissions and ICMP errors
    } finally {
      await captures.stop();
    }
    pcaps.push(...Object.values(files));
    await captureAssertions(setting, files, add);
  }
  const table = formatTable(rows);
  const pass = rows.every((r) => r.pass);
  writeFileSync(join(artifactsDir, 'demo-table.txt'), table);
  writeFileSync(
    join(artifactsDir, 'demo-table.json'),
    `${JSON.stringify({ pass, settings: SETTINGS, rows, pcaps }, null, 2)}\n`,
  );
  return { rows, pass, pcaps, table };
}

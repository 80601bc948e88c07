// `imds-hop lab demo`: every scenario of the misconfiguration lab under every setting that matters, observed from
// the attacker's (or the container's) side, plus the capture assertions; a table, a verdict, and the artifacts
// (table as text and JSON, one pcap per interface and setting) under artifacts/lab/.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertNoTokenBeyondInstance,
  assertTimeExceeded,
  assertTokenTtl,
  readPcap,
  tokenResponseFrames,
  type AssertionResult,
} from './capture-assertions.ts';
import { startLabCapture, type RunningCapture } from './lab-capture.ts';
import { APPLIANCE_LOG, ARTIFACTS_DIR, CLI, LAB, run } from './topology.ts';

export interface Setting {
  httpTokens: 'optional' | 'required';
  hopLimit: number;
}

export interface DemoRow {
  scenario: string;
  setting: string;
  check: string;
  expected: string;
  observed: string;
  pass: boolean;
  detail?: string;
}

export interface DemoReport {
  rows: DemoRow[];
  pass: boolean;
  pcaps: string[];
  table: string;
}

export const SETTINGS: Setting[] = [
  { httpTokens: 'optional', hopLimit: 1 },
  { httpTokens: 'optional', hopLimit: 2 },
  { httpTokens: 'required', hopLimit: 1 },
  { httpTokens: 'required', hopLimit: 2 },
];

export function settingLabel(setting: Setting): string {
  return `${setting.httpTokens === 'optional' ? 'v1 allowed' : 'tokens required'}, hop ${setting.hopLimit}`;
}

export function settingSlug(setting: Setting): string {
  return `${setting.httpTokens}-hop${setting.hopLimit}`;
}

const SERVICE = `http://${LAB.serviceAddress}`;
const CREDENTIALS_PATH = `/latest/meta-data/iam/security-credentials/${LAB.role}`;
const TOKEN_PATH = '/latest/api/token';
/** Long enough for a live token response, short enough that a dead one does not slow the demo. */
const TOKEN_WAIT_SECONDS = 3;

interface HttpOutcome {
  exit: number;
  status: number;
  body: string;
}

async function curl(namespace: string, url: string, extra: string[] = [], maxSeconds = 10): Promise<HttpOutcome> {
  const result = await run('ip', [
    'netns', 'exec', namespace, 'curl', '-sS', '--noproxy', '*', '--max-time', String(maxSeconds),
    '-w', '\n%{http_code}', ...extra, url,
  ], (maxSeconds + 5) * 1000);
  const cut = result.stdout.lastIndexOf('\n');
  return { exit: result.code, status: Number(result.stdout.slice(cut + 1)) || 0, body: result.stdout.slice(0, cut) };
}

function putToken(namespace: string, url: string): Promise<HttpOutcome> {
  return curl(namespace, url, ['-X', 'PUT', '-H', 'X-aws-ec2-metadata-token-ttl-seconds: 21600'], TOKEN_WAIT_SECONDS);
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

function applianceLogFrom(offset: number): string {
  try {
    return readFileSync(APPLIANCE_LOG, 'utf8').slice(offset);
  } catch {
    return '';
  }
}

async function diedAtHopLogged(offset: number, hopLimit: number, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const logged = applianceLogFrom(offset)
      .split('\n')
      .some((line) => line.includes('"tokenResponse":true') && line.includes(`token response died at hop ${hopLimit}`));
    if (logged || Date.now() >= deadline) return logged;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function setOptions(setting: Setting): Promise<void> {
  const result = await run(process.execPath, [
    CLI, 'options', '--interface', LAB.tap, '--http-tokens', setting.httpTokens, '--hop-limit', String(setting.hopLimit),
  ]);
  if (result.code !== 0) throw new Error(`imds-hop options failed: ${result.stderr}`);
}

type RowSink = (scenario: string, check: string, expected: string, observed: string, detail?: string) => void;

async function routerScenario(setting: Setting, add: RowSink): Promise<void> {
  const scenario = '1 router/NAT';
  add(scenario, 'attacker v1 GET credentials', credentialsOrRefused(setting), describe(await curl(LAB.attacker, SERVICE + CREDENTIALS_PATH)));
  const logOffset = applianceLogFrom(0).length;
  const put = await putToken(LAB.attacker, SERVICE + TOKEN_PATH);
  add(scenario, 'attacker token PUT', setting.hopLimit === 1 ? 'no token (timed out)' : 'token', describe(put, true));
  if (describe(put, true) === 'token') {
    const withToken = await curl(LAB.attacker, SERVICE + CREDENTIALS_PATH, ['-H', `X-aws-ec2-metadata-token: ${put.body}`]);
    add(scenario, 'attacker GET credentials with that token', '200 credentials', describe(withToken));
  }
  const logged = await diedAtHopLogged(logOffset, setting.hopLimit, setting.hopLimit === 1 ? 3000 : 300);
  add(
    scenario,
    `appliance logs "token response died at hop ${setting.hopLimit}"`,
    setting.hopLimit === 1 ? 'logged' : 'not logged',
    logged ? 'logged' : 'not logged',
  );
}

async function containerScenario(setting: Setting, add: RowSink): Promise<void> {
  const scenario = '2 container';
  const put = await putToken(LAB.container, SERVICE + TOKEN_PATH);
  add(scenario, 'container token PUT (one bridge hop)', setting.hopLimit === 1 ? 'no token (timed out)' : 'token', describe(put, true));
  add(scenario, 'container v1 GET credentials', credentialsOrRefused(setting), describe(await curl(LAB.container, SERVICE + CREDENTIALS_PATH)));
}

async function proxyScenarios(setting: Setting, add: RowSink): Promise<void> {
  const proxy = `http://${LAB.instanceAddress}:${LAB.proxyPort}`;
  add('3 open reverse proxy', 'token PUT via nginx (adds X-Forwarded-For)', '403', describe(await putToken(LAB.attacker, proxy + TOKEN_PATH), true));
  add('3 open reverse proxy', 'v1 GET credentials via nginx', credentialsOrRefused(setting), describe(await curl(LAB.attacker, proxy + CREDENTIALS_PATH)));
  const waf = `http://${LAB.instanceAddress}:${LAB.wafPort}`;
  add('4 GET-only WAF proxy', 'token PUT via the WAF', '403 from the WAF', describe(await putToken(LAB.attacker, waf + TOKEN_PATH), true));
  add('4 GET-only WAF proxy', 'v1 GET credentials via the WAF', credentialsOrRefused(setting), describe(await curl(LAB.attacker, waf + CREDENTIALS_PATH)));
  const ssrf = `http://${LAB.instanceAddress}:${LAB.ssrfPort}/fetch?url=${encodeURIComponent(SERVICE + CREDENTIALS_PATH)}`;
  add('5 SSRF web app', 'GET /fetch?url=<role credentials>', credentialsOrRefused(setting), describe(await curl(LAB.attacker, ssrf)));
}

function assertionRow(result: AssertionResult, expectHolds: boolean): { expected: string; observed: string; detail: string } {
  return { expected: expectHolds ? 'holds' : 'violated', observed: result.ok ? 'holds' : 'violated', detail: result.detail };
}

async function captureAssertions(setting: Setting, files: Record<'tap' | 'attacker' | 'container', string>, add: RowSink): Promise<void> {
  const tap = await readPcap(files.tap);
  const { tokens } = tokenResponseFrames(tap.frames);
  const stopped = setting.hopLimit === 1;
  const ttl = assertionRow(assertTokenTtl(tap, setting.hopLimit), true);
  add('capture', `tap: token frames leave with TTL ${setting.hopLimit}`, ttl.expected, ttl.observed, ttl.detail);
  const icmp = assertTimeExceeded(tap, true);
  add('capture', 'tap: router ICMP time-exceeded', stopped ? 'present' : 'absent', icmp.ok ? 'present' : 'absent', icmp.detail);
  for (const side of ['attacker', 'container'] as const) {
    const beyond = assertionRow(assertNoTokenBeyondInstance(await readPcap(files[side]), tokens), stopped);
    add('capture', `${side} link: no token bytes beyond the instance`, beyond.expected, beyond.observed, beyond.detail);
  }
}

export function formatTable(rows: DemoRow[]): string {
  const headers = ['scenario', 'setting', 'check', 'expected', 'observed', 'result'];
  const cells = rows.map((r) => [r.scenario, r.setting, r.check, r.expected, r.observed, r.pass ? 'PASS' : 'FAIL']);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const failed = rows.filter((r) => !r.pass).length;
  const verdict = failed === 0
    ? `VERDICT: PASS — all ${rows.length} checks behaved as EC2's IMDSv2 defences predict`
    : `VERDICT: FAIL — ${failed} of ${rows.length} checks differ from the expectation`;
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line), '', verdict, ''].join('\n');
}

/** Runs every scenario against the running lab; leaves the appliance with the last setting. */
export async function runDemo(print: (text: string) => void = (t) => process.stdout.write(t)): Promise<DemoReport> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  for (const name of readdirSync(ARTIFACTS_DIR)) if (name.endsWith('.pcap') || name.startsWith('demo-table')) rmSync(join(ARTIFACTS_DIR, name));
  const rows: DemoRow[] = [];
  const pcaps: string[] = [];
  for (const setting of SETTINGS) {
    const label = settingLabel(setting);
    print(`--- ${label}\n`);
    await setOptions(setting);
    const add: RowSink = (scenario, check, expected, observed, detail) => {
      const row: DemoRow = { scenario, setting: label, check, expected, observed, pass: expected === observed };
      if (detail) row.detail = detail;
      rows.push(row);
      print(`${row.pass ? 'PASS' : 'FAIL'}  ${scenario}: ${check}: expected ${expected}, observed ${observed}\n`);
    };
    const files = {
      tap: join(ARTIFACTS_DIR, `${settingSlug(setting)}-tap.pcap`),
      attacker: join(ARTIFACTS_DIR, `${settingSlug(setting)}-attacker.pcap`),
      container: join(ARTIFACTS_DIR, `${settingSlug(setting)}-container.pcap`),
    };
    const captures: RunningCapture[] = [];
    try {
      captures.push(await startLabCapture(LAB.instance, LAB.tap, files.tap));
      captures.push(await startLabCapture(LAB.attacker, LAB.attackerDevice, files.attacker));
      captures.push(await startLabCapture(LAB.container, LAB.containerDevice, files.container));
      await routerScenario(setting, add);
      await containerScenario(setting, add);
      // The proxies and the SSRF app sit on the instance itself: zero hops, so the hop limit never matters there.
      if (setting.hopLimit === 1) await proxyScenarios(setting, add);
      await new Promise((resolve) => setTimeout(resolve, 300)); // the last retransmissions and ICMP errors
    } finally {
      for (const capture of captures) await capture.stop();
    }
    pcaps.push(...Object.values(files));
    await captureAssertions(setting, files, add);
  }
  const table = formatTable(rows);
  const pass = rows.every((r) => r.pass);
  writeFileSync(join(ARTIFACTS_DIR, 'demo-table.txt'), table);
  writeFileSync(join(ARTIFACTS_DIR, 'demo-table.json'), `${JSON.stringify({ pass, settings: SETTINGS, rows, pcaps }, null, 2)}\n`);
  return { rows, pass, pcaps, table };
}

// `imds-hop callers` as a table, and the checks of `imds-hop assert` and `check-capture` as a readable list and
// as JUnit XML (the format CI systems display). Pure: data in, text out.
import type { CallerStats } from './registry.ts';

export interface CheckResult {
  /** The condition, e.g. "no-v1". */
  check: string;
  /** What was checked: a caller, or the whole run. */
  subject: string;
  ok: boolean;
  detail: string;
}

function describeCaller(caller: CallerStats): string {
  const pids = caller.pids.length > 0 ? ` (pid ${caller.pids.join(', ')})` : '';
  return `${caller.identity.name}${pids}`;
}

function containerText(caller: CallerStats): string {
  const container = caller.identity.container;
  return container
    ? `${container.runtime}:${container.runtime === 'systemd' ? container.id : container.id.slice(0, 12)}`
    : '-';
}

function time(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

export function callersTable(callers: readonly CallerStats[]): string {
  const header = [
    'CALLER',
    'KIND',
    'CONTAINER',
    'PIDS',
    'V1',
    'V2',
    'CREDS 1.0',
    'CREDS 2.0',
    'LAST PATH',
    'FIRST SEEN',
    'LAST SEEN',
    'DETAIL',
  ];
  const rows = callers.map((caller) => {
    const id = caller.identity;
    const detail = [
      id.uid !== undefined ? `uid ${id.uid}` : '',
      id.cgroup ? `cgroup ${id.cgroup}` : '',
      id.netns ? `netns ${id.netns}` : '',
      id.originalAddress
        ? `via NAT as ${id.sourceAddress}`
        : id.kind !== 'process'
          ? `from ${id.sourceAddress}${id.sourceMac ? ` ${id.sourceMac}` : ''}`
          : '',
      caller.fallbacksToV1 > 0 ? `fell back to v1 ×${caller.fallbacksToV1}` : '',
      id.note ?? '',
    ]
      .filter((part) => part.length > 0)
      .join('; ');
    return [
      id.name,
      id.kind,
      containerText(caller),
      caller.pids.join(',') || '-',
      String(caller.v1 + caller.v1Rejected),
      String(caller.v2),
      String(caller.credentials['1.0']),
      String(caller.credentials['2.0']),
      caller.lastPath || '-',
      time(caller.firstSeenMs),
      time(caller.lastSeenMs),
      detail,
    ];
  });
  if (rows.length === 0) return 'no callers yet\n';
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] as string).length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] as number)))
      .join('  ');
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

interface AssertOptions {
  noV1?: boolean;
  noV1Credentials?: boolean;
  noTokenRejected?: boolean;
  /** Requests any one caller may make. */
  maxRequests?: number;
}

/** One result per offending caller for each condition asked for, or one passing result when none offends. */
export function evaluateAssertions(callers: readonly CallerStats[], options: AssertOptions): CheckResult[] {
  const results: CheckResult[] = [];
  const check = (name: string, offends: (caller: CallerStats) => string | undefined, passed: string) => {
    const failures = callers.flatMap((caller) => {
      const detail = offends(caller);
      return detail === undefined ? [] : [{ check: name, subject: describeCaller(caller), ok: false, detail }];
    });
    results.push(
      ...(failures.length > 0
        ? failures
        : [{ check: name, subject: 'all callers', ok: true, detail: `${passed} (${callers.length} callers checked)` }]),
    );
  };
  if (options.noV1) {
    check(
      'no-v1',
      (c) =>
        c.v1 + c.v1Rejected > 0
          ? `${c.v1 + c.v1Rejected} IMDSv1 request(s) without a token${c.v1Rejected ? ` (${c.v1Rejected} refused: tokens required)` : ''}, last ${c.lastPath}`
          : undefined,
      'no caller used IMDSv1',
    );
  }
  if (options.noV1Credentials) {
    check(
      'no-v1-credentials',
      (c) =>
        c.credentials['1.0'] > 0 ? `${c.credentials['1.0']} role credential fetch(es) without a token` : undefined,
      'no credentials served without a token',
    );
  }
  if (options.noTokenRejected) {
    check(
      'no-token-rejected',
      (c) => (c.tokensRejected > 0 ? `${c.tokensRejected} request(s) with an invalid or expired token` : undefined),
      'no token was rejected',
    );
  }
  if (options.maxRequests !== undefined) {
    const max = options.maxRequests;
    check(
      'max-requests',
      (c) => (c.requests > max ? `${c.requests} requests, more than ${max}` : undefined),
      `no caller made more than ${max} requests`,
    );
  }
  return results;
}

/** The readable list: a verdict line, then one line per result, failures first. */
export function resultsText(title: string, results: readonly CheckResult[]): string {
  const failed = results.filter((r) => !r.ok);
  const verdict =
    failed.length === 0
      ? `${title}: all ${results.length} checks passed`
      : `${title}: ${failed.length} of ${results.length} checks failed`;
  const lines = [...failed, ...results.filter((r) => r.ok)].map(
    (r) => `${r.ok ? 'PASS' : 'FAIL'} ${r.check}: ${r.subject} — ${r.detail}`,
  );
  return `${[verdict, ...lines].join('\n')}\n`;
}

function xml(text: string): string {
  return (
    text
      .replace(
        /[<>&"']/g,
        (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string,
      )
      // eslint-disable-next-line no-control-regex -- XML 1.0 forbids these control characters, so they are removed
      .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '')
  );
}

/** JUnit XML: one testsuite, one testcase per result, a <failure> on each failed one. */
export function junitXml(suite: string, results: readonly CheckResult[], timestampMs: number): string {
  const failures = results.filter((r) => !r.ok).length;
  const cases = results.map((r) => {
    const open = `    <testcase classname="${xml(`${suite}.${r.check}`)}" name="${xml(r.subject)}" time="0">`;
    const body = r.ok
      ? `\n      <system-out>${xml(r.detail)}</system-out>`
      : `\n      <failure message="${xml(r.detail)}" type="${xml(r.check)}">${xml(`${r.subject}: ${r.detail}`)}</failure>`;
    return `${open}${body}\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xml(suite)}" tests="${results.length}" failures="${failures}" errors="0">`,
    `  <testsuite name="${xml(suite)}" tests="${results.length}" failures="${failures}" errors="0" skipped="0" timestamp="${new Date(timestampMs).toISOString().slice(0, 19)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

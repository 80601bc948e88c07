// `imds-hop callers` (who called the metadata service), `imds-hop assert` (conditions on those callers for a CI
// pipeline) and `imds-hop check-capture` (the lab's packet-capture assertions on anyone's pcaps).
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import type { CallersSnapshot } from '../appliance/caller-tracking.ts';
import { callersTable, evaluateAssertions, junitXml, resultsText, type CheckResult } from '../callers/index.ts';
import { callControl } from './control-client.ts';
import { socketOf, withSocket, type SocketOptions } from './control.ts';
import {
  assertNoTokenBeyondInstance,
  assertTimeExceeded,
  assertTokenTtl,
  readPcap,
  tokenResponseFrames,
} from '../lab/capture-assertions.ts';
import { OperatorError } from '../errors/operator-error.ts';
import { byRule } from './control.ts';
import { HOP_LIMIT } from '../imds/metadata-options.ts';

/** A failure the operator can act on (bad file, nothing asked): printed as one line with its code. */
export class CallersCommandError extends OperatorError {}

function count(max: number) {
  return (text: string): number => {
    if (!/^[0-9]{1,9}$/.test(text) || Number(text) > max)
      throw new InvalidArgumentError(`expected an integer from 0 to ${max}`);
    return Number(text);
  };
}

async function fetchCallers(opts: SocketOptions & { from?: string }): Promise<CallersSnapshot> {
  if (opts.from) {
    try {
      return JSON.parse(readFileSync(opts.from, 'utf8')) as CallersSnapshot;
    } catch (error) {
      throw new CallersCommandError(
        'BAD_CALLERS_FILE',
        `cannot read callers from ${opts.from}: ${(error as Error).message}`,
      );
    }
  }
  const snapshot = (await callControl(socketOf(opts), { op: 'callers' })) as CallersSnapshot;
  if (!snapshot.enabled)
    throw new CallersCommandError('CALLERS_OFF', 'the appliance runs with --callers off: nothing was attributed');
  return snapshot;
}

/** Prints the verdict (JSON or a readable list), writes JUnit when asked, and fails the command on a failure. */
function finish(suite: string, results: CheckResult[], opts: { junit?: string; json?: boolean }): void {
  if (opts.junit) writeFileSync(opts.junit, junitXml(suite, results, Date.now()));
  const passed = results.every((r) => r.ok);
  if (opts.json) process.stdout.write(`${JSON.stringify({ suite, passed, results }, null, 2)}\n`);
  else (passed ? process.stdout : process.stderr).write(resultsText(suite, results));
  if (!passed) process.exitCode = 1;
}

export function addCallerCommands(program: Command): void {
  withSocket(
    program
      .command('callers')
      .description('who called the metadata service: caller, container, pids, v1/v2 requests, credentials by delivery'),
  )
    .option('--json', 'the whole snapshot as JSON (the input of "assert --from")')
    .action(async (opts: SocketOptions & { json?: boolean }) => {
      const snapshot = await fetchCallers(opts);
      process.stdout.write(opts.json ? `${JSON.stringify(snapshot, null, 2)}\n` : callersTable(snapshot.callers));
      if (!opts.json && snapshot.method?.method === 'fd-search')
        process.stderr.write(`callers are named by searching /proc fd tables: ${snapshot.method.reason}\n`);
    });

  withSocket(
    program
      .command('assert')
      .description('fail (exit 1, with a list of offending callers) when a condition on the callers does not hold'),
  )
    .option('--no-v1', 'no caller made an IMDSv1 request (a request without a token)')
    .option('--no-v1-credentials', 'no caller fetched role credentials without a token')
    .option('--no-token-rejected', 'no caller presented an invalid or expired token')
    .option('--max-requests <n>', 'no caller made more than N requests', count(1e9))
    .option('--junit <file>', 'also write the results as JUnit XML')
    .option('--json', 'print the results as JSON')
    .option('--from <file>', 'read callers from a saved "imds-hop callers --json" instead of the running appliance')
    .action(
      async (
        opts: SocketOptions & {
          v1: boolean;
          v1Credentials: boolean;
          tokenRejected: boolean;
          maxRequests?: number;
          junit?: string;
          json?: boolean;
          from?: string;
        },
      ) => {
        // commander's --no-X sets X to false; every check is off unless asked for.
        const options = {
          noV1: opts.v1 === false,
          noV1Credentials: opts.v1Credentials === false,
          noTokenRejected: opts.tokenRejected === false,
          maxRequests: opts.maxRequests,
        };
        if (
          !options.noV1 &&
          !options.noV1Credentials &&
          !options.noTokenRejected &&
          options.maxRequests === undefined
        ) {
          throw new CallersCommandError(
            'NOTHING_TO_ASSERT',
            'nothing to assert: give --no-v1, --no-v1-credentials, --no-token-rejected or --max-requests N',
          );
        }
        const snapshot = await fetchCallers(opts);
        finish('imds-hop assert', evaluateAssertions(snapshot.callers, options), opts);
      },
    );

  program
    .command('check-capture')
    .description(
      'check a pcap of the appliance link: token frames carry TTL = the hop limit, no token bytes beyond the hop',
    )
    .argument('<file>', 'pcap taken on the appliance link (e.g. by "imds-hop capture")')
    .option('--hop-limit <n>', 'the hop limit every token-carrying frame must carry', byRule(HOP_LIMIT.fromText), 1)
    .option(
      '--token-must-not-appear-on <capture>',
      'a pcap taken beyond the hop limit: no token response or token bytes may be in it',
    )
    .option(
      '--expect-time-exceeded',
      "the appliance link's capture must hold a router's ICMP time-exceeded for a token response",
    )
    .option('--junit <file>', 'also write the results as JUnit XML')
    .option('--json', 'print the results as JSON')
    .action(
      async (
        file: string,
        opts: {
          hopLimit: number;
          tokenMustNotAppearOn?: string;
          expectTimeExceeded?: boolean;
          junit?: string;
          json?: boolean;
        },
      ) => {
        const results: CheckResult[] = [];
        const record = (subject: string, result: { name: string; ok: boolean; detail: string }) =>
          results.push({ check: result.name, subject, ok: result.ok, detail: result.detail });
        const tap = await readPcap(file).catch((error: Error) => {
          throw new CallersCommandError('BAD_CAPTURE', error.message);
        });
        record(file, assertTokenTtl(tap, opts.hopLimit));
        if (opts.tokenMustNotAppearOn) {
          const beyond = await readPcap(opts.tokenMustNotAppearOn).catch((error: Error) => {
            throw new CallersCommandError('BAD_CAPTURE', error.message);
          });
          record(
            opts.tokenMustNotAppearOn,
            assertNoTokenBeyondInstance(beyond, tokenResponseFrames(tap.frames).tokens),
          );
        }
        if (opts.expectTimeExceeded) record(file, assertTimeExceeded(tap, true));
        finish('imds-hop check-capture', results, opts);
      },
    );
}

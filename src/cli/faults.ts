// `imds-hop faults add|list|clear|early-boot|seed` and `imds-hop throttle`: faults on demand in a running appliance.
// Options are generated from the fault layer's key lists and checked with its parsers before anything is sent, so
// the CLI, the ini file and the control socket accept exactly the same rules.
import { Command, InvalidArgumentError } from 'commander';
import {
  EARLY_BOOT_KEYS,
  FaultSpecError,
  NO_THROTTLE,
  RULE_KEYS,
  THROTTLE_KEYS,
  parseEarlyBoot,
  parseFaultRule,
  parseThrottle,
} from '../faults/index.ts';
import type { ControlRequest } from '../appliance/control-protocol.ts';
import { callControl } from './control-client.ts';
import { socketOf, withSocket, type SocketOptions } from './control.ts';
import { byRule } from './control.ts';
import { FAULT_SEED } from '../imds/value-rules.ts';

async function call(opts: SocketOptions, request: ControlRequest): Promise<void> {
  const result = await callControl(socketOf(opts), request);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

/** commander's camelCase option values back to the kebab-case keys the fault layer defines. */
function fieldsFrom(opts: Record<string, unknown>, keys: readonly string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const key of keys) {
    const value = opts[key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())];
    if (typeof value === 'string') fields[key] = value;
  }
  return fields;
}

/** Checks fields locally with the appliance's own parser, so a typo fails before the socket is opened. */
function checkLocally(parse: () => unknown): void {
  try {
    parse();
  } catch (error) {
    if (error instanceof FaultSpecError) throw new InvalidArgumentError(`--${error.message}`);
    throw error;
  }
}

const RULE_HELP: Record<string, string> = {
  method: 'match these methods, e.g. PUT or GET,HEAD (default: any)',
  path: 'match a path prefix, or a glob with * (one segment), ** (any) and ? (default: any)',
  token: 'any | present | absent: match on the X-aws-ec2-metadata-token header',
  source: 'match a source: IPv4 address or CIDR block, IPv6 address, or MAC',
  action: 'delay | drop | reset | close | status | truncate | expired-credentials | credential-error',
  'delay-ms': 'wait this long first (the whole point of action delay)',
  status: "action status: the HTTP status to answer, 400..599, with EC2's error page",
  'truncate-bytes': 'action truncate: body bytes sent before the connection closes',
  'expired-seconds': 'action expired-credentials: how long ago the served credentials expired (default 60)',
  code: 'action credential-error: the Code field (default Failure)',
  message: 'action credential-error: the Message field',
  probability: 'apply to this share of matching requests, 0..1 (seeded, reproducible)',
  count: 'retire after this many injections',
  'start-after': 'seconds from now before the rule applies',
  duration: 'seconds the rule applies for, once started',
};

export function addFaultCommands(program: Command): void {
  const faults = program
    .command('faults')
    .description('inject faults into a running appliance: slow, dropped, reset or wrong answers');
  const add = withSocket(
    faults
      .command('add')
      .description('add (or replace) a fault rule')
      .argument('<name>', 'the rule name, used in logs and metrics'),
  );
  for (const key of RULE_KEYS) add.option(`--${key} <value>`, RULE_HELP[key]);
  add.action(async (name: string, opts: Record<string, unknown> & SocketOptions) => {
    const fields = fieldsFrom(opts, RULE_KEYS);
    checkLocally(() => parseFaultRule(name, fields));
    await call(opts, { op: 'faults', command: { kind: 'add', name, fields } });
  });
  withSocket(faults.command('list').description('show the rules, their state and how often each fired')).action(
    (opts: SocketOptions) => call(opts, { op: 'faults', command: { kind: 'list' } }),
  );
  withSocket(
    faults
      .command('clear')
      .description('remove one rule, or all')
      .argument('[name]', 'the rule to remove (default: all)'),
  ).action((name: string | undefined, opts: SocketOptions) =>
    call(opts, { op: 'faults', command: name === undefined ? { kind: 'clear' } : { kind: 'clear', name } }),
  );
  const boot = withSocket(
    faults
      .command('early-boot')
      .description('replay an unsteady launch from now: refuse connections, then errors, then serve'),
  );
  boot
    .option('--refuse-seconds <s>', 'refuse connections (RST) this long')
    .option('--error-seconds <s>', 'then answer every request with an error this long')
    .option('--error-status <status>', '401 or 404 (default 401)');
  boot.action(async (opts: Record<string, unknown> & SocketOptions) => {
    const fields = fieldsFrom(opts, EARLY_BOOT_KEYS);
    checkLocally(() => parseEarlyBoot(fields));
    await call(opts, { op: 'faults', command: { kind: 'early-boot', fields } });
  });
  withSocket(
    faults
      .command('seed')
      .description("restart every rule's probability rolls from this seed")
      .argument('<seed>', '0..4294967295'),
  ).action((seed: string, opts: SocketOptions) => {
    return call(opts, { op: 'faults', command: { kind: 'seed', seed: byRule(FAULT_SEED.fromText)(seed) } });
  });

  const throttle = withSocket(
    program
      .command('throttle')
      .description("show or change a running appliance's throttling (each limit: a number, or off)"),
  );
  throttle
    .option('--packet-allowance <pps>', 'packets/s to the service over the interface; excess dropped before TCP')
    .option('--packet-burst <n>', 'packets the interface allowance can absorb at once (default: one second)')
    .option('--source-packet-allowance <pps>', 'packets/s from one source address')
    .option('--source-packet-burst <n>', 'burst of the per-source allowance (default: one second)')
    .option('--connections-per-source <n>', 'simultaneous connections per source; more are refused with RST')
    .option('--request-rate <rps>', 'requests/s, past which the answer is 429 Too Many Requests')
    .option('--request-burst <n>', 'burst of the request rate (default: one second)');
  throttle.action(async (opts: Record<string, unknown> & SocketOptions) => {
    const fields = fieldsFrom(opts, THROTTLE_KEYS);
    checkLocally(() => parseThrottle(NO_THROTTLE, fields));
    await call(opts, Object.keys(fields).length > 0 ? { op: 'throttle', set: fields } : { op: 'throttle' });
  });
}

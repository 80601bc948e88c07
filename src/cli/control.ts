// `imds-hop options | events | metrics | identity-cert`: talk to a running appliance over its control socket.
import { Command, InvalidArgumentError, Option } from 'commander';
import { defaultControlSocket, type ControlRequest, type EventCommand } from '../appliance/control-protocol.ts';
import { callControl } from './control-client.ts';
import type { MetadataOptions } from '../imds/instance.ts';
import { CERTIFICATE_KINDS } from '../imds/identity.ts';
import { HOP_LIMIT, HTTP_TOKENS, TOGGLES } from '../imds/metadata-options.ts';
import {
  EVENT_DESCRIPTION,
  EVENT_ID,
  EVENT_TIME_MS,
  LIFECYCLE_STATE,
  MAINTENANCE_CODE,
  NOTICE_SECONDS,
  SPOT_ACTION,
  type SpotAction,
} from '../imds/value-rules.ts';

/** A shared rule (imds/value-rules.ts) as a commander argument parser: the control socket applies the same one. */
export function byRule<In, T>(check: (value: In) => T) {
  return (value: In): T => {
    try {
      return check(value);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}

const hopLimit = byRule(HOP_LIMIT.fromText);
const seconds = byRule(NOTICE_SECONDS.fromText);
const description = byRule(EVENT_DESCRIPTION.check);

function isoTime(text: string): number {
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(ms)) {
    throw new InvalidArgumentError('expected an ISO-8601 time like 2026-11-25T10:00:00Z');
  }
  return byRule(EVENT_TIME_MS.check)(ms);
}

/** Adds --interface / --control-socket to a command; the socket defaults to the interface's. */
export function withSocket(command: Command): Command {
  return command
    .option('--interface <name>', 'the interface the appliance serves (selects its control socket)', 'imds0')
    .option('--control-socket <path>', 'control socket path (default: /run/imds-hop/<interface>.sock)');
}

/** What withSocket adds to a command's options. */
export interface SocketOptions {
  interface: string;
  controlSocket?: string;
}

export function socketOf(opts: SocketOptions): string {
  return opts.controlSocket ?? defaultControlSocket(opts.interface);
}

async function call(opts: SocketOptions, request: ControlRequest): Promise<unknown> {
  return callControl(socketOf(opts), request);
}

function print(value: unknown): void {
  process.stdout.write(typeof value === 'string' ? value : `${JSON.stringify(value, null, 2)}\n`);
}

export function addControlCommands(program: Command): void {
  withSocket(
    program
      .command('options')
      .description("show or change a running appliance's metadata options (like modify-instance-metadata-options)")
      .addOption(
        new Option('--http-tokens <mode>', 'require session tokens (IMDSv2) or not').choices(HTTP_TOKENS.choices),
      )
      .addOption(new Option('--http-endpoint <state>', 'serve metadata at all').choices(TOGGLES))
      .option('--hop-limit <n>', 'http-put-response-hop-limit: IP TTL of token responses (1..64)', hopLimit)
      .option('--http-put-response-hop-limit <n>', 'the same, by its EC2 API name', hopLimit)
      .addOption(new Option('--instance-metadata-tags <state>', 'serve tags/instance').choices(TOGGLES))
      .addOption(new Option('--http-protocol-ipv6 <state>', 'the IPv6 endpoint').choices(TOGGLES)),
  ).action(async (opts) => {
    const set: Partial<MetadataOptions> = {};
    if (opts.httpTokens) set.httpTokens = opts.httpTokens;
    if (opts.httpEndpoint) set.httpEndpoint = opts.httpEndpoint;
    if (opts.hopLimit !== undefined) set.httpPutResponseHopLimit = opts.hopLimit;
    if (opts.httpPutResponseHopLimit !== undefined) set.httpPutResponseHopLimit = opts.httpPutResponseHopLimit;
    if (opts.instanceMetadataTags) set.instanceMetadataTags = opts.instanceMetadataTags;
    if (opts.httpProtocolIpv6) set.httpProtocolIpv6 = opts.httpProtocolIpv6;
    print(await call(opts, Object.keys(set).length > 0 ? { op: 'options', set } : { op: 'options' }));
  });

  const events = program
    .command('events')
    .description('trigger the instance events IMDS reports: spot interruption, rebalance, scheduled maintenance');
  const eventCommand = (
    name: string,
    description: string,
    build: (args: string[], opts: Record<string, unknown>) => EventCommand,
  ) => {
    const command = withSocket(events.command(name).description(description));
    return command.action(async (...received: unknown[]) => {
      const cmd = received[received.length - 1] as Command;
      const opts = cmd.opts() as Record<string, unknown> & SocketOptions;
      print(await call(opts, { op: 'events', command: build(cmd.args, opts) }));
    });
  };
  eventCommand('spot-interruption', 'announce a spot interruption (spot/instance-action)', (_args, opts) => ({
    kind: 'spot-interruption',
    action: opts.action as SpotAction,
    noticeSeconds: opts.notice as number,
  }))
    .addOption(
      new Option('--action <action>', 'what happens to the instance').choices(SPOT_ACTION.choices).default('terminate'),
    )
    .option('--notice <seconds>', 'seconds until the interruption', seconds, 120);
  eventCommand('rebalance', 'recommend a rebalance (events/recommendations/rebalance)', () => ({ kind: 'rebalance' }));
  eventCommand('maintenance', 'schedule a maintenance event (events/maintenance/scheduled)', (_args, opts) => ({
    kind: 'maintenance',
    code: opts.code as Extract<EventCommand, { kind: 'maintenance' }>['code'],
    ...(opts.description ? { description: opts.description as string } : {}),
    ...(opts.notBefore !== undefined ? { notBeforeMs: opts.notBefore as number } : {}),
    ...(opts.notAfter !== undefined ? { notAfterMs: opts.notAfter as number } : {}),
  }))
    .addOption(new Option('--code <code>', 'event code').choices(MAINTENANCE_CODE.choices).default('system-reboot'))
    .option('--description <text>', 'event description', description)
    .option('--not-before <time>', 'ISO-8601 start of the window', isoTime)
    .option('--not-after <time>', 'ISO-8601 end of the window', isoTime);
  eventCommand('cancel', 'cancel a scheduled maintenance event by id', (args) => ({
    kind: 'cancel-maintenance',
    eventId: byRule(EVENT_ID.check)(args[0] as string),
  })).argument('<event-id>', 'the id shown by "events list"');
  eventCommand('lifecycle-state', 'set or clear autoscaling/target-lifecycle-state', (args) => ({
    kind: 'lifecycle-state',
    state: args[0] === 'none' ? undefined : byRule(LIFECYCLE_STATE.check)(args[0] as string),
  })).argument('<state>', 'e.g. InService, Terminated, or "none" to clear');
  eventCommand('clear', 'withdraw every event', () => ({ kind: 'clear' }));
  eventCommand('list', 'show the current events', () => ({ kind: 'list' }));

  const credentials = program.command('credentials').description('the role credentials the instance serves');
  withSocket(
    credentials
      .command('rotate')
      .description('replace the role credentials now, as EC2 does before they expire')
      .option('--lifetime <seconds>', "the new set expires this long from now (default: the role's lifetime)", seconds)
      .option(
        '--lead-time <seconds>',
        "the next set appears this long before the new one expires (default: the role's refresh)",
        seconds,
      ),
  ).action(async (opts) =>
    print(
      await call(opts, {
        op: 'rotate-credentials',
        ...(opts.lifetime !== undefined ? { lifetimeSeconds: opts.lifetime } : {}),
        ...(opts.leadTime !== undefined ? { leadTimeSeconds: opts.leadTime } : {}),
      }),
    ),
  );

  withSocket(
    program.command('metrics').description('print the appliance metrics in the Prometheus text format'),
  ).action(async (opts) => print(await call(opts, { op: 'metrics' })));
  withSocket(
    program
      .command('identity-cert')
      .description(
        'print the certificate that verifies one instance identity signature (PEM), or the lab CA that issued them',
      )
      .addOption(
        new Option('--kind <kind>', 'signature (RSA/SHA-256), pkcs7 (DSA/SHA-1), rsa2048 (RSA-2048/SHA-256) or ca')
          .choices([...CERTIFICATE_KINDS])
          .default('rsa2048'),
      ),
  ).action(async (opts) => print(await call(opts, { op: 'identity-cert', kind: opts.kind })));
}

// The `imds-hop` command.
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseIpv4Address } from '../wire/index.ts';
import { serve } from '../appliance/daemon.ts';
import { SERVE_DEFAULTS, type ServeOptions } from '../appliance/serve-settings.ts';
import { parseListenAddress } from '../appliance/metrics.ts';
import { connectionPolicy } from '../config/index.ts';
import { addControlCommands, byRule } from './control.ts';
import { HOP_LIMIT, HTTP_TOKENS, TOGGLES } from '../imds/metadata-options.ts';
import { IMDS_SUPPORT } from '../imds/launch-options.ts';
import { DEFAULT_TTL, FAULT_SEED, UNICAST_MAC } from '../imds/value-rules.ts';
import { addLabCommands } from './lab.ts';
import { addFaultCommands } from './faults.ts';
import { addCallerCommands } from './callers.ts';
import { addEc2ApiCommands } from './ec2-api.ts';
import { addStatusCommand } from './status.ts';
import { DEFAULT_EC2_API_LISTEN } from '../appliance/ec2-api-wiring.ts';
import { parseEc2ApiListen } from '../ec2-api/index.ts';
import { OPERATOR_ERROR_EXIT_STATUS, OperatorError } from '../errors/operator-error.ts';
import { createLogger } from './log.ts';
import type { MetadataOptions } from '../imds/instance.ts';

function integerIn(min: number, max: number) {
  return (text: string): number => {
    if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return Number(text);
  };
}

/** Turns a parser's error into commander's, so the message names the option. */
function validated<T>(parse: (text: string) => T) {
  return (text: string): T => {
    try {
      return parse(text);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}

const ipv4 = validated((text: string) => {
  parseIpv4Address(text);
  return text;
});
const mac = byRule(UNICAST_MAC.check);
const listenAddress = validated((text: string) => {
  if (text !== 'off') parseListenAddress(text);
  return text;
});

const ec2ApiListen = validated((text: string) => {
  if (text !== 'off') parseEc2ApiListen(text, true); // loopback is checked at start, where the flag is known
  return text;
});

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function buildProgram(): Command {
  const program = new Command('imds-hop')
    .description('The EC2 instance metadata service, reproduced at the packet level on a tap interface')
    .showHelpAfterError();

  program
    .command('serve')
    .description('create the tap, route 169.254.169.254 into it and answer until SIGINT/SIGTERM')
    .option('--config <file>', 'ini file describing the instance (default: the built-in default instance)')
    .addOption(
      new Option(
        '--backend <backend>',
        'tap: a tap of its own; pcap: answer on an existing interface (libpcap + raw socket)',
      )
        .choices(['tap', 'pcap'])
        .default('tap'),
    )
    .option(
      '--interface <name>',
      `tap to create, or with --backend pcap the interface to answer on (default: ${SERVE_DEFAULTS.interfaceName})`,
    )
    .option(
      '--hop-limit <n>',
      'http-put-response-hop-limit: IP TTL of token responses, 1..64 (default: 1)',
      byRule(HOP_LIMIT.fromText),
    )
    .addOption(
      new Option('--http-tokens <mode>', 'optional: IMDSv1 allowed; required: IMDSv2 only (default: optional)').choices(
        HTTP_TOKENS.choices,
      ),
    )
    .addOption(new Option('--http-endpoint <state>', 'serve metadata at all (default: enabled)').choices(TOGGLES))
    .addOption(
      new Option('--instance-metadata-tags <state>', 'serve tags/instance (default: disabled)').choices(TOGGLES),
    )
    .option(
      '--default-ttl <n>',
      `IP TTL of every other packet (default: ${SERVE_DEFAULTS.defaultTtl})`,
      byRule(DEFAULT_TTL.fromText),
    )
    .option(
      '--host-address <ip>',
      `the instance side's address on the tap (default: ${SERVE_DEFAULTS.hostAddress})`,
      ipv4,
    )
    .option('--service-address <ip>', `the metadata service address (default: ${SERVE_DEFAULTS.serviceAddress})`, ipv4)
    .option('--mac <mac>', `the appliance's MAC address on the tap (default: ${SERVE_DEFAULTS.mac})`, mac)
    .option('--user-data-file <path>', 'serve this file at /latest/user-data')
    .option(
      '--control-socket <path>',
      'control socket for "imds-hop options|events" (default: /run/imds-hop/<interface>.sock)',
    )
    .option(
      '--connection <policy>',
      'close: Connection: close after every response, as EC2 does (default); keep-alive: persistent connections',
      validated(connectionPolicy),
    )
    .option(
      '--packet-allowance <pps>',
      'throttle: packets/s to the service over the interface, excess dropped (default: off)',
    )
    .option('--source-packet-allowance <pps>', 'throttle: packets/s from one source address (default: off)')
    .option(
      '--connections-per-source <n>',
      'throttle: simultaneous connections per source, more refused with RST (default: off)',
    )
    .option('--request-rate <rps>', 'throttle: requests/s, past which the answer is 429 (default: off)')
    .option(
      '--fault-seed <n>',
      "seed of the fault rules' probability rolls (default: [faults] seed, else 1)",
      byRule(FAULT_SEED.fromText),
    )
    .option(
      '--metrics-listen <host:port>',
      `Prometheus metrics listener, or "off" (default: ${SERVE_DEFAULTS.metricsListen})`,
      listenAddress,
    )
    .addOption(
      new Option(
        '--callers <state>',
        'name the caller (process, container, NAT source) of every connection: "on" uses the connect hook (eBPF on ' +
          'the cgroup v2 root) where it can be attached and searches /proc fd tables otherwise; "fd-search" never ' +
          'attaches the hook',
      )
        .choices(['on', 'fd-search', 'off'])
        .default('on'),
    )
    .addOption(
      new Option(
        '--memory <policy>',
        'V8 heap sizing: "lean" keeps the young generation at 1 MiB and grows the old one slowly (less memory, ' +
          'more frequent small collections); "fast" uses V8\'s defaults',
      )
        .choices(['lean', 'fast'])
        .default('lean'),
    )
    .addOption(
      new Option(
        '--tap-io <mode>',
        '"auto": a tap\'s frames cross to the kernel in io_uring batches (one system call each) where the kernel ' +
          'allows, else one read/write per frame; "syscalls": always one per frame',
      )
        .choices(['auto', 'syscalls'])
        .default('auto'),
    )
    .option(
      '--ec2-api-listen <host:port>',
      `EC2 Query API listener (aws --endpoint-url), or "off" (default: ${DEFAULT_EC2_API_LISTEN})`,
      ec2ApiListen,
    )
    .option('--ec2-api-allow-non-loopback', 'let --ec2-api-listen bind an address beyond loopback')
    .addOption(
      new Option(
        '--imds-support <version>',
        "the AMI's ImdsSupport: v2.0 launches with tokens required and hop limit 2",
      ).choices([...IMDS_SUPPORT.choices, 'none']),
    )
    .option(
      '--request-header-timeout <seconds>',
      'a request not complete this long after its first byte gets 408 (default: 10)',
      integerIn(1, 3600),
    )
    .option(
      '--send-timeout <seconds>',
      'reset a connection whose peer leaves our data unacknowledged this long (default: 30)',
      integerIn(1, 3600),
    )
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    .addOption(
      new Option('--log-format <format>', 'json lines, pretty lines, or auto: pretty on a terminal, json otherwise')
        .choices(['auto', 'json', 'pretty'])
        .default('auto'),
    )
    .action(async (opts) => {
      const log = createLogger(opts.logLevel, opts.logFormat);
      const options: Partial<MetadataOptions> = {};
      if (opts.hopLimit !== undefined) options.httpPutResponseHopLimit = opts.hopLimit;
      if (opts.httpTokens) options.httpTokens = opts.httpTokens;
      if (opts.httpEndpoint) options.httpEndpoint = opts.httpEndpoint;
      if (opts.instanceMetadataTags) options.instanceMetadataTags = opts.instanceMetadataTags;
      const requested: ServeOptions = {
        configFile: opts.config,
        backend: opts.backend,
        interfaceName: opts.interface,
        hostAddress: opts.hostAddress,
        serviceAddress: opts.serviceAddress,
        mac: opts.mac,
        defaultTtl: opts.defaultTtl,
        userDataFile: opts.userDataFile,
        controlSocket: opts.controlSocket,
        metricsListen: opts.metricsListen,
        connection: opts.connection,
        ec2ApiListen: opts.ec2ApiListen,
        ec2ApiAllowNonLoopback: opts.ec2ApiAllowNonLoopback === true,
        imdsSupport: opts.imdsSupport,
        options,
        throttle: Object.fromEntries(
          (['packet-allowance', 'source-packet-allowance', 'connections-per-source', 'request-rate'] as const)
            .map((key) => [
              key,
              opts[key.replace(/-([a-z])/g, (_: string, c: string) => c.toUpperCase())] as string | undefined,
            ])
            .filter((entry): entry is [string, string] => entry[1] !== undefined),
        ),
        faultSeed: opts.faultSeed,
        callers: opts.callers,
        memory: opts.memory,
        tapIo: opts.tapIo,
        limits: {
          ...(opts.requestHeaderTimeout !== undefined
            ? { requestHeaderTimeoutMs: opts.requestHeaderTimeout * 1000 }
            : {}),
          ...(opts.sendTimeout !== undefined ? { sendTimeoutMs: opts.sendTimeout * 1000 } : {}),
        },
      };
      await serve(requested, log);
    });

  addControlCommands(program);
  addStatusCommand(program);
  addFaultCommands(program);
  addLabCommands(program);
  addCallerCommands(program);
  addEc2ApiCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    // A command that failed without an exception (a demo with a failing row) says so through exitCode.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    // An error the operator can act on is one line with its code; anything else is a bug and keeps its stack.
    if (error instanceof OperatorError) {
      process.stderr.write(`imds-hop: ${error.message} [${error.code}]\n`);
      return OPERATOR_ERROR_EXIT_STATUS;
    }
    throw error;
  }
}

// The `imds-hop` command.
import { Command, InvalidArgumentError } from 'commander';
import { LinkError } from './link/index.ts';
import { parseIpv4Address, parseMacAddress } from './wire/index.ts';
import { serve, ServeError } from './appliance/daemon.ts';
import { createLogger } from './log.ts';

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

function ipv4(text: string): string {
  parseIpv4Address(text);
  return text;
}

const DEFAULT_MAC = '02:a9:fe:a9:fe:01';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function buildProgram(): Command {
  const program = new Command('imds-hop')
    .description('The EC2 instance metadata service, reproduced at the packet level on a tap interface')
    .showHelpAfterError();

  program
    .command('serve')
    .description('create the tap, route 169.254.169.254 into it and answer until SIGINT/SIGTERM')
    .option('--interface <name>', 'tap interface to create', 'imds0')
    .option('--hop-limit <n>', 'IP TTL of token responses (http-put-response-hop-limit)', integerIn(1, 64), 1)
    .option('--default-ttl <n>', 'IP TTL of every other packet', integerIn(1, 255), 64)
    .option('--host-address <ip>', "the instance side's address on the tap", validated(ipv4), '169.254.169.253')
    .option('--service-address <ip>', 'the metadata service address', validated(ipv4), '169.254.169.254')
    .option('--mac <mac>', "the appliance's MAC address on the tap", validated(parseMacAddress))
    .option('--user-data-file <path>', 'serve this file at /latest/user-data')
    .option('--log-level <level>', `one of ${LOG_LEVELS.join(', ')}`, (v) => {
      if (!LOG_LEVELS.includes(v)) throw new InvalidArgumentError(`expected one of ${LOG_LEVELS.join(', ')}`);
      return v;
    }, 'info')
    .action(async (opts) => {
      const log = createLogger(opts.logLevel);
      await serve(
        {
          interfaceName: opts.interface,
          hostAddress: opts.hostAddress,
          serviceAddress: opts.serviceAddress,
          mac: opts.mac ?? parseMacAddress(DEFAULT_MAC),
          hopLimit: opts.hopLimit,
          defaultTtl: opts.defaultTtl,
          userDataFile: opts.userDataFile,
        },
        log,
      );
    });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof LinkError || error instanceof ServeError) {
      process.stderr.write(`imds-hop: ${error.message} [${error.code}]\n`);
      return 1;
    }
    throw error;
  }
}

// `imds-hop serve`: open the tap, put the instance side in place, serve until a signal, then remove
// everything that was created.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { configureTapInterface, openTapLink } from '../link/index.ts';
import { formatMacAddress, parseIpv4Address } from '../wire/index.ts';
import { DEFAULT_TCP_CONFIG } from '../tcp/index.ts';
import { PlaceholderEngine } from '../imds/index.ts';
import { Host } from './host.ts';

export interface ServeOptions {
  interfaceName: string;
  hostAddress: string;
  serviceAddress: string;
  mac: Uint8Array;
  hopLimit: number;
  defaultTtl: number;
  userDataFile: string | undefined;
}

export class ServeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ServeError';
  }
}

const ETHERNET_MTU = 1500;
const IPV4_AND_TCP_HEADERS = 40;

export async function serve(options: ServeOptions, log: Logger): Promise<void> {
  let serviceAddress: number;
  try {
    serviceAddress = parseIpv4Address(options.serviceAddress);
  } catch (error) {
    throw new ServeError('BAD_ADDRESS', (error as Error).message);
  }
  let userData: Uint8Array | undefined;
  if (options.userDataFile !== undefined) {
    try {
      userData = readFileSync(options.userDataFile);
    } catch (error) {
      throw new ServeError('USER_DATA_UNREADABLE', `cannot read user data ${options.userDataFile}: ${(error as Error).message}`);
    }
  }
  const engine = new PlaceholderEngine(
    {
      instanceId: `i-${randomBytes(8).toString('hex').slice(0, 17)}`,
      amiId: 'ami-0abcdef1234567890',
      instanceType: 't3.micro',
      localIpv4: options.hostAddress,
      userData,
    },
    { hopLimit: options.hopLimit, tokenKey: randomBytes(32), randomBytes },
  );

  const link = openTapLink(options.interfaceName);
  let undoInterface: () => void;
  try {
    undoInterface = configureTapInterface({
      interfaceName: link.name,
      hostAddress: options.hostAddress,
      serviceAddress: options.serviceAddress,
    });
  } catch (error) {
    await link.close();
    throw error;
  }

  const host = new Host(
    {
      mac: options.mac,
      serviceAddress,
      defaultTtl: options.defaultTtl,
      tcp: {
        ...DEFAULT_TCP_CONFIG,
        mss: ETHERNET_MTU - IPV4_AND_TCP_HEADERS,
        listenPorts: [80],
        defaultTtl: options.defaultTtl,
        isnSecret: randomBytes(32),
      },
      http: {},
      maxNeighbors: 4096,
    },
    link,
    engine,
    { monotonicMs: () => performance.now(), wallMs: () => Date.now() },
    log.child({ layer: 'host' }),
  );
  host.start();
  log.info(
    {
      interface: link.name,
      serviceAddress: options.serviceAddress,
      hostAddress: options.hostAddress,
      mac: formatMacAddress(options.mac),
      hopLimit: options.hopLimit,
      defaultTtl: options.defaultTtl,
    },
    'serving',
  );

  const reportCounters = () => log.info({ counters: host.counterSnapshot() }, 'counters');
  process.on('SIGUSR2', reportCounters);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  process.off('SIGUSR2', reportCounters);
  log.info({ signal }, 'stopping');
  host.stop();
  undoInterface();
  await link.close(); // closing the fd deletes the tap
  log.info({ counters: host.counterSnapshot() }, 'counters');
  log.info({ interface: link.name }, 'stopped: route, address and tap removed');
}

// What `serve` was asked for, and the settings it runs with: each field from the flags, else the config file,
// else the defaults below. Everything here is checked before any interface is touched.
import { readFileSync } from 'node:fs';
import { parseIpv4Address, parseMacAddress } from '../wire/index.ts';
import { defaultInstance, UNICAST_MAC, type InstanceModel, type MetadataOptions } from '../imds/index.ts';
import { loadConfig, type ConnectionPolicy, type FaultSettings } from '../config/index.ts';
import { OperatorError } from '../errors/operator-error.ts';
import { defaultControlSocket } from './control-protocol.ts';
import { DEFAULT_EC2_API_LISTEN, type Ec2ApiRequest } from './ec2-api-wiring.ts';
import type { MemoryPolicy } from './memory-policy.ts';

/** tap: a tap of our own (default); pcap: capture on an existing interface, reply through a raw socket. */
export type Backend = 'tap' | 'pcap';

/** What `serve` was asked for; unset fields come from the config file, then from SERVE_DEFAULTS. */
export interface ServeOptions {
  configFile?: string;
  backend?: Backend;
  interfaceName?: string;
  hostAddress?: string;
  serviceAddress?: string;
  mac?: string;
  defaultTtl?: number;
  userDataFile?: string;
  controlSocket?: string;
  /** HOST:PORT, or "off". */
  metricsListen?: string;
  /** close (EC2's behaviour, default) or keep-alive. */
  connection?: ConnectionPolicy;
  options?: Partial<MetadataOptions>;
  /** Throttle keys from the command line (`--packet-allowance 1024`), over the config file's [throttle]. */
  throttle?: Record<string, string>;
  /** Seed of the fault rules' probability rolls (default: the config's, else 1). */
  faultSeed?: number;
  /** Name the caller of every connection (default on). on: the connect hook where it can be attached, else fd-table searches; fd-search: never the hook. */
  callers?: 'on' | 'fd-search' | 'off';
  /** lean: a small young generation and slow old-generation growth (memory-policy.ts); fast: V8's defaults. */
  memory?: MemoryPolicy;
  /** auto: a tap's frames cross in io_uring batches where the kernel allows; syscalls: a read/write per frame. */
  tapIo?: 'auto' | 'syscalls';
  /** The EC2 Query API listener: HOST:PORT or "off" (default 127.0.0.1:9470). */
  ec2ApiListen?: string;
  ec2ApiAllowNonLoopback?: boolean;
  /** The AMI's ImdsSupport; overrides [instance] imds-support. */
  imdsSupport?: 'v2.0' | 'none';
  /** Limits under hostile traffic; unset ones keep their defaults (README, "Limits under hostile traffic"). */
  limits?: HostileTrafficLimits;
}

export interface HostileTrafficLimits {
  requestHeaderTimeoutMs?: number;
  sendTimeoutMs?: number;
}

export const SERVE_DEFAULTS = {
  interfaceName: 'imds0',
  hostAddress: '169.254.169.253',
  serviceAddress: '169.254.169.254',
  mac: '02:a9:fe:a9:fe:01',
  defaultTtl: 64,
  metricsListen: '127.0.0.1:9469',
  connection: 'close' as ConnectionPolicy,
};

export class ServeError extends OperatorError {}

export interface ServeSettings {
  instance: InstanceModel;
  backend: Backend;
  interfaceName: string;
  hostAddress: string;
  serviceAddress: number;
  serviceAddressText: string;
  mac: Uint8Array;
  defaultTtl: number;
  controlSocket: string;
  metricsListen: string | undefined;
  connection: ConnectionPolicy;
  tapIo: 'auto' | 'syscalls';
  memory: MemoryPolicy;
  faults: FaultSettings | undefined;
  ec2Api: Ec2ApiRequest;
  launchOptions: Partial<MetadataOptions>;
}

export function resolveSettings(requested: ServeOptions): ServeSettings {
  const loaded = requested.configFile ? loadConfig(requested.configFile) : undefined;
  const instance = loaded?.instance ?? defaultInstance();
  const appliance = loaded?.appliance ?? {};
  if (requested.userDataFile !== undefined) {
    try {
      instance.userData = readFileSync(requested.userDataFile);
    } catch (error) {
      throw new ServeError(
        'USER_DATA_UNREADABLE',
        `cannot read user data ${requested.userDataFile}: ${(error as Error).message}`,
      );
    }
  }
  if (requested.imdsSupport !== undefined)
    instance.imdsSupport = requested.imdsSupport === 'none' ? undefined : requested.imdsSupport;
  const interfaceName = requested.interfaceName ?? appliance.interfaceName ?? SERVE_DEFAULTS.interfaceName;
  const hostAddress = requested.hostAddress ?? appliance.hostAddress ?? SERVE_DEFAULTS.hostAddress;
  const serviceAddressText = requested.serviceAddress ?? appliance.serviceAddress ?? SERVE_DEFAULTS.serviceAddress;
  const macText = requested.mac ?? appliance.mac ?? SERVE_DEFAULTS.mac;
  const metricsListen = requested.metricsListen ?? appliance.metricsListen ?? SERVE_DEFAULTS.metricsListen;
  let serviceAddress: number;
  let mac: Uint8Array;
  try {
    parseIpv4Address(hostAddress);
    serviceAddress = parseIpv4Address(serviceAddressText);
    mac = parseMacAddress(UNICAST_MAC.check(macText));
  } catch (error) {
    throw new ServeError('BAD_ADDRESS', (error as Error).message);
  }
  return {
    instance,
    backend: requested.backend ?? 'tap',
    interfaceName,
    hostAddress,
    serviceAddress,
    serviceAddressText,
    mac,
    defaultTtl: requested.defaultTtl ?? appliance.defaultTtl ?? SERVE_DEFAULTS.defaultTtl,
    controlSocket: requested.controlSocket ?? appliance.controlSocket ?? defaultControlSocket(interfaceName),
    metricsListen: metricsListen === 'off' ? undefined : metricsListen,
    connection: requested.connection ?? appliance.connection ?? SERVE_DEFAULTS.connection,
    tapIo: requested.tapIo ?? 'auto',
    memory: requested.memory ?? 'lean',
    faults: loaded?.faults,
    ec2Api: {
      listen: requested.ec2ApiListen ?? appliance.ec2ApiListen ?? DEFAULT_EC2_API_LISTEN,
      allowNonLoopback: requested.ec2ApiAllowNonLoopback === true,
      settings: loaded?.ec2Api ?? {},
    },
    // Launch parameters: the config's [metadata-options] keys, then the flags over them.
    launchOptions: { ...loaded?.launchOptions, ...requested.options },
  };
}

// `imds-hop serve`: load the instance, open the tap, put the instance side in place, serve until a signal, then
// remove everything that was created. The control socket and the metrics listener live and die with it.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { configureTapInterface, openPcapLink, openTapLink, type FrameLink } from '../link/index.ts';
import { formatMacAddress, parseIpv4Address, parseIpv6Address, parseMacAddress } from '../wire/index.ts';
import { DEFAULT_TCP_CONFIG } from '../tcp/index.ts';
import {
  CERTIFICATE_KINDS,
  EventError,
  ImdsEngine,
  OptionsError,
  defaultInstance,
  type InstanceModel,
  type MetadataOptions,
} from '../imds/index.ts';
import { loadConfig, type ConnectionPolicy } from '../config/index.ts';
import { bootEngine } from './boot-engine.ts';
import { Host } from './host.ts';
import { IPV6_LOCAL_ID } from './ipv6-peers.ts';
import { ApplianceMetrics, startMetricsServer } from './metrics.ts';
import { exitEvenIfStuck } from './exit-guard.ts';
import { ControlRequestError, startControlServer, type ControlServer } from './control-server.ts';
import { defaultControlSocket, type ControlRequest, type EventCommand } from './control-protocol.ts';
import { FaultInjector } from './fault-injector.ts';
import { handleFaultCommand, handleThrottle } from './fault-control.ts';
import { FaultSpecError, NO_THROTTLE, parseThrottle } from '../faults/index.ts';
import type { FaultSettings } from '../config/index.ts';
import { CallerTracking } from './caller-tracking.ts';
import { LinuxProbes } from '../callers/index.ts';
import {
  AccountDefaultsError,
  DEFAULT_EC2_API_LISTEN,
  changeOptions,
  launchOptions,
  optionsChanger,
  startEc2Api,
  type Ec2ApiRequest,
  type RunningEc2Api,
} from './ec2-api-wiring.ts';
import type { MetadataOptionsChanger } from '../ec2-api/index.ts';

/** What `serve` was asked for; unset fields come from the config file, then from these defaults. */
export type Backend = 'tap' | 'pcap';

export interface ServeOptions {
  configFile?: string;
  /** tap: a tap of our own (default); pcap: capture on an existing interface, reply through a raw socket. */
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
  /** Name the caller of every connection (default on). */
  callers?: 'on' | 'off';
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
const IPV6_AND_TCP_HEADERS = 60;
const SUMMARY_INTERVAL_MS = 60_000;
/** EC2 Nitro's IPv6 metadata endpoint, and the instance's address on the tap that reaches it. */
const IPV6_SERVICE_ADDRESS = 'fd00:ec2::254';
const IPV6_HOST_ADDRESS = 'fd00:ec2::253';

interface ResolvedSettings {
  instance: InstanceModel;
  interfaceName: string;
  hostAddress: string;
  serviceAddress: number;
  serviceAddressText: string;
  mac: Uint8Array;
  defaultTtl: number;
  controlSocket: string;
  metricsListen: string | undefined;
  connection: ConnectionPolicy;
  faults: FaultSettings | undefined;
  ec2Api: Ec2ApiRequest;
  launchOptions: Partial<MetadataOptions>;
}

function resolveSettings(requested: ServeOptions): ResolvedSettings {
  const loaded = requested.configFile ? loadConfig(requested.configFile) : undefined;
  const instance = loaded?.instance ?? defaultInstance();
  const appliance = loaded?.appliance ?? {};
  if (requested.userDataFile !== undefined) {
    try {
      instance.userData = readFileSync(requested.userDataFile);
    } catch (error) {
      throw new ServeError('USER_DATA_UNREADABLE', `cannot read user data ${requested.userDataFile}: ${(error as Error).message}`);
    }
  }
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
    mac = parseMacAddress(macText);
    if ((mac[0] ?? 0) & 1) throw new Error(`${macText} is a multicast address; the appliance needs a unicast MAC`);
  } catch (error) {
    throw new ServeError('BAD_ADDRESS', (error as Error).message);
  }
  return {
    instance,
    interfaceName,
    hostAddress,
    serviceAddress,
    serviceAddressText,
    mac,
    defaultTtl: requested.defaultTtl ?? appliance.defaultTtl ?? SERVE_DEFAULTS.defaultTtl,
    controlSocket: requested.controlSocket ?? appliance.controlSocket ?? defaultControlSocket(interfaceName),
    metricsListen: metricsListen === 'off' ? undefined : metricsListen,
    connection: requested.connection ?? appliance.connection ?? SERVE_DEFAULTS.connection,
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

export async function serve(requested: ServeOptions, log: Logger): Promise<void> {
  const settings = resolveSettings(requested);
  const { instance } = settings;
  if (requested.imdsSupport !== undefined) instance.imdsSupport = requested.imdsSupport === 'none' ? undefined : requested.imdsSupport;
  let launched: ReturnType<typeof launchOptions>;
  try {
    launched = launchOptions(instance, settings.launchOptions, settings.ec2Api.settings);
  } catch (error) {
    if (error instanceof AccountDefaultsError) throw new ServeError(error.code, error.message);
    throw error;
  }
  instance.options = launched.options;
  const metricsRef: { current?: ApplianceMetrics } = {};
  let engine: ImdsEngine;
  try {
    engine = bootEngine(instance, { increment: (name, labels) => metricsRef.current?.increment(name, labels) });
  } catch (error) {
    if (error instanceof OptionsError) throw new ServeError('BAD_OPTION', error.message);
    throw error;
  }
  const changer = optionsChanger(engine, settings.ec2Api.settings.applyDelayMs ?? 0, log);
  let ec2Api: RunningEc2Api | undefined;

  let throttle = settings.faults?.throttle ?? NO_THROTTLE;
  try {
    if (requested.throttle) throttle = parseThrottle(throttle, requested.throttle);
  } catch (error) {
    if (error instanceof FaultSpecError) throw new ServeError('BAD_THROTTLE', error.message);
    throw error;
  }
  const injector = new FaultInjector(
    {
      seed: requested.faultSeed ?? settings.faults?.seed ?? 1,
      throttle,
      earlyBoot: settings.faults?.earlyBoot,
      rules: settings.faults?.rules ?? [],
    },
    engine,
    (name, labels) => metricsRef.current?.increment(name, labels),
    log.child({ layer: 'faults' }),
    performance.now(),
  );

  const backend = requested.backend ?? 'tap';
  const link: FrameLink =
    backend === 'tap'
      ? openTapLink(settings.interfaceName)
      : openPcapLink({
          interfaceName: settings.interfaceName,
          serviceAddress: settings.serviceAddressText,
          serviceMac: settings.mac,
          ipv6ServiceAddress: IPV6_SERVICE_ADDRESS,
        });
  const cleanups: Array<() => Promise<void> | void> = [() => link.close()]; // closing a tap's fd deletes the tap
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        log.warn({ err: error }, 'cleanup step failed');
      }
    }
  };
  let host: Host;
  let metrics: ApplianceMetrics;
  try {
    if (backend === 'tap') {
      cleanups.push(
        configureTapInterface({
          interfaceName: link.name,
          hostAddress: settings.hostAddress,
          serviceAddress: settings.serviceAddressText,
          ipv6HostAddress: IPV6_HOST_ADDRESS,
          ipv6ServiceAddress: IPV6_SERVICE_ADDRESS,
        }),
      );
    }
    host = new Host(
      {
        mac: settings.mac,
        serviceAddress: settings.serviceAddress,
        tcp: {
          ...DEFAULT_TCP_CONFIG,
          mss: ETHERNET_MTU - IPV4_AND_TCP_HEADERS,
          mssByLocalAddress: new Map([[IPV6_LOCAL_ID, ETHERNET_MTU - IPV6_AND_TCP_HEADERS]]),
          listenPorts: [80],
          defaultHopLimit: settings.defaultTtl,
          isnSecret: randomBytes(32),
          admitSyn: injector.admitSyn,
          synCookieSecret: randomBytes(32),
          ...(requested.limits?.sendTimeoutMs !== undefined ? { sendTimeoutMs: requested.limits.sendTimeoutMs } : {}),
        },
        ...(requested.limits?.requestHeaderTimeoutMs !== undefined ? { requestHeaderTimeoutMs: requested.limits.requestHeaderTimeoutMs } : {}),
        http: {},
        connection: settings.connection,
        maxNeighbors: 4096,
        acceptOffloadedChecksums: backend === 'pcap',
        ipv6: { serviceAddress: parseIpv6Address(IPV6_SERVICE_ADDRESS), enabled: () => engine.options.httpProtocolIpv6 === 'enabled' },
        faults: injector,
      },
      link,
      engine,
      { monotonicMs: () => performance.now(), wallMs: () => Date.now() },
      log.child({ layer: 'host' }),
    );
    metrics = new ApplianceMetrics(() => host.counterSnapshot());
    metricsRef.current = metrics;
    const callers =
      requested.callers === 'off' ? undefined : new CallerTracking(backend === 'tap' ? 'local' : 'address', new LinuxProbes(), log.child({ layer: 'callers' }));
    callers?.registerMetrics(metrics.registry);
    host.connectionObserver = callers;
    const control = await startControlServer(
      settings.controlSocket,
      (request) => (request.op === 'callers' ? (callers?.snapshot() ?? { enabled: false, callers: [], counters: {} }) : handleControl(request, engine, metrics, injector, log, { changer, instanceId: instance.instanceId, ec2Api: () => ec2Api })),
      log.child({ layer: 'control' }),
    );
    cleanups.push(() => control.close());
    ec2Api = await startEc2Api(settings.ec2Api, engine, instance, changer, launched.accountDefaultsFile, log);
    if (ec2Api) cleanups.push(() => ec2Api?.close());
    if (settings.metricsListen) {
      const server: Server = await startMetricsServer(metrics, settings.metricsListen);
      cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    }
    host.start();
    cleanups.push(() => host.stop());
  } catch (error) {
    await cleanUp();
    throw error;
  }

  // Signal handlers go in before "serving" is logged: whoever waits for that line may signal at once, and a
  // SIGUSR2 or SIGTERM that arrived before its handler would kill the process with the default action.
  const reportCounters = () => log.info({ counters: host.counterSnapshot(), imds: metrics.summary() }, 'counters');
  process.on('SIGUSR2', reportCounters);
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  log.info(
    {
      backend,
      interface: link.name,
      serviceAddress: settings.serviceAddressText,
      hostAddress: settings.hostAddress,
      mac: formatMacAddress(settings.mac),
      instanceId: instance.instanceId,
      options: engine.options,
      optionSources: launched.sources,
      ec2Api: ec2Api?.credentials.endpoint ?? 'off',
      defaultTtl: settings.defaultTtl,
      connection: settings.connection,
      controlSocket: settings.controlSocket,
      metrics: settings.metricsListen ? `http://${settings.metricsListen}/metrics` : 'off',
      config: requested.configFile ?? 'built-in default instance',
    },
    'serving',
  );
  const summaryTimer = setInterval(() => log.info({ imds: metrics.summary() }, 'metrics summary'), SUMMARY_INTERVAL_MS);
  summaryTimer.unref();
  const signal = await stopSignal;
  exitEvenIfStuck(log);
  clearInterval(summaryTimer);
  process.off('SIGUSR2', reportCounters);
  log.info({ signal }, 'stopping');
  await cleanUp();
  log.info({ counters: host.counterSnapshot(), imds: metrics.summary() }, 'counters');
  log.info({ interface: link.name }, 'stopped: route, address, tap and control socket removed');
}

async function handleControl(
  request: ControlRequest,
  engine: ImdsEngine,
  metrics: ApplianceMetrics,
  injector: FaultInjector,
  log: Logger,
  api: { changer: MetadataOptionsChanger; instanceId: string; ec2Api: () => RunningEc2Api | undefined },
): Promise<unknown> {
  switch (request.op) {
    case 'options':
      return changeOptions(api.changer, api.instanceId, request.set);
    case 'ec2-api-credentials': {
      const running = api.ec2Api();
      if (!running) throw new ControlRequestError('EC2_API_OFF', 'the EC2 API is off (--ec2-api-listen off)');
      return running.credentials;
    }
    case 'events':
      try {
        return applyEvent(request.command, engine, log);
      } catch (error) {
        if (error instanceof EventError) throw new ControlRequestError('BAD_VALUE', error.message);
        throw error;
      }
    case 'rotate-credentials': {
      const rotated = engine.rotateCredentials(Date.now(), credentialSchedule(request.lifetimeSeconds, request.leadTimeSeconds));
      // The access key id is public (it appears in CloudTrail); the secret never reaches the log.
      log.info(rotated, 'role credentials rotated');
      return rotated;
    }
    case 'metrics':
      return metrics.text();
    case 'faults':
      return handleFaultCommand(request.command, injector, performance.now(), log.child({ layer: 'faults' }));
    case 'throttle':
      return handleThrottle(request.set, injector, log.child({ layer: 'faults' }));
    case 'identity-cert': {
      const kind = request.kind ?? 'rsa2048';
      if (!CERTIFICATE_KINDS.includes(kind)) {
        throw new ControlRequestError('BAD_KIND', `unknown certificate kind ${JSON.stringify(kind)}; expected one of ${CERTIFICATE_KINDS.join(', ')}`);
      }
      return engine.identityCertificate(kind);
    }
    case 'status':
      return { options: engine.options, events: engine.eventsSnapshot(), imds: metrics.summary() };
    case 'callers':
      throw new ControlRequestError('BAD_REQUEST', 'callers is answered by the caller tracking');
  }
}

/** `credentials rotate --lifetime S --lead-time S`: the new set lasts S seconds and its successor appears the lead time before. */
function credentialSchedule(lifetimeSeconds: unknown, leadTimeSeconds: unknown): { lifetimeSeconds: number; refreshSeconds: number } | undefined {
  if (lifetimeSeconds === undefined && leadTimeSeconds === undefined) return undefined;
  const lifetime = lifetimeSeconds ?? 6 * 3600;
  const lead = leadTimeSeconds ?? (typeof lifetime === 'number' ? Math.min(300, Math.floor(lifetime / 2)) : 300);
  if (typeof lifetime !== 'number' || !Number.isInteger(lifetime) || lifetime < 2 || lifetime > 43_200) {
    throw new ControlRequestError('BAD_CREDENTIALS', 'lifetime: must be 2..43200 seconds');
  }
  if (typeof lead !== 'number' || !Number.isInteger(lead) || lead < 1 || lead >= lifetime) {
    throw new ControlRequestError('BAD_CREDENTIALS', `lead time: must be 1..${lifetime - 1} seconds (shorter than the lifetime)`);
  }
  return { lifetimeSeconds: lifetime, refreshSeconds: lead };
}

function applyEvent(command: EventCommand, engine: ImdsEngine, log: Logger): unknown {
  const now = Date.now();
  switch (command.kind) {
    case 'spot-interruption':
      engine.scheduleSpotInterruption(command.action, now, command.noticeSeconds);
      break;
    case 'rebalance':
      engine.recommendRebalance(now);
      break;
    case 'maintenance':
      engine.scheduleMaintenance(
        { code: command.code, description: command.description, notBeforeMs: command.notBeforeMs, notAfterMs: command.notAfterMs },
        now,
      );
      break;
    case 'cancel-maintenance':
      if (!engine.cancelMaintenance(command.eventId, now)) {
        throw new ControlRequestError('NO_SUCH_EVENT', `no scheduled maintenance event ${command.eventId}`);
      }
      break;
    case 'lifecycle-state':
      engine.setAutoscalingTargetLifecycleState(command.state);
      break;
    case 'clear':
      engine.clearEvents();
      break;
    case 'list':
      return engine.eventsSnapshot();
  }
  const snapshot = engine.eventsSnapshot();
  log.info({ event: command.kind, events: snapshot }, 'instance events changed');
  return snapshot;
}

// `imds-hop serve`: resolve the settings, boot the instance, open the link, start the host, serve the control
// socket (and the EC2 API and metrics listeners), then wait for a signal and remove everything that was created.
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { configureTapInterface, openPcapLink, openTapLink, type FrameLink } from '../link/index.ts';
import { formatMacAddress, parseIpv6Address } from '../wire/index.ts';
import { DEFAULT_TCP_CONFIG } from '../tcp/index.ts';
import { OptionsError, type ImdsEngine } from '../imds/index.ts';
import { FaultSpecError, NO_THROTTLE, parseThrottle } from '../faults/index.ts';
import { LinuxProbes } from '../callers/index.ts';
import type { MetadataOptionsChanger } from '../ec2-api/index.ts';
import { bootEngine } from './boot-engine.ts';
import { CallerTracking } from './caller-tracking.ts';
import { Cleanups } from './cleanups.ts';
import { handleControl } from './control-handler.ts';
import { startControlServer } from './control-server.ts';
import { launchOptions, optionsChanger, startEc2Api, type RunningEc2Api } from './ec2-api-wiring.ts';
import { exitEvenIfStuck } from './exit-guard.ts';
import { FaultInjector } from './fault-injector.ts';
import { Host } from './host.ts';
import { IPV6_LOCAL_ID } from './ipv6-peers.ts';
import { ApplianceMetrics, startMetricsServer } from './metrics.ts';
import { resolveSettings, ServeError, type ServeOptions, type ServeSettings } from './serve-settings.ts';
import { applyMemoryPolicy, pageOutStartupCode } from './memory-policy.ts';

const ETHERNET_MTU = 1500;
const IPV4_AND_TCP_HEADERS = 40;
const IPV6_AND_TCP_HEADERS = 60;
const SUMMARY_INTERVAL_MS = 60_000;
/** EC2 Nitro's IPv6 metadata endpoint, and the instance's address on the tap that reaches it. */
const IPV6_SERVICE_ADDRESS = 'fd00:ec2::254';
const IPV6_HOST_ADDRESS = 'fd00:ec2::253';

export async function serve(requested: ServeOptions, log: Logger): Promise<void> {
  const settings = resolveSettings(requested);
  applyMemoryPolicy(settings.memory);
  const booted = bootInstance(settings, requested, log);
  const cleanups = new Cleanups(log);
  let running: Running;
  try {
    const link = openLink(settings, cleanups);
    const built = buildHost(settings, requested, booted, link, log);
    if (built.callers) {
      const { callers } = built;
      await callers.start(requested.callers !== 'fd-search');
      cleanups.push(() => callers.stop());
    }
    running = await serveControl(settings, booted, built, cleanups, log);
    const { host } = running;
    host.start();
    cleanups.push(() => host.stop());
  } catch (error) {
    await cleanups.run();
    throw error;
  }
  // Signal handlers go in before "serving" is logged: whoever waits for that line may signal at once, and a
  // SIGUSR2 or SIGTERM that arrived before its handler would kill the process with the default action.
  const stopped = waitForStopSignal(running, log);
  logServing(settings, booted, running, requested.configFile, log);
  const pagedOut = pageOutStartupCode(settings.memory);
  if (pagedOut > 0) log.debug({ bytes: pagedOut }, 'start-up code paged out');
  await stopped;
  await cleanups.run();
  log.info({ counters: running.host.counterSnapshot(), imds: running.metrics.summary() }, 'counters');
  log.info({ interface: running.link.name }, 'stopped: route, address, tap and control socket removed');
}

/** The instance before any I/O: its launch options, engine, options changer and fault injector. */
interface BootedInstance {
  engine: ImdsEngine;
  launched: ReturnType<typeof launchOptions>;
  changer: MetadataOptionsChanger;
  injector: FaultInjector;
  /** The engine counts into the metrics, which exist only once the host does. */
  metrics: { current?: ApplianceMetrics };
}

function bootInstance(settings: ServeSettings, requested: ServeOptions, log: Logger): BootedInstance {
  const { instance } = settings;
  const launched = launchOptions(instance, settings.launchOptions, settings.ec2Api.settings);
  instance.options = launched.options;
  const metrics: BootedInstance['metrics'] = {};
  let engine: ImdsEngine;
  try {
    engine = bootEngine(instance, { increment: (name, labels) => metrics.current?.increment(name, labels) });
  } catch (error) {
    if (error instanceof OptionsError) throw new ServeError('BAD_OPTION', error.message);
    throw error;
  }
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
    (name, labels) => metrics.current?.increment(name, labels),
    log.child({ layer: 'faults' }),
    performance.now(),
  );
  const changer = optionsChanger(engine, settings.ec2Api.settings.applyDelayMs ?? 0, log);
  return { engine, launched, changer, injector, metrics };
}

/** Opens the tap (and routes the service addresses into it) or the pcap backend; closing a tap's fd deletes it. */
function openLink(settings: ServeSettings, cleanups: Cleanups): FrameLink {
  const link: FrameLink =
    settings.backend === 'tap'
      ? openTapLink(settings.interfaceName, settings.tapIo)
      : openPcapLink({
          interfaceName: settings.interfaceName,
          serviceAddress: settings.serviceAddressText,
          serviceMac: settings.mac,
          ipv6ServiceAddress: IPV6_SERVICE_ADDRESS,
        });
  cleanups.push(() => link.close());
  if (settings.backend === 'tap') {
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
  return link;
}

/** The host answering on the link, and the caller tracking that watches its connections (unless --callers off). */
interface BuiltHost {
  host: Host;
  link: FrameLink;
  callers: CallerTracking | undefined;
}

function buildHost(
  settings: ServeSettings,
  requested: ServeOptions,
  booted: BootedInstance,
  link: FrameLink,
  log: Logger,
): BuiltHost {
  const { engine, injector } = booted;
  const backend = settings.backend;
  const host = new Host(
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
      ...(requested.limits?.requestHeaderTimeoutMs !== undefined
        ? { requestHeaderTimeoutMs: requested.limits.requestHeaderTimeoutMs }
        : {}),
      http: {},
      connection: settings.connection,
      maxNeighbors: 4096,
      acceptOffloadedChecksums: backend === 'pcap',
      ipv6: {
        serviceAddress: parseIpv6Address(IPV6_SERVICE_ADDRESS),
        enabled: () => engine.options.httpProtocolIpv6 === 'enabled',
      },
      faults: injector,
    },
    link,
    engine,
    { monotonicMs: () => performance.now(), wallMs: () => Date.now() },
    log.child({ layer: 'host' }),
  );
  const callers =
    requested.callers === 'off'
      ? undefined
      : new CallerTracking(backend === 'tap' ? 'local' : 'address', new LinuxProbes(), log.child({ layer: 'callers' }));
  host.connectionObserver = callers;
  return { host, link, callers };
}

/** The appliance once everything listens. */
interface Running extends BuiltHost {
  metrics: ApplianceMetrics;
  ec2Api: RunningEc2Api | undefined;
}

/** Metrics, the control socket, the EC2 API and the metrics listener, each closed again by the cleanups. */
async function serveControl(
  settings: ServeSettings,
  booted: BootedInstance,
  built: BuiltHost,
  cleanups: Cleanups,
  log: Logger,
): Promise<Running> {
  const { engine, changer, injector } = booted;
  const { host, callers } = built;
  const metrics = new ApplianceMetrics({ hostCounters: () => host.counterSnapshot(), callers: callers?.registry });
  booted.metrics.current = metrics;
  // Filled once the API listens; control requests can arrive before that and read it as absent.
  const ec2Api: { current?: RunningEc2Api } = {};
  const identity = {
    instanceId: settings.instance.instanceId,
    interface: built.link.name,
    backend: settings.backend,
    startedAtMs: Date.now(),
  };
  const control = await startControlServer(
    settings.controlSocket,
    (request) =>
      handleControl(request, {
        engine,
        metrics,
        injector,
        changer,
        callers,
        ec2Api: () => ec2Api.current,
        identity,
        log,
      }),
    log.child({ layer: 'control' }),
  );
  cleanups.push(() => control.close());
  ec2Api.current = await startEc2Api(
    settings.ec2Api,
    engine,
    settings.instance,
    changer,
    booted.launched.accountDefaultsFile,
    log,
  );
  if (ec2Api.current) cleanups.push(() => ec2Api.current?.close());
  if (settings.metricsListen) {
    const server: Server = await startMetricsServer(metrics, settings.metricsListen);
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  }
  return { ...built, metrics, ec2Api: ec2Api.current };
}

/**
 * Installs the signal handlers at once and resolves on SIGINT/SIGTERM: SIGUSR2 logs the counters meanwhile, and a
 * summary is logged every minute. After the stop signal a stuck cleanup can no longer keep the process alive.
 */
async function waitForStopSignal({ host, metrics }: Running, log: Logger): Promise<void> {
  const reportCounters = () => log.info({ counters: host.counterSnapshot(), imds: metrics.summary() }, 'counters');
  process.on('SIGUSR2', reportCounters);
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const summaryTimer = setInterval(() => log.info({ imds: metrics.summary() }, 'metrics summary'), SUMMARY_INTERVAL_MS);
  summaryTimer.unref();
  const signal = await stopSignal;
  exitEvenIfStuck(log);
  clearInterval(summaryTimer);
  process.off('SIGUSR2', reportCounters);
  log.info({ signal }, 'stopping');
}

function logServing(
  settings: ServeSettings,
  booted: BootedInstance,
  running: Running,
  configFile: string | undefined,
  log: Logger,
): void {
  log.info(
    {
      backend: settings.backend,
      interface: running.link.name,
      ...(running.link.io ? { linkIo: running.link.io } : {}),
      serviceAddress: settings.serviceAddressText,
      hostAddress: settings.hostAddress,
      mac: formatMacAddress(settings.mac),
      instanceId: settings.instance.instanceId,
      options: booted.engine.options,
      optionSources: booted.launched.sources,
      ec2Api: running.ec2Api?.credentials.endpoint ?? 'off',
      defaultTtl: settings.defaultTtl,
      connection: settings.connection,
      controlSocket: settings.controlSocket,
      metrics: settings.metricsListen ? `http://${settings.metricsListen}/metrics` : 'off',
      config: configFile ?? 'built-in default instance',
    },
    'serving',
  );
}

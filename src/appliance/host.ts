// One served link: demultiplexes frames to the protocol modules (the IPv4 and IPv6 endpoints of the service
// address, HTTP sessions per connection), carries out what the TCP stack decides, and owns the counters, the
// only timer of the packet path and the only clock reads, at the edge. The modules act on the link only through
// the narrow port (host-port.ts) the Host gives them.
import type { Logger } from 'pino';
import type { FrameLink } from '../link/index.ts';
import {
  BROADCAST_MAC,
  ETHERNET_DESTINATION_OFFSET,
  ETHERNET_SOURCE_OFFSET,
  EtherType,
  copyMacAt,
  destinationMac,
  macAt,
  parseEthernet,
} from '../wire/index.ts';
import { TcpStack, type ConnectionId, type Endpoints, type TcpAction, type TcpConfig } from '../tcp/index.ts';
import type { HttpLimits } from '../http/index.ts';
import { Counters } from './counters.ts';
import type { ConnectionPolicy } from './http-session.ts';
import type { FaultInjector, RequestPeer } from './fault-injector.ts';
import { IPV6_LOCAL_ID } from './ipv6-peers.ts';
import { RateLimitedLog, type RateLimit } from './rate-limited-log.ts';
import { guardFrames } from './fault-guard.ts';
import type { ConnectionObserver } from './connection-observer.ts';
import type { HostPort } from './host-port.ts';
import { IcmpErrorReports } from './icmp-error-reports.ts';
import type { EndpointContext } from './endpoint-context.ts';
import { Ipv4Endpoint } from './ipv4-endpoint.ts';
import { Ipv6Endpoint, type HostIpv6Config } from './ipv6-endpoint.ts';
import { HttpSessions, type Clock, type ServiceEngine } from './http-sessions.ts';

export interface HostConfig {
  mac: Uint8Array;
  serviceAddress: number;
  /** Its defaultHopLimit is the hop limit of every packet that is not a token response, ICMP replies included. */
  tcp: TcpConfig;
  http: Partial<HttpLimits>;
  /** Close after every response as EC2 does (default), or keep connections alive. */
  connection?: ConnectionPolicy;
  /** Remote addresses whose MAC we remember for replies; bounds memory under spoofed sources. */
  maxNeighbors: number;
  /**
   * Accept TCP checksums a capture sees unfinished (sender used checksum offload). Only for links that observe
   * another host's traffic (pcap); a tap receives finished checksums.
   */
  acceptOffloadedChecksums?: boolean;
  /** Serve the IPv6 endpoint too; without it IPv6 frames are dropped as an unsupported EtherType. */
  ipv6?: HostIpv6Config;
  /** Faults on demand: packet allowance, connection accounting, request faults. Off when absent. */
  faults?: FaultInjector;
  /** A request not complete this long after its first byte gets 408 and the connection closes. */
  requestHeaderTimeoutMs?: number;
  /** Log lines hostile traffic can trigger (ICMP errors, malformed requests, faults), per kind. */
  logRateLimit?: RateLimit;
}

export class Host {
  readonly counters = new Counters();
  /** The source address of the frame being handled. */
  private readonly sourceMac = new Uint8Array(6);
  private readonly tcp: TcpStack;
  private readonly ipv4: Ipv4Endpoint;
  private readonly ipv6: Ipv6Endpoint | undefined;
  private readonly sessions: HttpSessions;
  private readonly limitedLog: RateLimitedLog;
  private timer: NodeJS.Timeout | undefined;
  private timerDeadline: number | undefined;
  private stopped = false;
  /** Caller attribution, when enabled. */
  connectionObserver: ConnectionObserver | undefined;

  constructor(
    private readonly config: HostConfig,
    private readonly link: FrameLink,
    engine: ServiceEngine,
    private readonly clock: Clock,
    log: Logger,
  ) {
    this.tcp = new TcpStack(config.tcp);
    this.limitedLog = new RateLimitedLog(
      log,
      () => clock.monotonicMs(),
      () => this.counters.increment('log-lines-suppressed'),
      config.logRateLimit,
    );
    const port: HostPort = {
      transmit: (frame) => this.transmit(frame),
      drop: (reason) => this.drop(reason),
      count: (name) => this.counters.increment(name),
      log: this.limitedLog,
    };
    const observer = () => this.connectionObserver;
    const context: EndpointContext = {
      port,
      tcp: this.tcp,
      errors: new IcmpErrorReports(port, this.tcp, observer),
      observer,
    };
    const faults = config.faults;
    const acceptOffloadedChecksums = config.acceptOffloadedChecksums === true;
    this.ipv4 = new Ipv4Endpoint(
      {
        mac: config.mac,
        serviceAddress: config.serviceAddress,
        maxNeighbors: config.maxNeighbors,
        acceptOffloadedChecksums,
        ...(faults ? { admit: (source: number, now: number) => faults.admitPacket(source, now) } : {}),
      },
      context,
    );
    if (config.ipv6) {
      this.ipv6 = new Ipv6Endpoint(
        {
          ...config.ipv6,
          mac: config.mac,
          maxNeighbors: config.maxNeighbors,
          acceptOffloadedChecksums,
          ...(faults ? { admit: (source: Uint8Array, now: number) => faults.admitIpv6Packet(source, now) } : {}),
        },
        context,
      );
    }
    this.sessions = new HttpSessions(config, this.tcp, engine, clock, {
      port,
      log,
      apply: (actions, now) => this.apply(actions, now),
      settled: () => this.armTimer(),
      peerOf: (id) => this.peerOf(id),
      observer,
    });
  }

  start(): void {
    const onFault = (error: unknown) => {
      this.counters.increment('frame-handler-exceptions');
      this.limitedLog.error(
        'frame-handler',
        { err: error },
        'exception while handling a frame: frame dropped, data path continues',
      );
    };
    this.link.onFrames(
      guardFrames(
        (frame, now) => this.handleFrame(frame, now),
        () => this.clock.monotonicMs(),
        () => this.stopped,
        () => this.armTimer(),
        onFault,
      ),
    );
  }

  stop(): void {
    this.stopped = true;
    this.sessions.stop();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Counters of this host and of its TCP stack, in one flat record. */
  counterSnapshot(): Record<string, number> {
    const tcpCounters = Object.fromEntries(Object.entries(this.tcp.counters).map(([k, v]) => [`tcp-${k}`, v]));
    return {
      ...this.counters.snapshot(),
      ...this.link.counters?.(),
      ...this.config.faults?.counters.snapshot(),
      ...tcpCounters,
      'tcp-connections-open': this.tcp.connectionCount(),
      'tcp-connections-half-open': this.tcp.halfOpenCount(),
      'tcp-connections-time-wait': this.tcp.timeWaitCount(),
    };
  }

  private handleFrame(frame: Uint8Array, now: number): void {
    this.counters.increment('frames-received');
    const ethernet = parseEthernet(frame);
    if (!ethernet.ok) return this.drop(`ethernet-${ethernet.reason}`);
    const { etherType, payload } = ethernet.value;
    if (
      !macAt(frame, ETHERNET_DESTINATION_OFFSET, this.config.mac) &&
      !macAt(frame, ETHERNET_DESTINATION_OFFSET, BROADCAST_MAC) &&
      !(this.ipv6 && etherType === EtherType.IPV6 && this.ipv6.isSolicitedNodeMac(destinationMac(frame)))
    ) {
      return this.drop('not-for-us');
    }
    // Copied into one buffer, not viewed: valid while this frame is handled; whoever keeps it copies it.
    const src = copyMacAt(frame, ETHERNET_SOURCE_OFFSET, this.sourceMac);
    if (etherType === EtherType.ARP) return this.ipv4.receiveArp(payload, src);
    if (etherType === EtherType.IPV6 && this.ipv6) return this.apply(this.ipv6.receive(payload, src, now), now);
    if (etherType !== EtherType.IPV4) return this.drop('unsupported-ethertype');
    this.apply(this.ipv4.receive(payload, src, now), now);
  }

  /** Carries out what the TCP stack decided; application events may produce more actions. */
  private apply(actions: readonly TcpAction[], now: number): void {
    // The stack's segments go out before the application reacts to the same step: otherwise a segment decided
    // earlier (the ACK of a FIN) would leave after one decided later (our FIN) and reach the peer as stale.
    for (const action of actions) {
      if (action.kind === 'transmit') this.transmitSegment(action);
    }
    for (const action of actions) {
      switch (action.kind) {
        case 'transmit':
          break;
        case 'accepted':
          // The HTTP session is created by the first bytes (deliver): an idle connection costs none.
          this.counters.increment('connections-accepted');
          this.config.faults?.connectionOpened(action.id, action.endpoints.remoteAddr);
          if (this.connectionObserver) this.observeOpened(this.connectionObserver, action.id, action.endpoints);
          break;
        case 'data':
          this.sessions.deliver(action.id, action.bytes, now);
          break;
        case 'peer-closed':
          this.sessions.peerClosed(action.id, now);
          break;
        case 'closed':
          this.sessions.closed(action.id);
          this.config.faults?.connectionClosed(action.id);
          this.connectionObserver?.closed(action.id);
          this.counters.increment(`connections-closed-${action.reason}`);
          break;
        case 'application-deadline':
          this.sessions.expire(action.id, now);
          break;
      }
    }
  }

  private isIpv6(localAddr: number): boolean {
    return localAddr === IPV6_LOCAL_ID && this.ipv6 !== undefined;
  }

  private transmitSegment(action: Extract<TcpAction, { kind: 'transmit' }>): void {
    if (this.isIpv6(action.localAddr)) return this.ipv6?.transmitSegment(action);
    this.ipv4.transmitSegment(action);
  }

  /** Who is on the other end of a connection, for fault rules that match on the source. */
  private peerOf(id: ConnectionId): RequestPeer | undefined {
    const endpoints = this.tcp.inspect(id)?.endpoints;
    if (!endpoints) return undefined;
    return this.isIpv6(endpoints.localAddr)
      ? this.ipv6?.peer(endpoints.remoteAddr)
      : this.ipv4.peer(endpoints.remoteAddr);
  }

  private observeOpened(observer: ConnectionObserver, id: ConnectionId, endpoints: Endpoints): void {
    const observed = this.isIpv6(endpoints.localAddr) ? this.ipv6?.observed(endpoints) : this.ipv4.observed(endpoints);
    if (observed) observer.opened(id, observed);
  }

  private transmit(frame: Uint8Array): void {
    if (this.link.send(frame)) this.counters.increment('frames-sent');
    else this.counters.increment('frames-send-failed');
  }

  private drop(reason: string): void {
    this.counters.increment(`frames-dropped-${reason}`);
  }

  private armTimer(): void {
    if (this.stopped) return;
    const deadline = this.tcp.nextDeadline();
    if (deadline === undefined) return;
    if (this.timer && this.timerDeadline !== undefined && this.timerDeadline <= deadline) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDeadline = deadline;
    const delay = Math.max(0, deadline - this.clock.monotonicMs());
    this.timer = setTimeout(() => this.onTimer(), delay);
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerDeadline = undefined;
    if (this.stopped) return;
    const now = this.clock.monotonicMs();
    try {
      this.apply(this.tcp.poll(now), now);
    } catch (error) {
      this.counters.increment('timer-handler-exceptions');
      this.limitedLog.error('timer-handler', { err: error }, 'exception while running timers: data path continues');
    }
    this.armTimer();
  }
}

// What the Host tests share: a Host on one end of an in-memory link, and the raw-frame peer on the other end that
// plays the instance kernel (frames queue until the test takes them).
import assert from 'node:assert/strict';
import { pino, type Logger } from 'pino';
import { createMemoryLinkPair, type FrameLink } from '../../src/link/index.ts';
import { parseIpv4Address, parseMacAddress } from '../../src/wire/index.ts';
import type { TcpSegment } from '../../src/wire/tcp-segment.ts';
import { DEFAULT_TCP_CONFIG } from '../../src/tcp/index.ts';
import { defaultInstance, type ImdsEngine } from '../../src/imds/index.ts';
import { Host, type HostConfig } from '../../src/appliance/host.ts';
import type { ServiceEngine } from '../../src/appliance/http-sessions.ts';
import { NOW_MS, makeEngine } from '../imds/helpers.ts';

export const SERVICE_MAC = parseMacAddress('02:a9:fe:a9:fe:01');
export const PEER_MAC = parseMacAddress('02:00:00:00:00:02');
export const SERVICE_ADDR = parseIpv4Address('169.254.169.254');
export const HOP_LIMIT = 3;

export class FramePeer {
  private queue: Uint8Array[] = [];
  private waiters: Array<() => void> = [];

  constructor(readonly link: FrameLink) {
    link.onFrames((frames) => {
      this.queue.push(...frames);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  send(frame: Uint8Array): void {
    assert.ok(this.link.send(frame));
  }

  async next(timeoutMs = 1000): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (Date.now() > deadline) throw new Error('no frame from the host');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
    return this.queue.shift()!;
  }
}

/** A raw-frame peer that speaks TCP to the host over IPv4 or IPv6. */
export interface TcpPeer {
  sendTcp(segment: Partial<TcpSegment> & Pick<TcpSegment, 'seq'>): void;
  /** The next TCP segment from the host, with its IP packet as sent (header included). */
  nextTcp(): Promise<{ segment: TcpSegment; packet: Uint8Array }>;
}

/** Sends one request; returns the IP packet of the first response segment that carries data. */
export async function firstDataPacket(
  peer: TcpPeer,
  state: { seq: number; ack: number },
  request: string,
): Promise<Uint8Array> {
  const bytes = new TextEncoder().encode(request);
  peer.sendTcp({ seq: state.seq, ack: state.ack, push: true, payload: bytes });
  state.seq += bytes.length;
  for (;;) {
    const { segment, packet } = await peer.nextTcp();
    if (segment.payload.length > 0) return packet;
  }
}

export interface TestHostOptions {
  mss: number;
  /** The IPv6 endpoint, with http-protocol-ipv6 enabled or not at start. */
  ipv6?: { serviceAddress: Uint8Array; enabled: boolean };
  /** Where the host logs; silent by default. */
  log?: Logger;
  /** The Host's connection policy; unset leaves the Host's default (close, as EC2). */
  connection?: HostConfig['connection'];
  /** Changes to the host's configuration (limits, timeouts) before it starts. */
  configure?: (config: HostConfig) => void;
  /** The instance's hop limit (httpPutResponseHopLimit); HOP_LIMIT unless given. */
  hopLimit?: number;
  /** Wraps the engine the host calls, e.g. to inject a fault. */
  wrapEngine?: (engine: ImdsEngine) => ServiceEngine;
}

/** A pino logger whose JSON lines are kept, parsed, for assertions on what the host logged. */
export function recordingLogger(): { log: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'info' },
    { write: (line: string) => void records.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { log, records };
}

/** A started Host serving the default instance (hop limit HOP_LIMIT) and the raw link end facing it. */
export function startTestHost(options: TestHostOptions): { host: Host; engine: ImdsEngine; peerSide: FrameLink } {
  const [hostSide, peerSide] = createMemoryLinkPair(['host', 'peer']);
  const instance = defaultInstance();
  instance.instanceId = 'i-0123456789abcdef0';
  instance.options.httpPutResponseHopLimit = options.hopLimit ?? HOP_LIMIT;
  if (options.ipv6) instance.options.httpProtocolIpv6 = options.ipv6.enabled ? 'enabled' : 'disabled';
  const { engine } = makeEngine(instance);
  const config: HostConfig = {
    mac: SERVICE_MAC,
    serviceAddress: SERVICE_ADDR,
    tcp: {
      ...DEFAULT_TCP_CONFIG,
      listenPorts: [80],
      mss: options.mss,
      defaultHopLimit: 64,
      isnSecret: new Uint8Array(32).fill(1),
    },
    http: {},
    maxNeighbors: 16,
    ...(options.connection ? { connection: options.connection } : {}),
  };
  if (options.ipv6) {
    config.ipv6 = {
      serviceAddress: options.ipv6.serviceAddress,
      enabled: () => engine.options.httpProtocolIpv6 === 'enabled',
    };
  }
  options.configure?.(config);
  const host = new Host(
    config,
    hostSide,
    options.wrapEngine?.(engine) ?? engine,
    { monotonicMs: () => performance.now(), wallMs: () => NOW_MS },
    options.log ?? pino({ level: 'silent' }),
  );
  host.start();
  return { host, engine, peerSide };
}

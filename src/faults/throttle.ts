// Throttling as EC2 does it: a packet allowance for link-local traffic (packets over it are dropped before TCP,
// so the client sees timeouts), a cap on simultaneous connections per source (refused with RST), and an optional
// request rate answered with 429 (seen from IMDS, never documented). Every limit is off by default. This file
// is the one definition of the throttle keys for the ini `[throttle]` section, `imds-hop throttle` and the
// control socket.
import { FaultSpecError, checkKnownKeys, integerField } from './spec-error.ts';
import { KeyedBuckets, TokenBucket, type BucketSettings } from './token-bucket.ts';

export interface ThrottleSettings {
  /** Packets per second to the service over the whole interface. */
  packetAllowance: BucketSettings | undefined;
  /** Packets per second to the service from one source address. */
  sourcePacketAllowance: BucketSettings | undefined;
  /** Simultaneous connections from one source address. */
  connectionsPerSource: number | undefined;
  /** Requests per second over the whole appliance, past which the answer is 429 Too Many Requests. */
  requestRate: BucketSettings | undefined;
}

export const NO_THROTTLE: ThrottleSettings = {
  packetAllowance: undefined,
  sourcePacketAllowance: undefined,
  connectionsPerSource: undefined,
  requestRate: undefined,
};

export const THROTTLE_KEYS = [
  'packet-allowance',
  'packet-burst',
  'source-packet-allowance',
  'source-packet-burst',
  'connections-per-source',
  'request-rate',
  'request-burst',
] as const;

const MAX_RATE = 10_000_000;

/** A rate key: "off" or a whole number per second; its burst key defaults to one second's worth. */
function bucket(
  fields: Readonly<Record<string, string>>,
  rateKey: string,
  burstKey: string,
  current: BucketSettings | undefined,
): BucketSettings | undefined {
  const rateText = fields[rateKey];
  const burstText = fields[burstKey];
  let next = current;
  if (rateText !== undefined) {
    const rate = rateText === 'off' ? undefined : integerField(rateKey, rateText, 1, MAX_RATE);
    next = rate === undefined ? undefined : { ratePerSecond: rate, burst: rate };
  }
  if (burstText !== undefined) {
    if (next === undefined) throw new FaultSpecError(burstKey, `given while ${rateKey} is off`, `set ${rateKey} too`);
    next = { ...next, burst: integerField(burstKey, burstText, 1, MAX_RATE) };
  }
  return next;
}

/** Applies text fields to the current settings: keys left out keep their value, "off" switches a limit off. */
export function parseThrottle(current: ThrottleSettings, fields: Readonly<Record<string, string>>): ThrottleSettings {
  checkKnownKeys(fields, THROTTLE_KEYS);
  const capText = fields['connections-per-source'];
  return {
    packetAllowance: bucket(fields, 'packet-allowance', 'packet-burst', current.packetAllowance),
    sourcePacketAllowance: bucket(
      fields,
      'source-packet-allowance',
      'source-packet-burst',
      current.sourcePacketAllowance,
    ),
    connectionsPerSource:
      capText === undefined
        ? current.connectionsPerSource
        : capText === 'off'
          ? undefined
          : integerField('connections-per-source', capText, 1, 1_000_000),
    requestRate: bucket(fields, 'request-rate', 'request-burst', current.requestRate),
  };
}

/** The settings as text fields, for `imds-hop throttle` with no change. */
export function throttleFields(settings: ThrottleSettings): Record<string, string> {
  const show = (b: BucketSettings | undefined) => (b ? String(b.ratePerSecond) : 'off');
  const fields: Record<string, string> = {
    'packet-allowance': show(settings.packetAllowance),
    'source-packet-allowance': show(settings.sourcePacketAllowance),
    'connections-per-source':
      settings.connectionsPerSource === undefined ? 'off' : String(settings.connectionsPerSource),
    'request-rate': show(settings.requestRate),
  };
  if (settings.packetAllowance) fields['packet-burst'] = String(settings.packetAllowance.burst);
  if (settings.sourcePacketAllowance) fields['source-packet-burst'] = String(settings.sourcePacketAllowance.burst);
  if (settings.requestRate) fields['request-burst'] = String(settings.requestRate.burst);
  return fields;
}

type PacketVerdict = 'pass' | 'interface-allowance' | 'source-allowance';

/** The packet allowance's state: one bucket for the interface, one per recent source (bounded). */
export class PacketAllowance {
  private readonly interfaceBucket: TokenBucket | undefined;
  private readonly sourceBuckets: KeyedBuckets | undefined;

  constructor(settings: ThrottleSettings, maxSources: number) {
    this.interfaceBucket = settings.packetAllowance ? new TokenBucket(settings.packetAllowance) : undefined;
    this.sourceBuckets = settings.sourcePacketAllowance
      ? new KeyedBuckets(settings.sourcePacketAllowance, maxSources)
      : undefined;
  }

  get active(): boolean {
    return this.interfaceBucket !== undefined || this.sourceBuckets !== undefined;
  }

  /** The source's own allowance is checked first, so one noisy source does not spend the interface's. */
  admit(source: string | number, nowMs: number): PacketVerdict {
    if (this.sourceBuckets && !this.sourceBuckets.take(source, nowMs)) return 'source-allowance';
    if (this.interfaceBucket && !this.interfaceBucket.take(nowMs)) return 'interface-allowance';
    return 'pass';
  }
}

/** Open connections per source, for the cap: counted from accept to close. */
export class ConnectionCounts {
  private readonly counts = new Map<string | number, number>();

  count(source: string | number): number {
    return this.counts.get(source) ?? 0;
  }

  opened(source: string | number): void {
    this.counts.set(source, this.count(source) + 1);
  }

  closed(source: string | number): void {
    const left = this.count(source) - 1;
    if (left > 0) this.counts.set(source, left);
    else this.counts.delete(source);
  }
}

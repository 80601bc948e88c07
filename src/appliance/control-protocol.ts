// The local control channel of a running appliance: one JSON request per line over a Unix socket, one JSON
// reply per line. `imds-hop options|events|metrics|identity-cert` speak it; only root can open the socket.
import type { MetadataOptions } from '../imds/instance.ts';
import type { CertificateKind } from '../imds/identity.ts';
import type { MaintenanceCode, SpotAction } from '../imds/value-rules.ts';

export type EventCommand =
  | { kind: 'spot-interruption'; action: SpotAction; noticeSeconds: number }
  | { kind: 'rebalance' }
  | { kind: 'maintenance'; code: MaintenanceCode; description?: string; notBeforeMs?: number; notAfterMs?: number }
  | { kind: 'cancel-maintenance'; eventId: string }
  | { kind: 'lifecycle-state'; state: string | undefined }
  | { kind: 'clear' }
  | { kind: 'list' };

/** Fault rules and throttle settings travel as the text fields the ini file uses: one parser on the appliance. */
export type FaultCommand =
  | { kind: 'add'; name: string; fields: Record<string, string> }
  | { kind: 'list' }
  | { kind: 'clear'; name?: string }
  | { kind: 'early-boot'; fields: Record<string, string> }
  | { kind: 'seed'; seed: number };

export type ControlRequest =
  | { op: 'options'; set?: Partial<MetadataOptions> }
  | { op: 'events'; command: EventCommand }
  | { op: 'rotate-credentials'; lifetimeSeconds?: number; leadTimeSeconds?: number }
  | { op: 'faults'; command: FaultCommand }
  | { op: 'throttle'; set?: Record<string, string> }
  | { op: 'metrics' }
  /** kind: which signature's certificate, or the lab CA; rsa2048 when absent. */
  | { op: 'identity-cert'; kind?: CertificateKind }
  | { op: 'status' }
  /** Every caller attribution has named, with its counts (imds-hop callers / assert). */
  | { op: 'callers' }
  | { op: 'ec2-api-credentials' };

export type ControlReply = { ok: true; result: unknown } | { ok: false; code: string; error: string };

/** Default socket path: one per served interface, so several appliances can run side by side. */
export function defaultControlSocket(interfaceName: string): string {
  return `/run/imds-hop/${interfaceName}.sock`;
}

/** Replies larger than this are refused by the client: the protocol carries options and metrics, not bulk. */
export const MAX_CONTROL_MESSAGE_BYTES = 4 * 1024 * 1024;

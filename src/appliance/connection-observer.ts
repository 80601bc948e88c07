// What the Host tells caller attribution (caller-tracking.ts) about connections and requests.
import type { ConnectionId } from '../tcp/index.ts';
import type { ImdsResponse } from '../imds/index.ts';

/** A connection's endpoints as seen on the link, for naming its caller. */
export interface ObservedConnection {
  clientAddress: Uint8Array;
  clientPort: number;
  serviceAddress: Uint8Array;
  servicePort: number;
  clientMac: Uint8Array | undefined;
}

/** Told about connections and requests by the Host; must return at once (its work is asynchronous). */
export interface ConnectionObserver {
  /** A SYN: naming the caller may start before the handshake ends, while a short-lived client still lives. */
  connecting(connection: ObservedConnection): void;
  opened(id: ConnectionId, connection: ObservedConnection): void;
  answered(id: ConnectionId, target: string, response: ImdsResponse): void;
  closed(id: ConnectionId): void;
  tokenDied(client: string, clientPort: number, hop: number): void;
}

// What the Host gives each endpoint of the service address (IPv4, IPv6): the same link-side settings and the
// same collaborators, so the two modules differ only in their protocols.
import type { TcpStack } from '../tcp/index.ts';
import type { ConnectionObserver } from './connection-observer.ts';
import type { HostPort } from './host-port.ts';
import type { IcmpErrorReports } from './icmp-error-reports.ts';

export interface EndpointLinkConfig<Source> {
  /** The appliance's MAC: the source of every frame it sends. */
  mac: Uint8Array;
  /** Remote addresses whose MAC is remembered for replies; bounds memory under spoofed sources. */
  maxNeighbors: number;
  /** Accept TCP checksums a capture sees unfinished (the sender offloads them); only for pcap links. */
  acceptOffloadedChecksums: boolean;
  /** Fault injection's packet allowance, asked per packet to the service; without it every packet is admitted. */
  admit?: (source: Source, now: number) => boolean;
}

export interface EndpointContext {
  readonly port: HostPort;
  /** Shared by both endpoints: the stack keys IPv6 peers by synthetic ids (ipv6-peers.ts). */
  readonly tcp: TcpStack;
  readonly errors: IcmpErrorReports;
  /** Caller attribution, read per use: it is set on the Host after construction. */
  readonly observer: () => ConnectionObserver | undefined;
}

// ICMP and ICMPv6 errors about our own packets, for both address families: one counts only when it quotes a
// segment we sent and the peer has not acknowledged (RFC 5927 4.1); then it is logged, and a token response a
// router let expire is counted as the hop limit doing its job and told to caller attribution. Whether the
// packet was a token response comes from the tag its bytes carried when they left, never from its hop limit.
import type { TcpStack } from '../tcp/index.ts';
import type { ConnectionObserver } from './connection-observer.ts';
import type { HostPort } from './host-port.ts';

/** What an ICMP or ICMPv6 error told us about one of our response packets, for the log. */
interface RefusedResponse {
  icmp: 'time-exceeded' | 'destination-unreachable';
  code: number;
  router: string;
  client: string;
  clientPort: number | undefined;
  /** The TTL / Hop Limit the packet left with, when known. */
  sentHopLimit: number | undefined;
  /** Read from the tag the packet's bytes carried when it left. */
  tokenResponse: boolean;
}

export class IcmpErrorReports {
  constructor(
    private readonly port: HostPort,
    private readonly tcp: TcpStack,
    private readonly observer: () => ConnectionObserver | undefined,
  ) {}

  /** RFC 5927 4.1: an ICMP error counts only if it quotes a segment we sent and the peer has not acknowledged. */
  quotesOurSegment(
    local: number,
    remote: number | undefined,
    localPort?: number,
    remotePort?: number,
    seq?: number,
  ): boolean {
    const matched =
      remote !== undefined &&
      localPort !== undefined &&
      remotePort !== undefined &&
      seq !== undefined &&
      this.tcp.sentSequenceMatches(local, localPort, remote, remotePort, seq);
    if (!matched) this.port.count('icmp-errors-unmatched');
    return matched;
  }

  /** Logs (and counts, for a token) one of our packets that a router refused or let expire on the way. */
  report(refused: RefusedResponse): void {
    if (refused.icmp === 'time-exceeded' && refused.tokenResponse) {
      this.port.count('token-responses-died-in-transit');
      if (refused.clientPort !== undefined && refused.sentHopLimit !== undefined) {
        this.observer()?.tokenDied(refused.client, refused.clientPort, refused.sentHopLimit);
      }
    }
    this.port.log.warn(
      'icmp-error',
      { ...refused },
      refused.icmp !== 'time-exceeded'
        ? 'response packet refused on the way to the client'
        : refused.tokenResponse
          ? `token response died at hop ${refused.sentHopLimit}: the hop limit stopped it at a router`
          : `response packet died in transit${refused.sentHopLimit ? ` at hop ${refused.sentHopLimit}` : ''}: TTL exhausted at a router`,
    );
  }
}

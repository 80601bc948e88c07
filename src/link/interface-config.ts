// Puts the instance side of the tap in place with iproute2: link up, a link-local host address, and the
// /32 route that sends metadata traffic into the tap. Runs once at start and once at stop, so synchronous is fine.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { LinkError } from './frame-link.ts';

interface InterfacePlan {
  interfaceName: string;
  /** Address the instance's kernel holds on the tap, e.g. "169.254.169.253". */
  hostAddress: string;
  /** The metadata service address routed into the tap, e.g. "169.254.169.254". */
  serviceAddress: string;
  /** The instance's IPv6 address on the tap, e.g. "fd00:ec2::253"; with ipv6ServiceAddress, sets up IPv6. */
  ipv6HostAddress?: string;
  /** The IPv6 endpoint routed into the tap, e.g. "fd00:ec2::254". */
  ipv6ServiceAddress?: string;
}

function ip(args: string[]): void {
  try {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
    if ((error as { code?: string }).code === 'ENOENT') {
      throw new LinkError('IPROUTE2_MISSING', 'the "ip" command (iproute2) is not installed', { cause: error });
    }
    throw new LinkError('INTERFACE_CONFIG_FAILED', `ip ${args.join(' ')} failed: ${stderr}`, { cause: error });
  }
}

/** Configures the tap and returns the function that undoes it (safe to call more than once). */
export function configureTapInterface(plan: InterfacePlan): () => void {
  const { interfaceName: dev, hostAddress, serviceAddress, ipv6HostAddress, ipv6ServiceAddress } = plan;
  const ipv6Conf = `/proc/sys/net/ipv6/conf/${dev}`;
  // IPv6 only when asked for and the kernel has it; router advertisements and autoconfiguration stay off to
  // limit what the kernel chatters into the tap. Without IPv6 the kernel does not chatter (DAD, MLD, RS) at all.
  const ipv6 = ipv6HostAddress !== undefined && ipv6ServiceAddress !== undefined && existsSync(ipv6Conf);
  if (ipv6) {
    writeFileSync(`${ipv6Conf}/accept_ra`, '0');
    writeFileSync(`${ipv6Conf}/autoconf`, '0');
    writeFileSync(`${ipv6Conf}/disable_ipv6`, '0');
  } else if (existsSync(`${ipv6Conf}/disable_ipv6`)) {
    writeFileSync(`${ipv6Conf}/disable_ipv6`, '1');
  }
  ip(['link', 'set', 'dev', dev, 'up']);
  ip(['address', 'add', `${hostAddress}/32`, 'dev', dev]);
  ip(['route', 'replace', `${serviceAddress}/32`, 'dev', dev, 'src', hostAddress]);
  if (ipv6) {
    ip(['-6', 'address', 'add', `${ipv6HostAddress}/128`, 'dev', dev, 'nodad']);
    ip(['-6', 'route', 'replace', `${ipv6ServiceAddress}/128`, 'dev', dev, 'src', ipv6HostAddress]);
  }
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    const steps = [
      ['route', 'del', `${serviceAddress}/32`, 'dev', dev],
      ['address', 'del', `${hostAddress}/32`, 'dev', dev],
    ];
    if (ipv6) {
      steps.unshift(
        ['-6', 'route', 'del', `${ipv6ServiceAddress}/128`, 'dev', dev],
        ['-6', 'address', 'del', `${ipv6HostAddress}/128`, 'dev', dev],
      );
    }
    for (const args of steps) {
      try {
        ip(args);
      } catch {
        // already gone (e.g. the tap was removed under us): nothing left to undo
      }
    }
  };
}

// Puts the instance side of the tap in place with iproute2: link up, a link-local host address, and the
// /32 route that sends metadata traffic into the tap. Runs once at start and once at stop, so synchronous is fine.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { LinkError } from './frame-link.ts';

export interface InterfacePlan {
  interfaceName: string;
  /** Address the instance's kernel holds on the tap, e.g. "169.254.169.253". */
  hostAddress: string;
  /** The metadata service address routed into the tap, e.g. "169.254.169.254". */
  serviceAddress: string;
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
  const { interfaceName: dev, hostAddress, serviceAddress } = plan;
  // The tap only speaks IPv4 for now; without IPv6 the kernel does not chatter (DAD, MLD, RS) into it.
  const ipv6Switch = `/proc/sys/net/ipv6/conf/${dev}/disable_ipv6`;
  if (existsSync(ipv6Switch)) writeFileSync(ipv6Switch, '1');
  ip(['link', 'set', 'dev', dev, 'up']);
  ip(['address', 'add', `${hostAddress}/32`, 'dev', dev]);
  ip(['route', 'replace', `${serviceAddress}/32`, 'dev', dev, 'src', hostAddress]);
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    for (const args of [
      ['route', 'del', `${serviceAddress}/32`, 'dev', dev],
      ['address', 'del', `${hostAddress}/32`, 'dev', dev],
    ]) {
      try {
        ip(args);
      } catch {
        // already gone (e.g. the tap was removed under us): nothing left to undo
      }
    }
  };
}

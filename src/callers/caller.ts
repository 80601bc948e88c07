// Who made a connection to the metadata service, as attribution found it, and the key callers are grouped by.
import type { Container } from './cgroup.ts';

export type CallerKind =
  /** A process on this host, found through its socket (sock_diag) and /proc. */
  | 'process'
  /** A client forwarded through NAT on this host (another namespace, a VM): its address before NAT (conntrack). */
  | 'forwarded'
  /** Known only by the address and MAC it came from (the pcap backend, or nothing else was found). */
  | 'address'
  /** A local socket whose process was gone before it could be named (uid and cgroup still known). */
  | 'unresolved';

export interface CallerIdentity {
  kind: CallerKind;
  /** Short name for tables and log lines, e.g. "curl", "python3 fetch.py", "198.18.0.2 (netns lab-client)". */
  name: string;
  /** The pid that held the socket (one of the caller's pids). */
  pid?: number;
  command?: string;
  executable?: string;
  /** argv joined by spaces, truncated. */
  commandLine?: string;
  uid?: number;
  cgroup?: string;
  container?: Container;
  /** The network namespace of the process, or the one on this host that owns a forwarded client's address. */
  netns?: string;
  /** The client address as imds-hop saw it (after any NAT). */
  sourceAddress: string;
  sourceMac?: string;
  /** A forwarded client's address before NAT. */
  originalAddress?: string;
  /** Why nothing more precise was found. */
  note?: string;
}

export const MAX_COMMAND_LINE = 200;

/** Connections of one caller are grouped by what stays the same across its pids. */
/** Identities are values, shared between connections (resolver.ts): each one's key is worked out once. */
const keys = new WeakMap<CallerIdentity, string>();

export function callerKey(identity: CallerIdentity): string {
  let key = keys.get(identity);
  if (key === undefined) {
    key = keyOf(identity);
    keys.set(identity, key);
  }
  return key;
}

function keyOf(identity: CallerIdentity): string {
  switch (identity.kind) {
    case 'process':
      return ['process', identity.uid, identity.cgroup, identity.netns, identity.executable, identity.commandLine].join(
        '|',
      );
    case 'forwarded':
      return ['forwarded', identity.originalAddress, identity.netns].join('|');
    case 'address':
      return ['address', identity.sourceAddress, identity.sourceMac].join('|');
    case 'unresolved':
      return ['unresolved', identity.sourceAddress, identity.uid, identity.cgroup, identity.command].join('|');
  }
}

/** A command line as a short caller name: the command and its first argument that is not an option. */
export function shortName(command: string, argv: readonly string[]): string {
  const script = argv.slice(1).find((arg) => !arg.startsWith('-') && /\.(py|js|mjs|ts|sh|rb|pl)$/.test(arg));
  return script ? `${command} ${script.split('/').pop()}` : command;
}

/**
 * A command line fit for logs and reports: a session token passed in a header (curl -H "X-aws-ec2-metadata-token:
 * ...") and values of options that name a secret (--aws-secret-access-key X, --token=X) are replaced.
 */
export function redactCommandLine(argv: readonly string[]): string {
  const redacted: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const previous = argv[i - 1] ?? '';
    if (/^--?[\w-]*(secret|token|password)[\w-]*$/i.test(previous) && !arg.startsWith('-')) redacted.push('[redacted]');
    else
      redacted.push(
        arg
          .replace(/(x-aws-ec2-metadata-token\s*:\s*)\S+/gi, '$1[redacted]')
          .replace(/^(--?[\w-]*(?:secret|token|password)[\w-]*=).+$/i, '$1[redacted]'),
      );
  }
  return redacted.join(' ');
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

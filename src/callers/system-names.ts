// The names attribution gives what the kernel numbers: a network namespace's name (by its inode, or by an address
// on one of its interfaces, from /run/netns) and a cgroup's path (by its id). They change slowly, so each answer
// comes from a listing cached for seconds, and every listing is bounded.
import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const NETNS_DIR = '/run/netns';
const MAX_NAMESPACES = 256;
const NAMESPACE_CACHE_MS = 5_000;
const MAX_CGROUP_DIRS = 20_000;
const CGROUP_REWALK_MS = 5_000;

export class SystemNames {
  private netnsByInode: { atMs: number; names: Map<string, string> } | undefined;
  private addressesByNetns: { atMs: number; owners: Map<string, string> } | undefined;
  private cgroups: { atMs: number; paths: Map<bigint, string> } | undefined;

  async netnsName(netnsLink: string): Promise<string | undefined> {
    const now = Date.now();
    if (!this.netnsByInode || now - this.netnsByInode.atMs > NAMESPACE_CACHE_MS) {
      const names = new Map<string, string>();
      for (const name of (await readdir(NETNS_DIR).catch(() => [] as string[])).slice(0, MAX_NAMESPACES)) {
        const info = await stat(join(NETNS_DIR, name)).catch(() => undefined);
        if (info) names.set(`net:[${info.ino}]`, name);
      }
      this.netnsByInode = { atMs: now, names };
    }
    return this.netnsByInode.names.get(netnsLink);
  }

  async netnsOwningAddress(address: string): Promise<string | undefined> {
    const now = Date.now();
    if (
      !this.addressesByNetns ||
      now - this.addressesByNetns.atMs > NAMESPACE_CACHE_MS ||
      !this.addressesByNetns.owners.has(address)
    ) {
      if (this.addressesByNetns && now - this.addressesByNetns.atMs < 500)
        return this.addressesByNetns.owners.get(address);
      const owners = new Map<string, string>();
      for (const name of (await readdir(NETNS_DIR).catch(() => [] as string[])).slice(0, MAX_NAMESPACES)) {
        const listing = await run('ip', ['-n', name, '-j', 'addr', 'show'], { timeout: 2000 }).catch(() => undefined);
        if (!listing) continue;
        try {
          for (const link of JSON.parse(listing.stdout) as Array<{ addr_info?: Array<{ local?: string }> }>) {
            for (const info of link.addr_info ?? [])
              if (info.local && !owners.has(info.local)) owners.set(info.local, name);
          }
        } catch {
          // an unreadable listing names nothing
        }
      }
      this.addressesByNetns = { atMs: now, owners };
    }
    return this.addressesByNetns.owners.get(address);
  }

  async cgroupPathById(id: bigint): Promise<string | undefined> {
    const now = Date.now();
    if (this.cgroups?.paths.has(id)) return this.cgroups.paths.get(id);
    if (this.cgroups && now - this.cgroups.atMs < CGROUP_REWALK_MS) return undefined;
    const root = await cgroup2Mount();
    const paths = new Map<bigint, string>();
    if (root) {
      // A cgroup's id is its directory's inode number in the cgroup2 file system.
      const queue = [''];
      while (queue.length > 0 && paths.size < MAX_CGROUP_DIRS) {
        const relative = queue.shift() as string;
        const info = await stat(join(root, relative), { bigint: true }).catch(() => undefined);
        if (!info) continue;
        paths.set(info.ino, relative === '' ? '/' : `/${relative}`);
        const entries = await readdir(join(root, relative), { withFileTypes: true }).catch(() => []);
        for (const entry of entries)
          if (entry.isDirectory()) queue.push(relative === '' ? entry.name : `${relative}/${entry.name}`);
      }
    }
    this.cgroups = { atMs: now, paths };
    return paths.get(id);
  }
}

/**
 * Where the cgroup2 hierarchy is mounted. `ip netns exec` gives its process a fresh /sys without cgroups, so when
 * this mount namespace has none, look through the root of a process that has it (pid 1's may be refused).
 */
export async function cgroup2Mount(): Promise<string | undefined> {
  const others = (await readdir('/proc').catch(() => [] as string[])).filter((name) => /^\d+$/.test(name)).slice(0, 64);
  for (const pid of ['self', '1', String(process.ppid), ...others]) {
    const mounts = await readFile(`/proc/${pid}/mountinfo`, 'utf8').catch(() => '');
    for (const line of mounts.split('\n')) {
      const [before, after] = line.split(' - ');
      const mountPoint = before?.split(' ')[4];
      if (!after?.startsWith('cgroup2 ') || !mountPoint) continue;
      const path = pid === 'self' ? mountPoint : `/proc/${pid}/root${mountPoint}`;
      if (
        await stat(path).then(
          () => true,
          () => false,
        )
      )
        return path;
    }
  }
  return undefined;
}

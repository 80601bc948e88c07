// A process's cgroup (from /proc/PID/cgroup) and the container it names, when its path carries one. Pure.

export interface Container {
  runtime: 'docker' | 'containerd' | 'cri-o' | 'podman' | 'lxc' | 'systemd';
  /** The container id (64 hex digits for OCI runtimes), or the unit name of a systemd scope/service. */
  id: string;
}

const HEX64 = '[0-9a-f]{64}';

/** Patterns for one path segment, most specific first. */
const SEGMENT_PATTERNS: ReadonlyArray<{ runtime: Container['runtime']; pattern: RegExp }> = [
  // systemd cgroup driver: docker-<id>.scope; cgroupfs driver: /docker/<id>
  { runtime: 'docker', pattern: new RegExp(`^docker-(${HEX64})\\.scope$`) },
  { runtime: 'containerd', pattern: new RegExp(`^cri-containerd-(${HEX64})\\.scope$`) },
  { runtime: 'cri-o', pattern: new RegExp(`^crio-(${HEX64})\\.scope$`) },
  // podman: libpod-<id>.scope (systemd) or libpod-<id> (cgroupfs); the conmon scope is podman's monitor, not the container
  { runtime: 'podman', pattern: new RegExp(`^libpod-(${HEX64})(?:\\.scope)?$`) },
  { runtime: 'lxc', pattern: /^lxc\.payload\.(.+)$/ },
];

/** The cgroup path a process lives in: the cgroup v2 entry ("0::/path"), else the systemd or first v1 one. */
export function cgroupPathOf(procCgroupText: string): string | undefined {
  let v2: string | undefined;
  let named: string | undefined;
  let first: string | undefined;
  for (const line of procCgroupText.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, id, controllers, path] = match as unknown as [string, string, string, string];
    if (id === '0' && controllers === '') v2 = path;
    else if (controllers === 'name=systemd') named = path;
    else first ??= path;
  }
  // In a hybrid hierarchy an unmanaged process shows "0::/" while its v1 paths say where it really is.
  if (v2 !== undefined && v2 !== '/') return v2;
  return [named, first, v2].find((path) => path !== undefined && path !== '/') ?? v2 ?? named ?? first;
}

/** Every cgroup path a process is in, v2 and v1, without duplicates: the container may show in any of them. */
function allPaths(procCgroupText: string): string[] {
  const paths = new Set<string>();
  for (const line of procCgroupText.split('\n')) {
    const match = /^\d+:[^:]*:(.*)$/.exec(line.trim());
    if (match?.[1] && match[1] !== '/') paths.add(match[1]);
  }
  return [...paths];
}

/** The container named by one cgroup path: the deepest segment that names one. */
export function containerOfPath(path: string): Container | undefined {
  const segments = path.split('/').filter((segment) => segment.length > 0);
  for (let i = segments.length - 1; i >= 0; i--) {
    const segment = segments[i] as string;
    for (const { runtime, pattern } of SEGMENT_PATTERNS) {
      const match = pattern.exec(segment);
      if (match?.[1]) return { runtime, id: match[1] };
    }
    const parent = segments[i - 1];
    // cgroupfs drivers: /docker/<id>, /kubepods/<qos>/pod<uid>/<id> (containerd or cri-o; the path cannot tell)
    if (new RegExp(`^${HEX64}$`).test(segment)) {
      if (parent === 'docker') return { runtime: 'docker', id: segment };
      if (parent === 'libpod_parent') return { runtime: 'podman', id: segment };
      if (parent?.startsWith('pod') || segments.includes('kubepods')) return { runtime: 'containerd', id: segment };
    }
    if (parent === 'lxc' && i === segments.length - 1) return { runtime: 'lxc', id: segment };
  }
  // A transient scope (systemd-run --scope) or a service: the unit is what names the workload.
  const last = segments[segments.length - 1];
  if (last && /\.(scope|service)$/.test(last) && !/^(session-\d+|init)\.scope$/.test(last))
    return { runtime: 'systemd', id: last };
  return undefined;
}

/** The container a process is in, looking at each hierarchy it belongs to. */
export function containerOf(procCgroupText: string): Container | undefined {
  const paths = allPaths(procCgroupText);
  const preferred = cgroupPathOf(procCgroupText);
  for (const path of preferred ? [preferred, ...paths.filter((p) => p !== preferred)] : paths) {
    const container = containerOfPath(path);
    if (container && container.runtime !== 'systemd') return container;
  }
  return preferred ? containerOfPath(preferred) : undefined;
}

// The one definition of the Node.js this project needs, checked before anything that needs it loads: an older
// Node gets one line (found, needed, how to fix) instead of a stack trace from deep inside (import.meta.dirname
// arrived in 20.11). Written for any Node that can load an ES module, so the check itself never crashes.
export const NODE_MINIMUM = '20.11.0';

export function nodeTooOld(found = process.versions.node) {
  const [a, b] = [found, NODE_MINIMUM].map((version) => version.split('.').map(Number));
  return (a[0] - b[0] || a[1] - b[1] || a[2] - b[2]) < 0;
}

/** Exits with status 1 and one line on stderr when this Node is older than NODE_MINIMUM. */
export function requireSupportedNode(what) {
  if (!nodeTooOld()) return;
  process.stderr.write(
    `${what}: Node.js ${process.versions.node} found (${process.execPath}), >= ${NODE_MINIMUM} needed: ` +
      'run "bash scripts/install-node.sh" as root (or put a newer node first on PATH)\n',
  );
  process.exit(1);
}

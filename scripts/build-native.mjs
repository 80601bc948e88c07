#!/usr/bin/env node
// Builds the N-API addon in native-bindings/ with node-gyp against the headers of the Node.js that runs this
// script (--nodedir), so an offline or proxied host builds too: node-gyp never downloads headers.
//   node scripts/build-native.mjs                 build
//   node scripts/build-native.mjs --print-nodedir print the headers' prefix (for npm_config_nodedir) and exit
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { requireSupportedNode } from './node-version.mjs';

requireSupportedNode('build-native');

const packageRoot = join(import.meta.dirname, '..');

/** A prefix whose include/node holds the headers of exactly this Node.js version. */
function headersOfThisNode(prefix) {
  const versionHeader = join(prefix, 'include/node/node_version.h');
  if (!existsSync(versionHeader) || !existsSync(join(prefix, 'include/node/node_api.h'))) return false;
  const text = readFileSync(versionHeader, 'utf8');
  const part = (name) => text.match(new RegExp(`#define ${name} (\\d+)`))?.[1];
  return (
    `${part('NODE_MAJOR_VERSION')}.${part('NODE_MINOR_VERSION')}.${part('NODE_PATCH_VERSION')}` ===
    process.versions.node
  );
}

function findNodedir() {
  const binaryDir = dirname(process.execPath); // the real binary (symlinks resolved)
  const candidates = [
    process.env.npm_config_nodedir,
    dirname(binaryDir), // official tarball, Debian and NodeSource (/usr), scripts/install-node.sh's prefix
    join(dirname(binaryDir), 'node_modules', `node-${process.platform}-${process.arch}`), // npm's `node` package
    // a `node` on PATH that is this binary through a symlink: its prefix (install-node.sh links include/node there)
    ...(process.env.PATH ?? '')
      .split(delimiter)
      .filter((dir) => {
        try {
          return realpathSync(join(dir, 'node')) === process.execPath;
        } catch {
          return false;
        }
      })
      .map((dir) => dirname(dir)),
  ];
  return candidates.find((prefix) => prefix && headersOfThisNode(prefix));
}

const nodedir = findNodedir();
if (!nodedir) {
  console.error(
    `build-native: no headers for Node.js ${process.versions.node} (${process.execPath}): looked for include/node ` +
      'beside it; install Node.js with scripts/install-node.sh (headers included) or set npm_config_nodedir',
  );
  process.exit(1);
}
if (process.argv.includes('--print-nodedir')) {
  console.log(nodedir);
  process.exit(0);
}
const nodeGyp = createRequire(join(packageRoot, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
const result = spawnSync(
  process.execPath,
  [nodeGyp, 'rebuild', '--directory', join(packageRoot, 'native-bindings'), `--nodedir=${nodedir}`],
  { stdio: 'inherit', env: { ...process.env, npm_config_nodedir: nodedir } },
);
process.exit(result.status ?? 1);

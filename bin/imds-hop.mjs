#!/usr/bin/env node
// The `imds-hop` command. In a checkout (src/ present) it runs the TypeScript sources through tsx, so tests and
// developers run exactly the code they read, never a stale build — unless `npm run build` made a dist/ newer than
// every source file: then it runs that, as the packed package (dist/, no src/) always does. No loader at run time
// saves tens of MiB of memory and the start-up transform.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { requireSupportedNode } from '../scripts/node-version.mjs';

requireSupportedNode('imds-hop');
// Before any module loads: a young generation that grew during start-up stays grown. `serve --memory` then
// decides for good (src/appliance/memory-policy.ts).
setFlagsFromString('--semi-space-growth-factor=1');
const fromSources = existsSync(new URL('../src/cli/main.ts', import.meta.url)) && !distIsCurrent();
if (fromSources) {
  const { register } = await import('tsx/esm/api');
  register();
}
const { main } = await import(fromSources ? '../src/cli/main.ts' : '../dist/cli/main.js');
process.exitCode = await main(process.argv);

/** dist/ was built after the last change to any file in src/. */
function distIsCurrent() {
  const built = new URL('../dist/cli/main.js', import.meta.url);
  if (!existsSync(built)) return false;
  const builtAt = statSync(built).mtimeMs;
  const src = new URL('../src/', import.meta.url);
  return readdirSync(src, { recursive: true }).every((file) => statSync(new URL(String(file), src)).mtimeMs <= builtAt);
}

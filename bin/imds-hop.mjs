#!/usr/bin/env node
// The `imds-hop` command. In a checkout (src/ present) it runs the TypeScript sources through tsx, so tests and
// developers run exactly the code they read, never a stale build. The packed package ships the compiled dist/
// (`npm run build`) and no src/, and runs that: no loader at run time.
import { existsSync } from 'node:fs';
import { requireSupportedNode } from '../scripts/node-version.mjs';

requireSupportedNode('imds-hop');
const fromSources = existsSync(new URL('../src/cli/main.ts', import.meta.url));
if (fromSources) {
  const { register } = await import('tsx/esm/api');
  register();
}
const { main } = await import(fromSources ? '../src/cli/main.ts' : '../dist/cli/main.js');
process.exitCode = await main(process.argv);

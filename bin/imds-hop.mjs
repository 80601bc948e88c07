#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so the installed command and the tests run the same code.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv);

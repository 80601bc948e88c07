#!/usr/bin/env node
// @smithy/credential-provider-imds fromInstanceMetadata() with the SDK's defaults (1,000 ms timeout, no retries),
// one provider kept for the whole run so its static stability (past credentials) is what is tested. Each "call"
// line on stdin calls the provider once and prints one JSON line: the access key id and expiration, or the error.
import { createInterface } from 'node:readline';
import { fromInstanceMetadata } from '@smithy/credential-provider-imds';

const warnings = [];
const logger = {
  debug() {},
  info() {},
  warn: (...args) => warnings.push(args.map(String).join(' ').slice(0, 200)),
  error() {},
};
const provider = fromInstanceMetadata({ logger });
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== 'call') continue;
  const started = Date.now();
  warnings.length = 0;
  try {
    const credentials = await provider();
    console.log(
      JSON.stringify({
        accessKeyId: credentials.accessKeyId,
        expiration: credentials.expiration?.toISOString(),
        elapsedMs: Date.now() - started,
        warnings,
      }),
    );
  } catch (error) {
    console.log(JSON.stringify({ error: error.message, name: error.name, elapsedMs: Date.now() - started, warnings }));
  }
}

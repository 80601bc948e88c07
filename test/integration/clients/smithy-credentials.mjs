#!/usr/bin/env node
// Fetches role credentials the way every AWS SDK for JavaScript v3 client does on EC2, with no endpoint
// override: @smithy/credential-provider-imds fromInstanceMetadata(). Run inside a test namespace.
//   smithy-credentials.mjs [calls] [pauseMs]
// Prints one JSON line per call: the access key id, whether a secret and session token came, the expiration.
// The secret itself is never printed.
import { fromInstanceMetadata } from '@smithy/credential-provider-imds';

const calls = Number(process.argv[2] ?? 1);
const pauseMs = Number(process.argv[3] ?? 0);
const provider = fromInstanceMetadata({ timeout: 2000, maxRetries: 1 });
for (let i = 0; i < calls; i += 1) {
  if (i > 0 && pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  const credentials = await provider();
  console.log(
    JSON.stringify({
      accessKeyId: credentials.accessKeyId,
      hasSecret: typeof credentials.secretAccessKey === 'string' && credentials.secretAccessKey.length >= 40,
      hasSessionToken: typeof credentials.sessionToken === 'string' && credentials.sessionToken.length > 0,
      expiration: credentials.expiration?.toISOString(),
    }),
  );
}

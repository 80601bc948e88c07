// Loss on the path: nftables drops 10% of the IP packets between the instance's kernel and the tap, both ways,
// at random. Both TCP stacks must recover (retransmissions, duplicate ACKs) and every request must succeed.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  Appliance,
  REPO_ROOT,
  SERVICE_ADDRESS,
  cleanupAll,
  createNamespace,
  inNamespace,
  runSync,
  skipUnlessRoot,
  sumCounters,
  sweepStaleNamespaces,
} from './harness.ts';

const HTTP_CLIENT = join(REPO_ROOT, 'test/integration/clients/http-client.mjs');

function lossRules(tap: string): string {
  return `table inet ih_loss {
  chain from_appliance { type filter hook prerouting priority raw; iifname "${tap}" numgen random mod 10 == 0 counter drop; }
  chain to_appliance { type filter hook postrouting priority 300; oifname "${tap}" numgen random mod 10 == 0 counter drop; }
}
`;
}

function droppedPackets(namespace: string): number {
  const listing = runSync('ip', ['netns', 'exec', namespace, 'nft', 'list', 'table', 'inet', 'ih_loss']);
  return [...listing.matchAll(/counter packets (\d+)/g)].reduce((total, match) => total + Number(match[1]), 0);
}

describe('10% random packet loss between the instance and the appliance', { skip: skipUnlessRoot }, () => {
  let namespace: string;
  let appliance: Appliance;

  before(async () => {
    sweepStaleNamespaces();
    namespace = createNamespace('loss');
    appliance = await Appliance.start(namespace, ['--log-level', 'info']);
    const load = await inNamespace(namespace, 'sh', [
      '-c',
      `printf '%s' '${lossRules(appliance.interfaceName)}' | nft -f -`,
    ]);
    assert.equal(load.code, 0, `nft refused the loss rules: ${load.stderr}`);
  });

  after(async () => {
    await appliance?.stop();
    cleanupAll();
  });

  test('50 sequential requests all succeed', async () => {
    const result = await inNamespace(
      namespace,
      process.execPath,
      [HTTP_CLIENT, 'sequential', '50', `http://${SERVICE_ADDRESS}/latest/meta-data/`, '60000'],
      600_000,
    );
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.deepEqual(summary.errors, []);
    assert.equal(summary.ok, 50);
    // The loss was real, and the appliance's side of the recovery happened.
    assert.ok(droppedPackets(namespace) > 0, 'nftables dropped nothing');
    const counters = await appliance.counters();
    assert.ok(
      sumCounters(counters, 'tcp-retransmi') +
        sumCounters(counters, 'tcp-syn-ack-retransmissions') +
        sumCounters(counters, 'tcp-duplicate') >
        0,
      `no recovery visible in the appliance counters: ${JSON.stringify(counters)}`,
    );
  });
});

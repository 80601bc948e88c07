// Operator errors of the link backends: each names the problem and carries a stable code, and nothing is left
// behind. Run in a namespace of the test's own; "without root" is root without CAP_NET_ADMIN and CAP_NET_RAW (dropped
// from the bounding, inheritable and ambient sets), not another user, so a checkout under a 0700 /root still loads.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  REPO_ROOT,
  cleanupAll,
  createNamespace,
  inNamespace,
  skipUnlessRoot,
  sweepStaleNamespaces,
} from './harness.ts';
import { LinkError, openPcapLink } from '../../src/link/index.ts';
import { parseMacAddress } from '../../src/wire/index.ts';

const BIN = join(REPO_ROOT, 'bin/imds-hop.mjs');
const WITHOUT_NET_CAPS = [
  'setpriv',
  '--bounding-set=-net_admin,-net_raw',
  '--inh-caps=-net_admin,-net_raw',
  '--ambient-caps=-net_admin,-net_raw',
];

describe('link backend errors', { skip: skipUnlessRoot }, () => {
  let namespace: string;

  before(() => {
    sweepStaleNamespaces();
    namespace = createNamespace('err');
  });

  after(() => cleanupAll());

  const serve = (args: string[], withoutNetCaps = false) =>
    inNamespace(namespace, withoutNetCaps ? (WITHOUT_NET_CAPS[0] as string) : process.execPath, [
      ...(withoutNetCaps ? [...WITHOUT_NET_CAPS.slice(1), process.execPath] : []),
      BIN,
      'serve',
      '--metrics-listen',
      'off',
      '--control-socket',
      `/tmp/${namespace}.sock`,
      ...args,
    ]);

  test('pcap on a missing interface: INTERFACE_MISSING', async () => {
    const result = await serve(['--backend', 'pcap', '--interface', 'nosuch0']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /interface "nosuch0" does not exist .*\[INTERFACE_MISSING\]/);
  });

  test('pcap without root: NOT_PERMITTED', async () => {
    const result = await serve(['--backend', 'pcap', '--interface', 'lo'], true);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /needs root .*\[NOT_PERMITTED\]/);
  });

  test('tap without root: NOT_PERMITTED', async () => {
    const result = await serve(['--interface', 'ihnocaps0'], true);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /needs root \(CAP_NET_ADMIN\) \[NOT_PERMITTED\]/);
  });

  test('a capture filter libpcap refuses: BPF_COMPILE_FAILED', () => {
    // The daemon validates addresses first, so only a direct call can hand libpcap an impossible filter.
    assert.throws(
      () =>
        openPcapLink({
          interfaceName: 'lo',
          serviceAddress: '169.254.169.999',
          serviceMac: parseMacAddress('02:a9:fe:a9:fe:01'),
        }),
      (error: unknown) =>
        error instanceof LinkError && error.code === 'BPF_COMPILE_FAILED' && /capture filter/.test(error.message),
    );
  });
});

// How a tap's frames cross to the kernel: in io_uring batches (one system call per batch) wherever the kernel
// allows it, and one read()/write() per frame with --tap-io syscalls. Both serve the kernel's TCP (curl) the same:
// a token by PUT, a 64 KiB user-data body that spans many segments and batches, and a metadata GET with the token.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  Appliance,
  SERVICE_ADDRESS,
  cleanupAll,
  createNamespace,
  inNamespace,
  skipUnlessRoot,
  temporaryDirectory,
} from './harness.ts';

const BASE = `http://${SERVICE_ADDRESS}`;
/** 0 (or absent on kernels before the sysctl existed, 5.6+): io_uring is open to this process. */
const ioUringAllowed =
  !existsSync('/proc/sys/kernel/io_uring_disabled') ||
  readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8').trim() === '0';

async function serveAndFetch(tapIo: 'auto' | 'syscalls'): Promise<string> {
  const workDir = temporaryDirectory();
  const userData = randomBytes(64 * 1024);
  writeFileSync(join(workDir, 'user-data'), userData);
  const namespace = createNamespace('tapio');
  const appliance = await Appliance.start(namespace, [
    '--tap-io',
    tapIo,
    '--user-data-file',
    join(workDir, 'user-data'),
  ]);
  try {
    const serving = await appliance.waitFor((r) => r.msg === 'serving');
    const put = await inNamespace(namespace, 'curl', [
      '-sS',
      '--max-time',
      '10',
      '-X',
      'PUT',
      '-H',
      'X-aws-ec2-metadata-token-ttl-seconds: 60',
      `${BASE}/latest/api/token`,
    ]);
    assert.equal(put.code, 0, put.stderr);
    const header = `X-aws-ec2-metadata-token: ${put.stdout}`;
    const body = await inNamespace(namespace, 'sh', [
      '-c',
      `curl -sS --max-time 10 -H '${header}' ${BASE}/latest/user-data | sha256sum`,
    ]);
    assert.equal(body.code, 0, body.stderr);
    const expected = (await inNamespace(namespace, 'sha256sum', [join(workDir, 'user-data')])).stdout.split(' ')[0];
    assert.equal(body.stdout.split(' ')[0], expected, 'user data came back changed');
    const leaf = await inNamespace(namespace, 'curl', [
      '-sS',
      '--max-time',
      '10',
      '-H',
      header,
      `${BASE}/latest/meta-data/instance-id`,
    ]);
    assert.match(leaf.stdout, /^i-[0-9a-f]+$/);
    return String(serving.linkIo);
  } finally {
    await appliance.stop();
  }
}

describe('tap I/O: io_uring batches or a system call per frame', { skip: skipUnlessRoot }, () => {
  after(() => cleanupAll());

  test('auto: io_uring where the kernel allows it, and curl is served', async () => {
    const io = await serveAndFetch('auto');
    if (ioUringAllowed) assert.equal(io, 'io_uring');
    else assert.match(io, /^syscalls \(/);
  });

  test('--tap-io syscalls: a read/write per frame, says so, and curl is served the same', async () => {
    assert.equal(await serveAndFetch('syscalls'), 'syscalls (serve --tap-io syscalls)');
  });
});

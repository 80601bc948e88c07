// The native FrameWatcher on a pipe (any readable fd will do, no root or tap needed): a callback that throws must
// not leave a JS exception pending in the addon, and the watcher must keep delivering.
import assert from 'node:assert/strict';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { loadNativeBindings } from '../../src/link/native.ts';

const addonBuilt = existsSync(fileURLToPath(new URL('../../native-bindings/build/Release/imds_hop_native.node', import.meta.url)));

describe('native FrameWatcher', { skip: addonBuilt ? false : 'native addon not built' }, () => {
  it('survives callbacks that throw: the exception goes to onError, later batches still arrive', { timeout: 20_000 }, async () => {
    const directory = mkdtempSync(join(tmpdir(), 'imds-hop-fifo-'));
    const fifo = join(directory, 'frames');
    spawnSync('mkfifo', [fifo]);
    // O_RDWR on a FIFO never blocks and never sees EOF: the watcher reads "frames" (chunks) as a tap's reader would.
    const readFd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    const writeFd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    const native = loadNativeBindings();
    const batches: string[] = [];
    const errors: unknown[] = [];
    let waiting: (() => void) | undefined;
    const watcher = new native.FrameWatcher(
      readFd,
      (frames) => {
        const text = frames.map((f) => f.toString()).join('');
        batches.push(text);
        waiting?.();
        if (text.startsWith('throw')) throw new RangeError('Invalid time value');
      },
      (error) => errors.push(error),
    );
    const next = () => new Promise<void>((resolve, reject) => {
      waiting = resolve;
      setTimeout(() => reject(new Error(`no batch; got ${JSON.stringify(batches)}`)), 5_000);
    });
    try {
      for (const message of ['throw 1', 'after 1', 'throw 2', 'after 2']) {
        const arrived = next();
        writeSync(writeFd, message);
        await arrived;
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.deepEqual(batches, ['throw 1', 'after 1', 'throw 2', 'after 2']);
      assert.equal(errors.length, 2);
      assert.ok(errors[0] instanceof RangeError);
      assert.equal(watcher.callbackExceptions, 2);
      // N-API still works after the faults: a fresh call into the addon succeeds.
      assert.throws(() => native.openTap(''), /interface name/);
    } finally {
      watcher.stop();
      closeSync(readFd);
      closeSync(writeFd);
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

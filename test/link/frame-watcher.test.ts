// The native FrameWatcher on a pipe (any readable fd will do, no root or tap needed): a callback that throws must
// not leave a JS exception pending in the addon, and the watcher must keep delivering.
import assert from 'node:assert/strict';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { loadNativeBindings } from '../../src/link/native.ts';

const addonBuilt = existsSync(
  fileURLToPath(new URL('../../native-bindings/build/Release/imds_hop_native.node', import.meta.url)),
);

describe('native FrameWatcher', { skip: addonBuilt ? false : 'native addon not built' }, () => {
  it(
    'survives callbacks that throw: the exception goes to onError, later batches still arrive',
    { timeout: 20_000 },
    async () => {
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
        (bytes, lengths, count) => {
          let total = 0;
          for (let i = 0; i < count; i++) total += lengths[i] as number;
          const text = bytes.subarray(0, total).toString();
          batches.push(text);
          waiting?.();
          if (text.startsWith('throw')) throw new RangeError('Invalid time value');
        },
        (error) => errors.push(error),
      );
      const next = () =>
        new Promise<void>((resolve, reject) => {
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
    },
  );

  it('writeFrames writes each packed frame with its own write(), and refuses a table longer than given', () => {
    const [readFd, writeFd] = pipeFds();
    const native = loadNativeBindings();
    try {
      const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const lengths = new Uint32Array([2, 3, 4]);
      assert.equal(native.writeFrames(writeFd, bytes, lengths, 3), 3);
      const got = Buffer.alloc(16);
      assert.equal(readSync(readFd, got), 9);
      assert.deepEqual([...got.subarray(0, 9)], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
      // lengths that run past the bytes: nothing beyond them is written
      assert.equal(native.writeFrames(writeFd, bytes, new Uint32Array([4, 10]), 2), 1);
      assert.throws(() => native.writeFrames(writeFd, bytes, lengths, 4), RangeError);
      assert.equal(native.writeFrames(-1, bytes, lengths, 1), 0, 'a refused write is a frame not written, not a throw');
    } finally {
      closeSync(readFd);
      closeSync(writeFd);
    }
  });
});

/** A FIFO opened both ways (non-blocking), removed at once: an fd pair like a pipe's. */
function pipeFds(): [number, number] {
  const directory = mkdtempSync(join(tmpdir(), 'imds-hop-fifo-'));
  const fifo = join(directory, 'frames');
  spawnSync('mkfifo', [fifo]);
  const readFd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  const writeFd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  rmSync(directory, { recursive: true, force: true });
  return [readFd, writeFd];
}

// SendBatch: frames queued in one turn leave in one write call, in order and byte for byte; the pool is bounded
// (flushed early when full), a refused frame is counted, and the caller may reuse its bytes at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BATCH_POOL_BYTES, MAX_BATCH_FRAMES, MAX_FRAME_BYTES, SendBatch } from '../../src/link/send-batch.ts';

function recorder(accept: (frame: Uint8Array) => boolean = () => true) {
  const calls: Uint8Array[][] = [];
  const write = (bytes: Uint8Array, lengths: Uint32Array, count: number): number => {
    const frames: Uint8Array[] = [];
    let offset = 0;
    let written = 0;
    for (let i = 0; i < count; i++) {
      const frame = bytes.slice(offset, offset + (lengths[i] as number));
      offset += lengths[i] as number;
      frames.push(frame);
      if (accept(frame)) written += 1;
    }
    calls.push(frames);
    return written;
  };
  return { calls, write };
}

function manualScheduler() {
  const pending: Array<() => void> = [];
  return {
    schedule: (flush: () => void) => pending.push(flush),
    runAll: () => pending.splice(0).forEach((f) => f()),
    pending,
  };
}

const frameOf = (length: number, fill: number) => new Uint8Array(length).fill(fill);

describe('SendBatch', () => {
  it('writes the frames of one turn in one call, in order, and schedules one flush per turn', () => {
    const { calls, write } = recorder();
    const turn = manualScheduler();
    const batch = new SendBatch(write, turn.schedule);
    const frames = [frameOf(60, 1), frameOf(1514, 2), frameOf(74, 3)];
    for (const frame of frames) assert.equal(batch.add(frame), true);
    assert.equal(turn.pending.length, 1, 'one flush scheduled for the turn');
    assert.equal(calls.length, 0, 'nothing written before the turn ends');
    turn.runAll();
    assert.deepEqual(calls, [frames]);
    assert.deepEqual(
      { flushes: batch.flushes, frames: batch.framesFlushed, failures: batch.failures },
      { flushes: 1, frames: 3, failures: 0 },
    );
    batch.add(frameOf(60, 4));
    assert.equal(turn.pending.length, 1, 'the next turn schedules again');
  });

  it('copies each frame at add(): a caller reusing its buffer does not change what leaves', () => {
    const { calls, write } = recorder();
    const turn = manualScheduler();
    const batch = new SendBatch(write, turn.schedule);
    const scratch = frameOf(64, 7);
    batch.add(scratch);
    scratch.fill(9);
    batch.add(scratch);
    turn.runAll();
    assert.deepEqual(calls[0], [frameOf(64, 7), frameOf(64, 9)]);
  });

  it('flushes early at MAX_BATCH_FRAMES frames or a full pool, so the queue stays bounded', () => {
    const { calls, write } = recorder();
    const turn = manualScheduler();
    const batch = new SendBatch(write, turn.schedule);
    for (let i = 0; i < MAX_BATCH_FRAMES + 1; i++) batch.add(frameOf(60, i & 0xff));
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.length, MAX_BATCH_FRAMES);
    assert.equal(batch.queued, 1);
    turn.runAll();
    const big = Math.floor(BATCH_POOL_BYTES / 3) + 1; // two fit, a third does not
    for (let i = 0; i < 3; i++) batch.add(frameOf(big, i));
    assert.equal(calls.length, 3);
    assert.deepEqual(
      calls[2]?.map((f) => f.length),
      [big, big],
    );
    turn.runAll();
    assert.deepEqual(
      calls[3]?.map((f) => f[0]),
      [2],
    );
  });

  it('refuses frames no link carries and counts frames the OS refused at flush time', () => {
    const { write } = recorder((frame) => frame[0] !== 0xee);
    const turn = manualScheduler();
    const batch = new SendBatch(write, turn.schedule);
    assert.equal(batch.add(new Uint8Array(0)), false);
    assert.equal(batch.add(new Uint8Array(MAX_FRAME_BYTES + 1)), false);
    batch.add(frameOf(60, 1));
    batch.add(frameOf(60, 0xee));
    turn.runAll();
    assert.equal(batch.failures, 1);
  });

  it('counts the whole batch as failed when the write itself throws (the fd is gone)', () => {
    const turn = manualScheduler();
    const batch = new SendBatch(() => {
      throw new Error('EBADF');
    }, turn.schedule);
    batch.add(frameOf(60, 1));
    batch.add(frameOf(60, 2));
    turn.runAll();
    assert.equal(batch.failures, 2);
    assert.equal(batch.queued, 0);
  });
});

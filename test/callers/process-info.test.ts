// The connect hook's owners are read from /proc once and reused: the same pid with the same comm within the TTL,
// read again after an exec (new comm), after the TTL, or when the process was gone; concurrent lookups share a read.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessInfoCache, processInfoFromFiles, type ProcessFiles } from '../../src/callers/process-info.ts';

function filesOf(comm: string): ProcessFiles {
  return {
    comm: Buffer.from(`${comm}\n`),
    cmdline: Buffer.from(`${comm}\0--flag\0script.py\0`),
    status: Buffer.from('Name:\tx\nUid:\t1000\t1000\t1000\t1000\n'),
    cgroup: Buffer.from('0::/user.slice\n'),
    exe: `/usr/bin/${comm}`,
    netns: 'net:[4026531840]',
  };
}

function scripted() {
  let nowMs = 0;
  const reads: number[] = [];
  const running = new Map<number, string>([[10, 'curl']]);
  const cache = new ProcessInfoCache(
    async (pid) => {
      reads.push(pid);
      const comm = running.get(pid);
      return comm ? filesOf(comm) : {};
    },
    () => nowMs,
  );
  return { cache, reads, running, advance: (ms: number) => (nowMs += ms) };
}

test('files become a ProcessInfo; a process gone before the read is undefined', () => {
  assert.deepEqual(processInfoFromFiles(10, filesOf('python3')), {
    pid: 10,
    command: 'python3',
    executable: '/usr/bin/python3',
    argv: ['python3', '--flag', 'script.py'],
    uid: 1000,
    cgroupText: '0::/user.slice\n',
    netnsLink: 'net:[4026531840]',
  });
  assert.equal(processInfoFromFiles(10, {}), undefined);
});

test('the same pid and comm within the TTL is read once, and concurrent lookups share that read', async () => {
  const { cache, reads, advance } = scripted();
  const [first, second] = await Promise.all([cache.lookup(10, 'curl'), cache.lookup(10, 'curl')]);
  advance(1_999);
  const third = await cache.lookup(10, 'curl');
  assert.equal(first?.command, 'curl');
  assert.equal(second, first);
  assert.equal(third, first);
  assert.deepEqual(reads, [10]);
  assert.deepEqual(cache.counters, { hits: 2, reads: 1 });
});

test('read again after an exec (another comm at connect) and after the TTL', async () => {
  const { cache, reads, running, advance } = scripted();
  await cache.lookup(10, 'curl');
  running.set(10, 'python3');
  assert.equal((await cache.lookup(10, 'python3'))?.command, 'python3');
  advance(2_000);
  assert.equal((await cache.lookup(10, 'python3'))?.command, 'python3');
  assert.deepEqual(reads, [10, 10, 10]);
});

test('a process that had exited is not remembered: its pid may come back as another program', async () => {
  const { cache, reads, running } = scripted();
  running.delete(10);
  assert.equal(await cache.lookup(10, 'curl'), undefined);
  running.set(10, 'curl');
  assert.equal((await cache.lookup(10, 'curl'))?.command, 'curl');
  assert.deepEqual(reads, [10, 10]);
});

test('bounded: past 1,024 pids the oldest is forgotten first', async () => {
  const { cache, reads, running } = scripted();
  for (let pid = 1; pid <= 1_025; pid++) running.set(pid, 'agent');
  for (let pid = 1; pid <= 1_025; pid++) await cache.lookup(pid, 'agent');
  await cache.lookup(1_025, 'agent');
  await cache.lookup(1, 'agent');
  assert.equal(reads.length, 1_026);
  assert.equal(reads.at(-1), 1);
});

test('known: the finished read of the same pid and comm within the TTL, and nothing before, after or for another comm', async () => {
  const { cache, advance } = scripted();
  const reading = cache.lookup(10, 'curl');
  assert.equal(cache.known(10, 'curl'), undefined, 'the read has not finished');
  const info = await reading;
  assert.equal(cache.known(10, 'curl'), info);
  assert.equal(cache.known(10, 'python3'), undefined, 'another program now runs as pid 10');
  assert.equal(cache.known(11, 'curl'), undefined);
  advance(2_000);
  assert.equal(cache.known(10, 'curl'), undefined, 'past the TTL');
  assert.deepEqual(cache.counters, { hits: 1, reads: 1 });
});

test('known: a process that had exited is not known', async () => {
  const { cache, running } = scripted();
  running.delete(10);
  await cache.lookup(10, 'curl');
  assert.equal(cache.known(10, 'curl'), undefined);
});

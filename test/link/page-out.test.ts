// pageOutCode (native-bindings/src/page-out.cc), in a child process of its own: the read-only file-backed pages
// it hands back leave the process's resident set, and the process keeps working on them afterwards (code and
// constants come back from the file on first touch, with the same contents).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const addon = fileURLToPath(new URL('../../native-bindings/build/Release/imds_hop_native.node', import.meta.url));

test(
  'start-up code paged out: file-backed RSS falls, and the process still computes the same',
  {
    skip: existsSync(addon) ? false : 'native addon not built',
  },
  () => {
    const child = `
    const { createHash } = require('node:crypto');
    const fileKb = () => Number(/^RssFile:\\s+(\\d+)/m.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]);
    const work = () => createHash('sha256').update(JSON.stringify({ n: [...Array(1000).keys()] })).digest('hex') +
      new Intl.NumberFormat('de-DE').format(1234567.891) + /(\\d+)-(\\w+)/.exec('2026-imds')[2];
    const before = work();
    const fileBefore = fileKb();
    const advised = require(${JSON.stringify(addon)}).pageOutCode();
    const fileAfter = fileKb();
    console.log(JSON.stringify({ advised, fileBefore, fileAfter, same: work() === before }));`;
    const result = JSON.parse(execFileSync(process.execPath, ['-e', child], { encoding: 'utf8' })) as {
      advised: number;
      fileBefore: number;
      fileAfter: number;
      same: boolean;
    };
    assert.ok(result.advised > 10 * 1_048_576, JSON.stringify(result)); // node's own code, at least
    assert.ok(result.fileAfter < result.fileBefore / 2, JSON.stringify(result));
    assert.equal(result.same, true);
  },
);

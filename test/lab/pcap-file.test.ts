// The pcap writer behind `imds-hop capture` (no root needed): a file of our frames is read back by pcap-parser
// and by tshark.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pcapGlobalHeader, pcapRecord } from '../../src/link/pcap-file.ts';
import { readPcap } from '../../src/lab/capture-assertions.ts';
import { encodeIcmpFrame, parseIpv4Address, parseMacAddress } from '../../src/wire/index.ts';

test('a written pcap reads back frame for frame, with tshark too', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'imds-hop-pcap-'));
  try {
    const frame = encodeIcmpFrame({
      srcMac: parseMacAddress('02:a9:fe:a9:fe:01'),
      dstMac: parseMacAddress('02:00:00:00:00:02'),
      srcAddr: parseIpv4Address('169.254.169.254'),
      dstAddr: parseIpv4Address('169.254.169.253'),
      hopLimit: 64,
      identification: 7,
      message: { kind: 'echo-reply', identifier: 1, sequence: 2, data: new Uint8Array(8) },
    });
    const file = join(directory, 'one.pcap');
    writeFileSync(
      file,
      Buffer.concat([
        pcapGlobalHeader(65_535),
        pcapRecord(frame, 1_700_000_000_123_456n),
        pcapRecord(frame, 1_700_000_001_000_000n),
      ]),
    );
    const contents = await readPcap(file);
    assert.equal(contents.records, 2);
    assert.equal(contents.frames[0]?.icmp?.kind, 'echo-reply');
    assert.equal(contents.frames[0]?.ip.ttl, 64);
    let tshark: string | undefined;
    try {
      tshark = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'ip.ttl'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (tshark !== undefined) assert.match(tshark, /^1700000000\.123456\d*\t64\n/);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

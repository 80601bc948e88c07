// The misconfiguration lab end to end: `imds-hop lab demo` builds the namespaces, runs every scenario under every
// setting, writes the table and the pcaps to artifacts/lab/ and tears everything down. The captures it leaves are
// then checked here: the assertions hold with hop limit 1 and fail, as they must, once the attacker is given 2.
//
//   [ihlab-attacker] 198.18.0.2 --veth-- 198.18.0.1 [ihlab-instance: NAT, nginx, WAF, SSRF app] --tap-- imds-hop
//   [ihlab-container] 198.18.1.2 --veth/bridge-- 198.18.1.1
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import {
  assertNoTokenBeyondInstance,
  assertTimeExceeded,
  assertTokenTtl,
  readPcap,
  tokenResponseFrames,
} from '../../src/lab/capture-assertions.ts';
import { ARTIFACTS_DIR, CLI, LAB, LAB_SCRIPTS, RUN_DIR } from '../../src/lab/topology.ts';
import type { DemoRow } from '../../src/lab/demo.ts';

const execFileAsync = promisify(execFile);
const skipUnlessRoot = process.getuid?.() === 0 ? false : 'needs root (network namespaces and a tap)';
const LAB_NAMESPACES = [LAB.instance, LAB.attacker, LAB.container];

function labDown(): void {
  spawnSync('bash', [join(LAB_SCRIPTS, 'netns-down.sh')], { stdio: 'ignore' });
}

function pcap(name: string): string {
  return join(ARTIFACTS_DIR, `${name}.pcap`);
}

describe('imds-hop lab demo', { skip: skipUnlessRoot }, () => {
  let demo: { code: number; stdout: string; stderr: string };

  before(async () => {
    labDown(); // a lab left by an interrupted earlier run
    process.once('exit', labDown);
    try {
      const { stdout, stderr } = await execFileAsync(process.execPath, [CLI, 'lab', 'demo'], {
        encoding: 'utf8',
        timeout: 180_000,
        maxBuffer: 16 << 20,
      });
      demo = { code: 0, stdout, stderr };
    } catch (error) {
      const failure = error as { code?: number; stdout?: string; stderr?: string };
      demo = {
        code: typeof failure.code === 'number' ? failure.code : -1,
        stdout: failure.stdout ?? '',
        stderr: failure.stderr ?? String(error),
      };
    }
  });

  after(() => {
    labDown();
  });

  test('runs end to end, every row passes, exit status 0', () => {
    const report = JSON.parse(readFileSync(join(ARTIFACTS_DIR, 'demo-table.json'), 'utf8')) as {
      pass: boolean;
      rows: DemoRow[];
    };
    const failed = report.rows.filter((r) => !r.pass);
    assert.deepEqual(failed, [], `rows that failed:\n${demo.stdout}\n${demo.stderr}`);
    assert.equal(report.pass, true);
    assert.equal(demo.code, 0, demo.stderr);
    assert.match(demo.stdout, /VERDICT: PASS/);
    // Every scenario is in the table, each under both http-tokens settings.
    for (const scenario of [
      '1 router/NAT',
      '2 container',
      '3 open reverse proxy',
      '4 GET-only WAF proxy',
      '5 SSRF web app',
    ]) {
      const settings = new Set(report.rows.filter((r) => r.scenario === scenario).map((r) => r.setting));
      assert.ok(
        [...settings].some((s) => s.startsWith('v1 allowed')),
        `${scenario} under v1 allowed`,
      );
      assert.ok(
        [...settings].some((s) => s.startsWith('tokens required')),
        `${scenario} under tokens required`,
      );
    }
    assert.ok(existsSync(join(ARTIFACTS_DIR, 'demo-table.txt')));
  });

  test('everything the lab created is gone afterwards', () => {
    for (const namespace of LAB_NAMESPACES)
      assert.ok(!existsSync(`/run/netns/${namespace}`), `${namespace} left behind`);
    assert.ok(!existsSync(RUN_DIR), `${RUN_DIR} left behind`);
    assert.ok(!existsSync(`/run/imds-hop/${LAB.tap}.sock`), 'control socket left behind');
  });

  test('hop limit 1: the capture assertions hold', async () => {
    for (const tokens of ['optional', 'required']) {
      const tap = await readPcap(pcap(`${tokens}-hop1-tap`));
      const issued = tokenResponseFrames(tap.frames).tokens;
      assert.ok(issued.length >= 2, 'the tap capture holds the tokens issued to the attacker and the container');
      const ttl = assertTokenTtl(tap, 1);
      assert.ok(ttl.ok, ttl.detail);
      const icmp = assertTimeExceeded(tap, true);
      assert.ok(icmp.ok, icmp.detail);
      for (const side of ['attacker', 'container']) {
        const beyond = assertNoTokenBeyondInstance(await readPcap(pcap(`${tokens}-hop1-${side}`)), issued);
        assert.ok(beyond.ok, `${side}: ${beyond.detail}`);
      }
    }
  });

  test('hop limit 2 for the attacker: "no token beyond the instance" fails, as it must', async () => {
    const tap = await readPcap(pcap('optional-hop2-tap'));
    const issued = tokenResponseFrames(tap.frames).tokens;
    const attacker = await readPcap(pcap('optional-hop2-attacker'));
    const beyond = assertNoTokenBeyondInstance(attacker, issued);
    assert.equal(beyond.ok, false, beyond.detail);
    // Without the tap's list of tokens the token response itself still gives the leak away.
    assert.equal(assertNoTokenBeyondInstance(attacker, []).ok, false);
    assert.equal(assertTimeExceeded(tap, true).ok, false, 'no router stopped a token response');
    assert.equal(assertTokenTtl(tap, 1).ok, false, 'the token frames left with TTL 2, not 1');
    assert.ok(assertTokenTtl(tap, 2).ok);
  });

  test('tshark opens every pcap the demo wrote', async () => {
    for (const tokens of ['optional', 'required']) {
      for (const hop of [1, 2]) {
        for (const side of ['tap', 'attacker', 'container']) {
          const file = pcap(`${tokens}-hop${hop}-${side}`);
          const { stdout } = await execFileAsync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number'], {
            encoding: 'utf8',
          });
          const contents = await readPcap(file);
          assert.equal(
            stdout.trim().split('\n').filter(Boolean).length,
            contents.records,
            `${file}: tshark and pcap-parser agree`,
          );
          assert.ok(contents.records > 0, `${file} is empty`);
        }
      }
    }
  });
});

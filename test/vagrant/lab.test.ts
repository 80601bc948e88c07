// The Vagrant lab boots: scripts/vagrant/ring.sh installs what is missing, builds (or reuses) the offline box,
// brings up the instance and attacker VMs under libvirt (software emulation where KVM does not work), runs the
// demo from the host and destroys everything. Checked here: the demo's table, the captures taken in the instance
// VM (re-read on the host with the capture assertions) and that nothing of the lab is left in libvirt.
//
//   attacker VM 198.18.0.20 --isolated "ihlab"-- 198.18.0.10 instance VM (NAT) --tap imds0-- imds-hop
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  assertNoTokenBeyondInstance,
  assertTimeExceeded,
  assertTokenTtl,
  readPcap,
  tokenResponseFrames,
} from '../../src/lab/capture-assertions.ts';
import type { DemoRow } from '../../src/lab/demo.ts';
import { REPO_ROOT } from '../../src/lab/topology.ts';

const ARTIFACTS = join(REPO_ROOT, 'artifacts/vagrant');
const SCRIPTS = join(REPO_ROOT, 'scripts/vagrant');
/** The ring's own watchdog stops it at this; the test's is a little later, for the clean-up to finish. */
const RING_TIMEOUT_S = Number(process.env.IMDS_HOP_RING_TIMEOUT ?? 1800);
const skip = process.getuid?.() === 0 ? false : 'needs root (libvirt, Debian packages)';

function pcap(name: string): string {
  return join(ARTIFACTS, `${name}.pcap`);
}

function virsh(...args: string[]): string {
  return spawnSync('virsh', ['--connect', 'qemu:///system', ...args], { encoding: 'utf8' }).stdout ?? '';
}

describe('the Vagrant lab (two VMs under libvirt)', { skip }, () => {
  let ring = { code: -1, output: '' };

  before(async () => {
    ring = await new Promise((resolve) => {
      // Its own process group, so a timeout here takes the whole ring (vagrant, ssh, the demo) down with it.
      const child = spawn('bash', [join(SCRIPTS, 'ring.sh')], {
        cwd: REPO_ROOT,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, IMDS_HOP_RING_TIMEOUT: String(RING_TIMEOUT_S), IMDS_HOP_VAGRANT_ARTIFACTS: ARTIFACTS },
      });
      let output = '';
      const keep = (chunk: Buffer): void => {
        process.stderr.write(chunk);
        output = (output + chunk.toString('utf8')).slice(-200_000);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      const timer = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), (RING_TIMEOUT_S + 300) * 1000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, output });
      });
    });
  });

  after(() => {
    spawnSync('bash', [join(SCRIPTS, 'cleanup.sh')], { stdio: 'inherit' }); // a no-op unless the ring was killed
  });

  test('both VMs boot, are provisioned, and every row of the demo passes', () => {
    assert.ok(existsSync(join(ARTIFACTS, 'demo-table.json')), `no demo table; the ring said:\n${ring.output.slice(-5000)}`);
    const report = JSON.parse(readFileSync(join(ARTIFACTS, 'demo-table.json'), 'utf8')) as { pass: boolean; rows: DemoRow[] };
    assert.deepEqual(report.rows.filter((r) => !r.pass), [], ring.output.slice(-5000));
    assert.equal(ring.code, 0, ring.output.slice(-5000));
    const row = (setting: string, check: string): DemoRow | undefined =>
      report.rows.find((r) => r.setting === setting && r.check === check);
    // The attacker VM behind the instance VM's NAT: no token at hop limit 1, a token at 2; nothing under required+1.
    assert.equal(row('v1 allowed, hop 1', 'attacker token PUT')?.observed, 'no token (timed out)');
    assert.equal(row('v1 allowed, hop 2', 'attacker token PUT')?.observed, 'token');
    assert.equal(row('tokens required, hop 1', 'attacker token PUT')?.observed, 'no token (timed out)');
    assert.equal(row('tokens required, hop 1', 'attacker v1 GET credentials')?.observed, '401');
    assert.equal(row('tokens required, hop 2', 'attacker GET credentials with that token')?.observed, '200 credentials');
    assert.match(readFileSync(join(ARTIFACTS, 'demo-table.txt'), 'utf8'), /VERDICT: PASS/);
  });

  test('captures from the instance VM: token frames at TTL = hop limit, none beyond the NAT at hop limit 1', async () => {
    for (const mode of ['optional', 'required']) {
      const tap1 = await readPcap(pcap(`${mode}-hop1-tap`));
      assert.ok(assertTokenTtl(tap1, 1).ok, assertTokenTtl(tap1, 1).detail);
      assert.ok(assertTimeExceeded(tap1, true).ok, `${mode} hop 1: the instance VM's kernel sent time-exceeded into the tap`);
      const { tokens } = tokenResponseFrames(tap1.frames);
      const link1 = assertNoTokenBeyondInstance(await readPcap(pcap(`${mode}-hop1-attacker`)), tokens);
      assert.ok(link1.ok, link1.detail);

      const tap2 = await readPcap(pcap(`${mode}-hop2-tap`));
      assert.ok(assertTokenTtl(tap2, 2).ok, assertTokenTtl(tap2, 2).detail);
      // With hop limit 2 the token crosses the NAT onto the attacker's network: the assertion must catch it.
      const link2 = assertNoTokenBeyondInstance(await readPcap(pcap(`${mode}-hop2-attacker`)), tokenResponseFrames(tap2.frames).tokens);
      assert.equal(link2.ok, false, `hop 2 should put token bytes on the attacker's link: ${link2.detail}`);
    }
  });

  test('nothing of the lab is left in libvirt afterwards', () => {
    const domains = virsh('list', '--all', '--name');
    assert.doesNotMatch(domains, /ihlab-(instance|attacker)/);
    const networks = virsh('net-list', '--all', '--name');
    assert.doesNotMatch(networks, /^(ihlab|imds-hop-mgmt)$/m);
    for (const pool of virsh('pool-list', '--name').split('\n').filter(Boolean)) {
      assert.doesNotMatch(virsh('vol-list', '--pool', pool), /ihlab-|bookworm-local/, `volumes left in pool ${pool}`);
    }
    const qemu = spawnSync('pgrep', ['-f', 'guest=ihlab-'], { encoding: 'utf8' }).stdout.trim();
    assert.equal(qemu, '', 'a QEMU of the lab is still running');
    assert.ok(!existsSync(join(REPO_ROOT, 'vagrant/.vagrant')), 'vagrant/.vagrant left behind');
  });

  test('timings were recorded for every step', () => {
    const timings = JSON.parse(readFileSync(join(ARTIFACTS, 'timings.json'), 'utf8')) as Record<string, number>;
    for (const step of ['build-box', 'boot', 'provision', 'demo', 'destroy']) assert.equal(typeof timings[step], 'number', step);
    process.stderr.write(`vagrant ring timings (s): ${JSON.stringify(timings)}\n`);
  });
});

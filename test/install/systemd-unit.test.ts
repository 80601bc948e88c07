// systemd/imds-hop.service: systemd's own verifier accepts it, it keeps exactly the capabilities the appliance
// needs — with only those, the connect hook that names callers still attaches — and scripts/install-systemd.sh
// installs it with a starting config.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { REPO_ROOT } from '../integration/harness.ts';
import { runToEnd } from './install-fixtures.ts';

const UNIT = join(REPO_ROOT, 'systemd/imds-hop.service');
const hasVerifier = (() => {
  try {
    execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skipWithoutVerifier = hasVerifier ? false : 'needs systemd-analyze (bash scripts/install.sh --test installs it)';

/** KEY=VALUE lines of one section. */
function section(text: string, name: string): Map<string, string> {
  const body = text.split(/^\[/m).find((part) => part.startsWith(`${name}]`)) ?? '';
  return new Map(
    body
      .split('\n')
      .filter((line) => /^[A-Za-z]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

describe('the systemd unit', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'imds-hop-unit-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  test(
    "with only the unit's capabilities the connect hook attaches (pids without comm) and names a connection",
    {
      skip: process.getuid?.() === 0 ? false : 'needs root',
    },
    () => {
      const service = section(readFileSync(UNIT, 'utf8'), 'Service');
      const caps = (service.get('AmbientCapabilities') ?? '')
        .split(' ')
        .map((cap) => `+${cap.replace(/^CAP_/, '').toLowerCase()}`)
        .join(',');
      const probe = `
      import { createServer, connect } from 'node:net';
      import { once } from 'node:events';
      import { LinuxProbes } from './src/callers/system-probes.ts';
      const probes = new LinuxProbes();
      const method = await probes.start(true);
      const server = createServer().listen(0, '127.0.0.1');
      await once(server, 'listening');
      const client = connect(server.address().port, '127.0.0.1');
      await once(client, 'connect');
      const loopback = new Uint8Array([127, 0, 0, 1]);
      const found = await probes.localSocket({ address: loopback, port: client.localPort }, { address: loopback, port: server.address().port });
      console.log(JSON.stringify({ method, pid: found.process?.pid === process.pid, counters: probes.counters }));
      client.destroy(); server.close(); probes.stop();`;
      const output = execFileSync(
        'setpriv',
        [
          `--inh-caps=-all,${caps}`,
          `--ambient-caps=-all,${caps}`,
          `--bounding-set=-all,${caps}`,
          process.execPath,
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          probe,
        ],
        { cwd: REPO_ROOT, encoding: 'utf8' },
      );
      const result = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as {
        method: { method: string; records?: string; slots?: string };
        pid: boolean;
        counters: Record<string, number>;
      };
      assert.equal(result.method.method, 'connect-hook', output);
      assert.equal(result.method.records, 'pid', output); // the comm helper needs CAP_PERFMON, which the unit lacks
      assert.equal(result.pid, true, output);
      assert.equal(result.counters['hook-owners-by-tuple'], 1, output);
      assert.equal(result.method.slots, 'mapped', output); // mapping the slots needs no capability the unit lacks
      assert.equal(result.counters['hook-owners-from-slots'], 1, output);
    },
  );

  test('restarts on failure, reads /etc/imds-hop/, and holds CAP_NET_ADMIN, CAP_NET_RAW and CAP_BPF only', () => {
    const service = section(readFileSync(UNIT, 'utf8'), 'Service');
    assert.equal(service.get('Restart'), 'on-failure');
    assert.match(
      service.get('ExecStart') ?? '',
      /^\/usr\/bin\/env imds-hop serve --config \/etc\/imds-hop\/imds-hop\.ini /,
    );
    assert.equal(service.get('CapabilityBoundingSet'), 'CAP_NET_ADMIN CAP_NET_RAW CAP_BPF');
    assert.equal(service.get('AmbientCapabilities'), 'CAP_NET_ADMIN CAP_NET_RAW CAP_BPF');
    assert.equal(service.get('NoNewPrivileges'), 'yes');
    assert.equal(service.get('RuntimeDirectory'), 'imds-hop'); // the control socket's /run/imds-hop
    assert.equal(section(readFileSync(UNIT, 'utf8'), 'Install').get('WantedBy'), 'multi-user.target');
  });

  test('systemd-analyze verify passes on it, and fails on a broken copy', { skip: skipWithoutVerifier }, async () => {
    const good = await runToEnd('systemd-analyze', ['verify', UNIT], { timeoutMs: 60_000 });
    assert.equal(good.code, 0, good.stderr);
    assert.equal(good.stderr.trim(), '', 'no warnings');
    const broken = join(scratch, 'imds-hop.service');
    writeFileSync(broken, readFileSync(UNIT, 'utf8').replace('/usr/bin/env imds-hop', '/nonexistent/imds-hop'));
    const bad = await runToEnd('systemd-analyze', ['verify', broken], { timeoutMs: 60_000 });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /\/nonexistent\/imds-hop is not executable/);
  });

  test(
    'install-systemd.sh installs the unit and a config, and keeps a config already there',
    { skip: skipWithoutVerifier },
    async () => {
      const bin = join(scratch, 'bin');
      execFileSync('mkdir', ['-p', bin]);
      symlinkSync(join(REPO_ROOT, 'bin/imds-hop.mjs'), join(bin, 'imds-hop'));
      const env = {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        IMDS_HOP_UNIT_DIR: join(scratch, 'units'),
        IMDS_HOP_CONFIG_DIR: join(scratch, 'etc'),
      };
      const first = await runToEnd('bash', [join(REPO_ROOT, 'scripts/install-systemd.sh')], { timeoutMs: 60_000, env });
      assert.equal(first.code, 0, first.stderr);
      assert.equal(readFileSync(join(scratch, 'units/imds-hop.service'), 'utf8'), readFileSync(UNIT, 'utf8'));
      assert.equal(
        readFileSync(join(scratch, 'etc/imds-hop.ini'), 'utf8'),
        readFileSync(join(REPO_ROOT, 'examples/imds-hop.ini'), 'utf8'),
      );
      assert.match(first.stdout, /systemctl enable --now imds-hop/);
      writeFileSync(join(scratch, 'etc/imds-hop.ini'), '[instance]\n');
      const again = await runToEnd('bash', [join(REPO_ROOT, 'scripts/install-systemd.sh')], { timeoutMs: 60_000, env });
      assert.equal(again.code, 0, again.stderr);
      assert.equal(readFileSync(join(scratch, 'etc/imds-hop.ini'), 'utf8'), '[instance]\n');
      assert.ok(existsSync(join(scratch, 'units/imds-hop.service')));
    },
  );
});

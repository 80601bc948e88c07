// Who called the metadata service, named on real clients, and the CI commands built on it:
//
//   [far ns] 198.18.1.2 --veth-- 198.18.1.1 [instance ns: forwards, masquerades out of the tap] --tap-- imds-hop
//                                            local: curl, python3-botocore, python3 in a cgroup of its own
//
// `imds-hop callers` must name each local process (command, pid, cgroup, container id from the cgroup path) and
// the far client by its address before NAT and its namespace, with the right v1/v2 counts and credential
// deliveries; a far botocore at hop limit 1 must be named as falling back to IMDSv1 (and not at hop limit 2);
// `assert --no-v1` passes while only v2 calls were made and fails, one JUnit failure per offending caller, after
// v1 calls; `check-capture` passes on hop-limit-1 captures and fails on hop limit 2. The assertions hold whether
// the appliance keeps connections alive or closes them after each response.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CallerStats } from '../../src/callers/registry.ts';
import {
  Appliance,
  REPO_ROOT,
  SERVICE_ADDRESS,
  cleanupAll,
  connectNamespaces,
  createNamespace,
  imdsHop,
  inNamespace,
  keepArtifact,
  run,
  runSync,
  skipUnlessRoot,
  sweepStaleNamespaces,
  temporaryDirectory,
  uniqueName,
} from './harness.ts';

const BASE = `http://${SERVICE_ADDRESS}`;
const BOTOCORE = join(REPO_ROOT, 'test/integration/clients/botocore-fetch.py');
const ROLE_PATH = '/latest/meta-data/iam/security-credentials/imds-hop-instance-role';
const CGROUP2 = '/sys/fs/cgroup/unified';
const CONTAINER_ID = `${process.pid.toString(16).padStart(8, '0')}${'5c'.repeat(28)}`;
const FALLBACK =
  ' fell back to IMDSv1 after its token died at hop 1 — raise the hop limit to 2 or run it on the instance';

async function callers(appliance: Appliance): Promise<CallerStats[]> {
  const listed = await imdsHop(['callers', '--json', '--interface', appliance.interfaceName]);
  assert.equal(listed.code, 0, listed.stderr);
  const snapshot = JSON.parse(listed.stdout) as { callers: CallerStats[]; method?: { method: string } };
  // Root on a cgroup v2 host: local callers are named by the connect hook, not by fd-table searches.
  assert.equal(snapshot.method?.method, 'connect-hook', listed.stdout);
  return snapshot.callers;
}

describe('imds-hop callers, assert and check-capture on real clients', { skip: skipUnlessRoot }, () => {
  let instance: string;
  let far: string;
  let farDevice: string;
  let appliance: Appliance;
  let directory: string;
  let lingerPort: number;
  let lingerer: ChildProcess | undefined;
  let cgroup: string | undefined;

  before(async () => {
    sweepStaleNamespaces();
    directory = temporaryDirectory();
    instance = createNamespace('inst');
    far = createNamespace('far');
    const routerSide = uniqueName('vr');
    farDevice = uniqueName('vf');
    connectNamespaces(
      { namespace: instance, device: routerSide, address: '198.18.1.1' },
      { namespace: far, device: farDevice, address: '198.18.1.2' },
    );
    runSync('ip', ['netns', 'exec', instance, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    runSync('ip', ['-n', far, 'route', 'add', `${SERVICE_ADDRESS}/32`, 'via', '198.18.1.1']);
    appliance = await Appliance.start(instance, ['--hop-limit', '2', '--log-level', 'info']);
    const rules = join(directory, 'nat.nft');
    writeFileSync(
      rules,
      `table ip ihcallers {\n  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n    ip saddr 198.18.1.0/24 oifname "${appliance.interfaceName}" masquerade\n  }\n}\n`,
    );
    const loaded = await inNamespace(instance, 'nft', ['-f', rules]);
    assert.equal(loaded.code, 0, loaded.stderr);
    // A loopback listener that never answers: curl's last transfer waits on it, so curl is still alive while its
    // metadata connections are named, as a long-lived caller would be (a process that exits within milliseconds
    // may be reported as "unresolved": its uid and cgroup, no pid).
    lingerer = spawn(
      'ip',
      [
        'netns',
        'exec',
        instance,
        'python3',
        '-c',
        "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(64)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(600)",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    lingerPort = await new Promise<number>((resolve) =>
      lingerer?.stdout?.once('data', (text: Buffer) => resolve(Number(text.toString().trim()))),
    );
  });

  after(async () => {
    lingerer?.kill('SIGKILL');
    await appliance?.stop();
    if (cgroup && existsSync(cgroup)) {
      rmdirSync(join(cgroup, `docker-${CONTAINER_ID}.scope`), {});
      rmdirSync(cgroup);
    }
    cleanupAll();
  });

  /** curl doing the given transfers in one process, then lingering half a second. */
  function curlThen(args: string[][]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const transfers = args.flatMap((transfer, index) => [
      ...(index > 0 ? ['--next'] : []),
      '-sS',
      '--max-time',
      '10',
      '-w',
      '\n%{http_code}\n',
      ...transfer,
    ]);
    return inNamespace(instance, 'curl', [
      ...transfers,
      '--next',
      '-s',
      '--max-time',
      '0.5',
      `http://127.0.0.1:${lingerPort}/`,
    ]);
  }

  test('only v2 calls (local botocore, a far client through NAT): assert --no-v1 passes', async () => {
    const boto = await inNamespace(instance, '/usr/bin/python3', [BOTOCORE], 60_000);
    assert.equal(boto.code, 0, boto.stderr);
    const token = await inNamespace(far, 'curl', [
      '-sS',
      '--max-time',
      '10',
      '-X',
      'PUT',
      `${BASE}/latest/api/token`,
      '-H',
      'X-aws-ec2-metadata-token-ttl-seconds: 60',
    ]);
    assert.equal(token.code, 0, token.stderr);
    const farGet = await inNamespace(far, 'curl', [
      '-sS',
      '--max-time',
      '10',
      '-H',
      `X-aws-ec2-metadata-token: ${token.stdout}`,
      `${BASE}/latest/meta-data/instance-id`,
    ]);
    assert.match(farGet.stdout, /^i-/);
    const junit = join(directory, 'pass.xml');
    const verdict = await imdsHop([
      'assert',
      '--interface',
      appliance.interfaceName,
      '--no-v1',
      '--no-v1-credentials',
      '--junit',
      junit,
    ]);
    assert.equal(verdict.code, 0, `${verdict.stdout}${verdict.stderr}`);
    assert.match(verdict.stdout, /^imds-hop assert: all 2 checks passed/);
    assert.match(readFileSync(junit, 'utf8'), /<testsuites name="imds-hop assert" tests="2" failures="0"/);
  });

  test('callers names curl, botocore, a process in a cgroup of its own and the far client, with counts and delivery', async () => {
    // v1 from curl: metadata and role credentials without a token
    const fetched = await curlThen([[`${BASE}/latest/meta-data/instance-id`], [`${BASE}${ROLE_PATH}`]]);
    assert.deepEqual(
      fetched.stdout
        .split('\n')
        .filter((line) => /^\d{3}$/.test(line))
        .slice(0, 2),
      ['200', '200'],
      fetched.stderr,
    );
    // v1 from a python3 process moved into a cgroup named the way Docker's systemd driver names a container's
    cgroup = join(CGROUP2, uniqueName('cg'));
    mkdirSync(join(cgroup, `docker-${CONTAINER_ID}.scope`), { recursive: true });
    const script = join(directory, 'in-cgroup.py');
    // Each connection idles 0.3 s between its handshake and its request, so the owner search finds the process
    // while it holds the socket even on a loaded machine (a connection closed sooner is still counted for the
    // container, as "unresolved": see the sum below).
    writeFileSync(
      script,
      `import http.client, time\nfor _ in range(3):\n    c = http.client.HTTPConnection('${SERVICE_ADDRESS}', 80, timeout=10)\n    c.connect()\n    time.sleep(0.3)\n    c.request('GET', '/latest/meta-data/ami-id')\n    c.getresponse().read()\n    c.close()\n`,
    );
    // The shell joins the cgroup before `ip netns exec` (which hides /sys/fs/cgroup); python3 inherits it.
    const procs = join(cgroup, `docker-${CONTAINER_ID}.scope`, 'cgroup.procs');
    const inCgroup = await run('sh', ['-c', `echo $$ > ${procs} && exec ip netns exec ${instance} python3 ${script}`]);
    assert.equal(inCgroup.code, 0, inCgroup.stderr);

    // A connection whose process closed it before the search found its owner is still known by its socket's
    // uid and cgroup ("unresolved"); on a loaded machine some are. Counts are checked over the caller and those.
    const listed = await callers(appliance);
    const dump = JSON.stringify(listed, null, 1);
    // Also one the connect hook saw connect but that exited before its /proc files were read: known by its comm.
    const unresolvedFor = (caller: CallerStats | undefined) =>
      listed.filter(
        (c) =>
          c.identity.kind === 'unresolved' &&
          (c.identity.cgroup === '/' ||
            (c.identity.command !== undefined && c.identity.command === caller?.identity.command)),
      );
    const plus = (caller: CallerStats | undefined, pick: (c: CallerStats) => number) =>
      (caller ? pick(caller) : 0) + unresolvedFor(caller).reduce((sum, c) => sum + pick(c), 0);
    const curls = listed.filter((c) => c.identity.command === 'curl');
    assert.equal(curls.length, 1, dump);
    const curl = curls[0] as CallerStats;
    assert.equal(curl.identity.kind, 'process');
    assert.equal(curl.identity.executable, '/usr/bin/curl');
    assert.equal(curl.identity.uid, 0);
    assert.match(curl.identity.netns ?? '', new RegExp(`^${instance} net:\\[\\d+\\]$`));
    assert.ok(curl.v1 >= 1 && curl.v2 === 0, dump);
    assert.equal(
      plus(curl, (c) => c.v1),
      2,
      dump,
    );
    assert.equal(
      plus(curl, (c) => c.credentials['1.0']),
      1,
      dump,
    );

    const boto = listed.find((c) => c.identity.name === 'python3 botocore-fetch.py');
    assert.ok(boto, dump);
    assert.equal(boto.identity.kind, 'process');
    assert.equal(boto.v1, 0);
    assert.ok(boto.v2 + boto.tokensIssued >= 1, dump);
    assert.equal(boto.credentials['1.0'], 0);
    assert.equal(
      plus(boto, (c) => c.credentials['2.0']),
      1,
      dump,
    );

    const contained = listed.filter((c) => c.identity.container?.id === CONTAINER_ID);
    const cgroupPath = `/${cgroup.slice(CGROUP2.length + 1)}/docker-${CONTAINER_ID}.scope`;
    for (const caller of contained) {
      assert.equal(caller.identity.cgroup, cgroupPath);
      assert.deepEqual(caller.identity.container, { runtime: 'docker', id: CONTAINER_ID });
    }
    assert.equal(
      contained.reduce((sum, c) => sum + c.v1, 0),
      3,
      `every request of the process in the cgroup is attributed to its container: ${dump}`,
    );
    const named = contained.find((c) => c.identity.kind === 'process');
    assert.ok(named, dump);
    assert.equal(named.identity.name, 'python3 in-cgroup.py');
    assert.equal(named.v1, 3, dump);
    assert.equal(named.pids.length, 1);

    const forwarded = listed.find((c) => c.identity.kind === 'forwarded');
    assert.ok(forwarded, JSON.stringify(listed, null, 1));
    assert.equal(forwarded.identity.originalAddress, '198.18.1.2');
    assert.equal(forwarded.identity.sourceAddress, '169.254.169.253', 'masqueraded to the instance side of the tap');
    assert.equal(forwarded.identity.netns, far);
    assert.equal(forwarded.tokensIssued, 1);
    assert.equal(forwarded.v2, 1);
    assert.equal(forwarded.v1, 0);

    const table = await imdsHop(['callers', '--interface', appliance.interfaceName]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^CALLER +KIND +CONTAINER +PIDS +V1 +V2 +CREDS 1\.0 +CREDS 2\.0 +LAST PATH/);
    assert.match(table.stdout, new RegExp(`python3 in-cgroup\\.py +process +docker:${CONTAINER_ID.slice(0, 12)} `));
    assert.match(
      table.stdout,
      new RegExp(`\\ncurl +process +- +[\\d,]+ +${curl.v1} +0 +${curl.credentials['1.0']} +0 `),
    );
    assert.match(table.stdout, new RegExp(`\\n198\\.18\\.1\\.2 \\(netns ${far}\\) +forwarded `));

    // Logged once per caller: its first v1 request and its first credentials without a token.
    const firstV1 = appliance.records.filter((r) => r.msg === 'curl used IMDSv1: its first request without a token');
    assert.equal(firstV1.length, 1);
    assert.equal((firstV1[0]?.caller as { executable?: string }).executable, '/usr/bin/curl');
    const v1Credentials = appliance.records.filter(
      (r) => typeof r.msg === 'string' && r.msg.endsWith(' fetched role credentials without a token (IMDSv1)'),
    );
    assert.equal(
      v1Credentials.length,
      1,
      'curl fetched credentials once without a token (logged for curl, or for its uid and cgroup)',
    );
    assert.equal(
      appliance.records.filter((r) => r.msg === 'python3 in-cgroup.py used IMDSv1: its first request without a token')
        .length,
      1,
    );

    const metrics = await imdsHop(['metrics', '--interface', appliance.interfaceName]);
    assert.match(metrics.stdout, new RegExp(`imds_hop_caller_requests\\{caller="curl",use="v1"\\} ${curl.v1}\\n`));
    assert.match(
      metrics.stdout,
      new RegExp(
        `imds_hop_caller_credentials\\{caller="python3 botocore-fetch.py",role_delivery="2.0"\\} ${boto.credentials['2.0']}\\n`,
      ),
    );
  });

  test('assert --no-v1 now fails: exit 1, a readable list and one JUnit failure per offending caller', async () => {
    const offenders = (await callers(appliance)).filter((c) => c.v1 + c.v1Rejected > 0);
    assert.ok(offenders.length >= 2);
    const junit = join(directory, 'fail.xml');
    const verdict = await imdsHop(['assert', '--interface', appliance.interfaceName, '--no-v1', '--junit', junit]);
    assert.equal(verdict.code, 1, verdict.stdout);
    assert.match(
      verdict.stderr,
      new RegExp(`^imds-hop assert: ${offenders.length} of ${offenders.length} checks failed\\nFAIL no-v1: `),
    );
    assert.match(verdict.stderr, /\nFAIL no-v1: curl \(pid \d+\) — \d IMDSv1 request\(s\) without a token/);
    assert.match(
      verdict.stderr,
      /\nFAIL no-v1: python3 in-cgroup\.py \(pid \d+\) — \d IMDSv1 request\(s\) without a token/,
    );
    const xml = readFileSync(junit, 'utf8');
    keepArtifact(junit, 'callers-assert-no-v1.xml');
    assert.match(
      xml,
      new RegExp(`<testsuite name="imds-hop assert" tests="${offenders.length}" failures="${offenders.length}"`),
    );
    assert.equal(xml.match(/<failure /g)?.length, offenders.length, 'one failure per offending caller');
    const json = await imdsHop(['assert', '--interface', appliance.interfaceName, '--no-v1', '--json']);
    assert.equal(json.code, 1);
    assert.equal((JSON.parse(json.stdout) as { passed: boolean }).passed, false);
  });

  for (const hopLimit of [1, 2]) {
    test(`a botocore one hop beyond at hop limit ${hopLimit}: ${hopLimit === 1 ? 'named as falling back to IMDSv1; check-capture passes' : 'no fallback; check-capture fails'}`, async () => {
      const set = await imdsHop(['options', '--interface', appliance.interfaceName, '--hop-limit', String(hopLimit)]);
      assert.equal(set.code, 0, set.stderr);
      const tapFile = join(directory, `hop${hopLimit}-tap.pcap`);
      const farFile = join(directory, `hop${hopLimit}-far.pcap`);
      const captures = [
        spawn(
          process.execPath,
          [
            join(REPO_ROOT, 'bin/imds-hop.mjs'),
            'capture',
            '--netns',
            instance,
            '--interface',
            appliance.interfaceName,
            '--out',
            tapFile,
            '--duration',
            '120',
          ],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        ),
        spawn(
          process.execPath,
          [
            join(REPO_ROOT, 'bin/imds-hop.mjs'),
            'capture',
            '--netns',
            far,
            '--interface',
            farDevice,
            '--out',
            farFile,
            '--duration',
            '120',
          ],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        ),
      ];
      await Promise.all(
        captures.map(
          (child) =>
            new Promise<void>((resolve, reject) => {
              child.stderr?.on('data', (text: Buffer) => text.toString().includes('capturing on') && resolve());
              child.once('exit', (code) => reject(new Error(`capture exited with ${code}`)));
            }),
        ),
      );
      const before = (await callers(appliance)).find((c) => c.identity.kind === 'forwarded')?.fallbacksToV1 ?? 0;
      const since = appliance.records.length;
      const boto = await inNamespace(far, '/usr/bin/python3', [BOTOCORE], 60_000);
      for (const child of captures) {
        child.kill('SIGINT');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      assert.equal(boto.code, 0, boto.stderr);
      assert.match(
        JSON.parse(boto.stdout).access_key,
        /^ASIA/,
        'botocore got credentials either way: that is why the trap is silent',
      );

      const after = (await callers(appliance)).find((c) => c.identity.kind === 'forwarded');
      assert.ok(after);
      const fallbacks = appliance.records
        .slice(since)
        .filter((r) => typeof r.msg === 'string' && r.msg.includes('fell back to IMDSv1'));
      if (hopLimit === 1) {
        await appliance.waitFor((r) => typeof r.msg === 'string' && r.msg.endsWith(FALLBACK), 10_000, since);
        assert.equal(
          appliance.records.slice(since).find((r) => typeof r.msg === 'string' && r.msg.includes('fell back'))?.msg,
          `198.18.1.2 (netns ${far})${FALLBACK}`,
        );
        assert.ok(after.fallbacksToV1 > before);
        assert.ok(after.credentials['1.0'] >= 1, 'it fetched credentials without a token');
      } else {
        assert.deepEqual(fallbacks, []);
        assert.equal(after.fallbacksToV1, before);
      }
      const metrics = await imdsHop(['metrics', '--interface', appliance.interfaceName]);
      assert.match(metrics.stdout, new RegExp(`imds_hop_callers_fell_back_to_v1_total ${after.fallbacksToV1}\\n`));

      keepArtifact(tapFile, `callers-hop${hopLimit}-tap.pcap`);
      keepArtifact(farFile, `callers-hop${hopLimit}-far.pcap`);
      const junit = join(directory, `capture-hop${hopLimit}.xml`);
      const checked = await imdsHop([
        'check-capture',
        tapFile,
        '--hop-limit',
        '1',
        '--token-must-not-appear-on',
        farFile,
        '--junit',
        junit,
        '--json',
      ]);
      const verdict = JSON.parse(checked.stdout) as { passed: boolean; results: Array<{ check: string; ok: boolean }> };
      if (hopLimit === 1) {
        assert.equal(checked.code, 0, checked.stdout);
        assert.deepEqual(
          verdict.results.map((r) => r.ok),
          [true, true],
        );
        const withIcmp = await imdsHop(['check-capture', tapFile, '--expect-time-exceeded']);
        assert.equal(withIcmp.code, 0, withIcmp.stderr);
      } else {
        assert.equal(checked.code, 1, checked.stdout);
        assert.deepEqual(
          verdict.results.map((r) => [r.check, r.ok]),
          [
            ['every token-bearing frame has TTL 1', false],
            ['no token bytes beyond the instance', false],
          ],
        );
        assert.match(readFileSync(junit, 'utf8'), /tests="2" failures="2"/);
      }
    });
  }
});

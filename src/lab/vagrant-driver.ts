// The demo's lab as the two Vagrant VMs (vagrant/Vagrantfile), driven from the host over ssh: the attacker's
// requests run in the attacker VM, the container's in the namespace inside the instance VM, the options and the
// captures (`imds-hop capture`) in the instance VM, whose pcaps are copied back here for the capture assertions.
// One multiplexed ssh connection per VM (ControlMaster), so a command costs no new handshake.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { curlArgs, curlOutcome, type CaptureFiles, type LabDriver } from './lab-driver.ts';
import { LabError, LAB } from './topology.ts';

/** Where the project is in the instance VM (the rsync synced folder) and the lab's names there. */
const VM_REPO = '/imds-hop';
const VM_CLI = `${VM_REPO}/bin/imds-hop.mjs`;
const VM_TAP = 'imds0';
const VM_INSTANCE_ADDRESS = '198.18.0.10';
const VM_CAPTURE_DIR = '/run/ihlab-demo';
const UNIT = 'imds-hop';

type Vm = 'instance' | 'attacker';

interface Output {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** One word of a POSIX shell command line, quoted. */
function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

function execBuffer(command: string, args: string[], timeoutMs: number): Promise<Output> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { encoding: 'buffer', timeout: timeoutMs, maxBuffer: 256 << 20 },
      (error, stdout, stderr) => {
        const failure = error as (Error & { code?: number | string; signal?: string }) | null;
        const code = failure ? (typeof failure.code === 'number' ? failure.code : -1) : 0;
        const reason = failure?.signal
          ? ` (killed by ${failure.signal})`
          : failure && code === -1
            ? ` (${failure.message})`
            : '';
        resolve({ code, stdout, stderr: stderr.toString('utf8') + reason });
      },
    );
  });
}

interface VagrantLab extends LabDriver {
  /** Closes the ssh connections and removes the local ssh state. */
  close(): Promise<void>;
}

/** Connects to the running VMs of the Vagrantfile in `vagrantDir` (`vagrant up` done, provisioned). */
export async function openVagrantLab(vagrantDir: string): Promise<VagrantLab> {
  const state = mkdtempSync(join(tmpdir(), 'ihlab-ssh-'));
  const sshConfig = join(state, 'ssh-config');
  const config = await new Promise<Output>((resolve) => {
    execFile(
      'vagrant',
      ['ssh-config', 'instance', 'attacker'],
      { cwd: vagrantDir, encoding: 'buffer', timeout: 300_000 },
      (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr: stderr.toString('utf8') }),
    );
  });
  if (config.code !== 0) {
    rmSync(state, { recursive: true, force: true });
    throw new LabError(
      'VAGRANT_NOT_UP',
      `vagrant ssh-config failed in ${vagrantDir} (are both VMs up?): ${config.stderr.trim()}`,
    );
  }
  writeFileSync(sshConfig, config.stdout);

  const sshArgs = (vm: Vm): string[] => [
    '-F',
    sshConfig,
    '-o',
    'BatchMode=yes',
    '-o',
    'LogLevel=ERROR',
    '-o',
    'ConnectTimeout=60',
    '-o',
    'ControlMaster=auto',
    '-o',
    `ControlPath=${join(state, '%C')}`,
    '-o',
    'ControlPersist=600',
    vm,
  ];
  const ssh = (vm: Vm, command: string, timeoutMs = 300_000): Promise<Output> =>
    execBuffer('ssh', [...sshArgs(vm), command], timeoutMs);
  const sudo = (words: string[]): string => `sudo ${words.map(shellQuote).join(' ')}`;
  const mustRun = async (vm: Vm, command: string, what: string, timeoutMs?: number): Promise<string> => {
    const result = await ssh(vm, command, timeoutMs);
    if (result.code !== 0)
      throw new LabError(
        'VAGRANT_COMMAND_FAILED',
        `${what} failed in the ${vm} VM (${result.code}): ${result.stderr.trim()}`,
      );
    return result.stdout.toString('utf8');
  };

  // The instance's interface on the attacker's network carries what the NAT sends on toward the attacker.
  const linkDevice = (
    await mustRun('instance', `ip -o -4 address show to ${VM_INSTANCE_ADDRESS}/32`, 'finding the lab link')
  ).split(/\s+/)[1];
  if (!linkDevice)
    throw new LabError('VAGRANT_NOT_PROVISIONED', `no interface holds ${VM_INSTANCE_ADDRESS} in the instance VM`);

  // `ip netns exec` rather than `capture --netns`, which would start a second Node.js (slow under emulation).
  const captureCommand = (name: string, device: string, netns?: string): string[] => [
    ...(netns ? ['ip', 'netns', 'exec', netns] : []),
    'node',
    VM_CLI,
    'capture',
    '--interface',
    device,
    '--out',
    `${VM_CAPTURE_DIR}/${name}.pcap`,
  ];

  return {
    instanceAddress: VM_INSTANCE_ADDRESS,
    // Under software emulation a live token response can take seconds; a dead one is still told apart.
    tokenWaitSeconds: 15,
    requestSeconds: 30,

    async curl(side, url, extra, maxSeconds) {
      const words = ['curl', ...curlArgs(url, extra, maxSeconds)];
      const result =
        side === 'attacker'
          ? await ssh('attacker', words.map(shellQuote).join(' '), (maxSeconds + 60) * 1000)
          : await ssh('instance', sudo(['ip', 'netns', 'exec', LAB.container, ...words]), (maxSeconds + 60) * 1000);
      return curlOutcome(result.code, result.stdout.toString('utf8'));
    },

    async setOptions(setting) {
      await mustRun(
        'instance',
        sudo([
          'node',
          VM_CLI,
          'options',
          '--interface',
          VM_TAP,
          '--http-tokens',
          setting.httpTokens,
          '--hop-limit',
          String(setting.hopLimit),
        ]),
        'imds-hop options',
      );
    },

    async logMark() {
      const out = await mustRun(
        'instance',
        sudo(['journalctl', '-q', '-u', UNIT, '-n', '1', '-o', 'cat', '--show-cursor']),
        'journalctl',
      );
      return /^-- cursor: (.+)$/m.exec(out)?.[1] ?? '';
    },

    async logSince(mark) {
      const after = mark ? ['--after-cursor', mark] : [];
      return mustRun('instance', sudo(['journalctl', '-q', '-u', UNIT, '-o', 'cat', ...after]), 'journalctl');
    },

    async startCaptures(files: CaptureFiles) {
      const captures = [
        {
          name: basename(files.tap, '.pcap'),
          local: files.tap,
          words: captureCommand(basename(files.tap, '.pcap'), VM_TAP),
        },
        {
          name: basename(files.attacker, '.pcap'),
          local: files.attacker,
          words: captureCommand(basename(files.attacker, '.pcap'), linkDevice),
        },
        {
          name: basename(files.container, '.pcap'),
          local: files.container,
          words: captureCommand(basename(files.container, '.pcap'), LAB.containerDevice, LAB.container),
        },
      ];
      // All three start together (Node starts slowly under emulation); each is ready once libpcap has its interface.
      const script = [
        `mkdir -p ${VM_CAPTURE_DIR}`,
        ...captures.map(
          (c) =>
            `setsid ${c.words.map(shellQuote).join(' ')} >/dev/null 2>${VM_CAPTURE_DIR}/${c.name}.err </dev/null & echo $! >${VM_CAPTURE_DIR}/${c.name}.pid`,
        ),
        'for _ in $(seq 1 6000); do',
        `  ready=0; for f in ${captures.map((c) => `${VM_CAPTURE_DIR}/${c.name}.err`).join(' ')}; do grep -qs 'capturing on' "$f" && ready=$((ready + 1)); done`,
        `  [ "$ready" -eq ${captures.length} ] && exit 0`,
        `  for p in ${captures.map((c) => `${VM_CAPTURE_DIR}/${c.name}.pid`).join(' ')}; do kill -0 "$(cat "$p")" 2>/dev/null || { cat ${VM_CAPTURE_DIR}/*.err >&2; exit 1; }; done`,
        '  sleep 0.1',
        'done',
        `echo "captures did not start in 600 s" >&2; cat ${VM_CAPTURE_DIR}/*.err >&2; exit 1`,
      ].join('\n');
      const stopScript = [
        ...captures.map((c) => `kill -TERM "$(cat ${VM_CAPTURE_DIR}/${c.name}.pid)" 2>/dev/null`),
        'for _ in $(seq 1 300); do',
        `  alive=0; for p in ${VM_CAPTURE_DIR}/*.pid; do kill -0 "$(cat "$p")" 2>/dev/null && alive=1; done`,
        '  [ "$alive" -eq 0 ] && break; sleep 0.1',
        'done',
        `for p in ${VM_CAPTURE_DIR}/*.pid; do kill -KILL "$(cat "$p")" 2>/dev/null; rm -f "$p"; done; true`,
      ].join('\n');
      const started = await ssh('instance', `sudo sh -c ${shellQuote(script)}`, 900_000);
      if (started.code !== 0) {
        await ssh('instance', `sudo sh -c ${shellQuote(stopScript)}`);
        throw new LabError('CAPTURE_FAILED', `captures in the instance VM did not start: ${started.stderr.trim()}`);
      }
      return {
        async stop() {
          await mustRun('instance', `sudo sh -c ${shellQuote(stopScript)}`, 'stopping the captures');
          for (const capture of captures) {
            const copy = await ssh('instance', sudo(['cat', `${VM_CAPTURE_DIR}/${capture.name}.pcap`]));
            if (copy.code !== 0)
              throw new LabError(
                'CAPTURE_FAILED',
                `copying ${capture.name}.pcap from the instance VM: ${copy.stderr.trim()}`,
              );
            writeFileSync(capture.local, copy.stdout);
          }
          await ssh('instance', sudo(['rm', '-rf', VM_CAPTURE_DIR]));
        },
      };
    },

    async close() {
      for (const vm of ['instance', 'attacker'] as const)
        await execBuffer('ssh', [...sshArgs(vm).slice(0, -1), '-O', 'exit', vm], 10_000);
      rmSync(state, { recursive: true, force: true });
    },
  };
}

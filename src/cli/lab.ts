// `imds-hop lab up|demo|down` (the misconfiguration lab in network namespaces) and `imds-hop capture` (a pcap
// file from an interface, with libpcap through the `cap` package).
import { spawn } from 'node:child_process';
import { Command, InvalidArgumentError, Option } from 'commander';
import { startPacketCapture } from '../link/packet-capture.ts';
import { join } from 'node:path';
import { runDemo } from '../lab/demo.ts';
import { ARTIFACTS_DIR, CLI, REPO_ROOT, isLabUp, labDown, labDownSync, labUp } from '../lab/topology.ts';
import { openVagrantLab } from '../lab/vagrant-driver.ts';
import { HOP_LIMIT, HTTP_TOKENS } from '../imds/metadata-options.ts';
import { byRule } from './control.ts';

function positiveInteger(max: number) {
  return (text: string): number => {
    if (!/^[0-9]+$/.test(text) || Number(text) < 1 || Number(text) > max) {
      throw new InvalidArgumentError(`expected an integer from 1 to ${max}`);
    }
    return Number(text);
  };
}

/** Runs `fn` with the lab torn down on Ctrl-C/SIGTERM (synchronously: nothing asynchronous runs after a signal). */
async function withTeardownOnSignal<T>(fn: () => Promise<T>): Promise<T> {
  const onSignal = (): void => {
    process.stderr.write('\nimds-hop lab: interrupted, tearing the lab down\n');
    labDownSync();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await fn();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The demo in the Vagrant VMs, driven from this host; the VMs stay up (`vagrant destroy -f` removes them). */
async function vagrantDemo(vagrantDir: string): Promise<void> {
  const artifacts = process.env.IMDS_HOP_VAGRANT_ARTIFACTS ?? join(REPO_ROOT, 'artifacts/vagrant');
  const lab = await openVagrantLab(vagrantDir);
  try {
    const report = await runDemo((t) => process.stdout.write(t), lab, artifacts);
    process.stdout.write(`\n${report.table}`);
    process.stdout.write(`table and pcaps (captured in the instance VM): ${artifacts}\n`);
    if (!report.pass) process.exitCode = 1;
  } finally {
    await lab.close();
  }
}

export function addLabCommands(program: Command): void {
  const lab = program
    .command('lab')
    .description('the misconfiguration lab: namespaces for an instance, an attacker and a container (root)');

  lab
    .command('up')
    .description('build the lab: namespaces, links, NAT, nginx, the WAF proxy, the SSRF app and imds-hop')
    .option('--hop-limit <n>', 'initial hop limit', byRule(HOP_LIMIT.fromText), 1)
    .addOption(
      new Option('--http-tokens <mode>', 'initial http-tokens').choices(HTTP_TOKENS.choices).default('optional'),
    )
    .action(async (opts: { hopLimit: number; httpTokens: 'optional' | 'required' }) => {
      await withTeardownOnSignal(() => labUp(opts.hopLimit, opts.httpTokens));
    });

  lab
    .command('demo')
    .description(`run every scenario under every setting, print the table and verdict; artifacts in ${ARTIFACTS_DIR}`)
    .option('--keep', 'leave the lab up afterwards when the demo built it')
    .option('--vagrant [dir]', 'run it in the Vagrant VMs of this Vagrantfile folder instead (up and provisioned)')
    .action(async (opts: { keep?: boolean; vagrant?: string | true }) => {
      if (opts.vagrant) {
        await vagrantDemo(opts.vagrant === true ? join(REPO_ROOT, 'vagrant') : opts.vagrant);
        return;
      }
      const ownsLab = !isLabUp();
      let pass = false;
      await withTeardownOnSignal(async () => {
        if (ownsLab) await labUp();
        try {
          const report = await runDemo();
          process.stdout.write(`\n${report.table}`);
          process.stdout.write(`table and pcaps: ${ARTIFACTS_DIR}\n`);
          pass = report.pass;
        } finally {
          if (ownsLab && !opts.keep) await labDown();
        }
      });
      if (!pass) process.exitCode = 1;
    });

  lab
    .command('down')
    .description('remove everything the lab created (safe to run any time)')
    .action(async () => {
      await labDown();
    });

  program
    .command('capture')
    .description('write every frame seen on an interface to a pcap file (libpcap 2.4, Ethernet) until SIGINT/SIGTERM')
    .requiredOption('--interface <name>', 'interface to capture on')
    .requiredOption('--out <file>', 'pcap file to write')
    .option('--netns <name>', 'capture inside this network namespace')
    .option('--duration <seconds>', 'stop after this many seconds', positiveInteger(86_400))
    .option('--filter <bpf>', 'libpcap filter expression', '')
    .action(async (opts: { interface: string; out: string; netns?: string; duration?: number; filter: string }) => {
      if (opts.netns) {
        const args = [CLI, 'capture', '--interface', opts.interface, '--out', opts.out, '--filter', opts.filter];
        if (opts.duration) args.push('--duration', String(opts.duration));
        const child = spawn('ip', ['netns', 'exec', opts.netns, process.execPath, ...args], { stdio: 'inherit' });
        const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
        process.on('SIGINT', forward('SIGINT'));
        process.on('SIGTERM', forward('SIGTERM'));
        const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
        if (code !== 0) process.exitCode = code;
        return;
      }
      const capture = startPacketCapture(opts.interface, opts.out, opts.filter);
      process.stderr.write(`capturing on ${opts.interface} to ${opts.out}\n`);
      await new Promise<void>((resolve) => {
        const done = (): void => resolve();
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
        if (opts.duration) setTimeout(done, opts.duration * 1000).unref();
      });
      capture.stop();
      process.stderr.write(`${capture.frames} frames written to ${opts.out}\n`);
    });
}

// The demo's lab as network namespaces on this host (`imds-hop lab up`): clients run with `ip netns exec`, the
// appliance's log is a file, captures are `imds-hop capture` inside the namespaces.
import { readFileSync } from 'node:fs';
import { startLabCapture, type RunningCapture } from './lab-capture.ts';
import { curlArgs, curlOutcome, type LabDriver } from './lab-driver.ts';
import { APPLIANCE_LOG, CLI, LAB, run } from './topology.ts';

/** The network-namespace lab on this host (`imds-hop lab up`). */
export const netnsLab: LabDriver = {
  instanceAddress: LAB.instanceAddress,
  // Short enough that a token that died at a router does not slow the demo.
  tokenWaitSeconds: 3,
  requestSeconds: 10,
  async curl(side, url, extra, maxSeconds) {
    const namespace = side === 'attacker' ? LAB.attacker : LAB.container;
    const result = await run(
      'ip',
      ['netns', 'exec', namespace, 'curl', ...curlArgs(url, extra, maxSeconds)],
      (maxSeconds + 5) * 1000,
    );
    return curlOutcome(result.code, result.stdout);
  },
  async setOptions(setting) {
    const result = await run(process.execPath, [
      CLI,
      'options',
      '--interface',
      LAB.tap,
      '--http-tokens',
      setting.httpTokens,
      '--hop-limit',
      String(setting.hopLimit),
    ]);
    if (result.code !== 0) throw new Error(`imds-hop options failed: ${result.stderr}`);
  },
  async logMark() {
    try {
      return String(readFileSync(APPLIANCE_LOG, 'utf8').length);
    } catch {
      return '0';
    }
  },
  async logSince(mark) {
    try {
      return readFileSync(APPLIANCE_LOG, 'utf8').slice(Number(mark));
    } catch {
      return '';
    }
  },
  async startCaptures(files) {
    const captures: RunningCapture[] = [];
    try {
      captures.push(await startLabCapture(LAB.instance, LAB.tap, files.tap));
      captures.push(await startLabCapture(LAB.attacker, LAB.attackerDevice, files.attacker));
      captures.push(await startLabCapture(LAB.container, LAB.containerDevice, files.container));
    } catch (error) {
      for (const capture of captures) await capture.stop();
      throw error;
    }
    return {
      async stop() {
        for (const capture of captures) await capture.stop();
      },
    };
  },
};

// Packet captures for integration tests: tcpdump writes a standard pcap inside a namespace, and the lab's reader
// (pcap-parser plus our own codecs) reads it back, so every assertion is about bytes on the wire.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readPcap, type PcapFrame } from '../../src/lab/capture-assertions.ts';

export interface RunningCapture {
  stop(): Promise<void>;
}

/** Starts tcpdump on a device in a namespace and resolves once it is capturing. */
export async function startCapture(namespace: string, device: string, file: string): Promise<RunningCapture> {
  const child = spawn('ip', ['netns', 'exec', namespace, 'tcpdump', '-i', device, '-n', '-U', '--immediate-mode', '-s', '0', '-w', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  const listening = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (text: string) => {
      stderr += text;
      if (stderr.includes('listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`tcpdump exited (${code}) before capturing: ${stderr}`)));
  });
  const timeout = setTimeout(() => child.kill('SIGKILL'), 60_000);
  await listening;
  return {
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        await once(child, 'exit');
      }
      clearTimeout(timeout);
    },
  };
}

export type CapturedFrame = PcapFrame;

/** Every IPv4 frame of an Ethernet pcap, decoded by the lab's reader; frames our codecs refuse are counted. */
export async function readIpv4Frames(file: string): Promise<{ frames: CapturedFrame[]; undecodable: number }> {
  const { frames, undecodable } = await readPcap(file);
  return { frames, undecodable };
}

export function payloadText(frame: CapturedFrame): string {
  return frame.tcp ? Buffer.from(frame.tcp.payload).toString('latin1') : '';
}

// Packet captures for integration tests: tcpdump writes a standard pcap inside a namespace, and the lab's reader
// (pcap-parser plus our own codecs) reads it back, so every assertion is about bytes on the wire.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { parse as parsePcap } from 'pcap-parser';
import { readPcap, type PcapFrame } from '../../src/lab/capture-assertions.ts';
import {
  EtherType,
  Ipv6NextHeader,
  formatIpv6Address,
  parseEthernet,
  parseIpv6,
  parseTcpIpv6,
} from '../../src/wire/index.ts';

export interface RunningCapture {
  stop(): Promise<void>;
}

/** Starts tcpdump on a device in a namespace and resolves once it is capturing. */
export async function startCapture(namespace: string, device: string, file: string): Promise<RunningCapture> {
  const child = spawn(
    'ip',
    ['netns', 'exec', namespace, 'tcpdump', '-i', device, '-n', '-U', '--immediate-mode', '-s', '0', '-w', file],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
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

export interface Ipv6TcpFrame {
  src: string;
  hopLimit: number;
  payload: string;
  /** The MSS option, on SYN segments. */
  mss: number | undefined;
}

/** TCP over IPv6 frames of an Ethernet pcap, decoded with our own codecs. */
export async function readIpv6TcpFrames(file: string): Promise<Ipv6TcpFrame[]> {
  const frames: Ipv6TcpFrame[] = [];
  const parser = parsePcap(file);
  parser.on('packet', (packet) => {
    const eth = parseEthernet(new Uint8Array(packet.data));
    if (!eth.ok || eth.value.etherType !== EtherType.IPV6) return;
    const ip = parseIpv6(eth.value.payload);
    if (!ip.ok || ip.value.nextHeader !== Ipv6NextHeader.TCP) return;
    const tcp = parseTcpIpv6(ip.value.payload, ip.value.src, ip.value.dst);
    if (!tcp.ok) return;
    frames.push({
      src: formatIpv6Address(ip.value.src),
      hopLimit: ip.value.hopLimit,
      payload: Buffer.from(tcp.value.payload).toString('latin1'),
      mss: tcp.value.control === 'syn' ? tcp.value.options.mss : undefined,
    });
  });
  await new Promise<void>((resolve, reject) => {
    parser.on('end', resolve);
    parser.on('error', reject);
  });
  return frames;
}

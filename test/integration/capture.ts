// Packet captures for integration tests: tcpdump writes a standard pcap inside a namespace, pcap-parser reads
// it back, and the frames are decoded with our own codecs so every assertion is about bytes on the wire.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { parse as parsePcap } from 'pcap-parser';
import {
  EtherType,
  IpProtocol,
  parseEthernet,
  parseIcmp,
  parseIpv4,
  parseTcp,
  type Ipv4Packet,
  type IcmpMessage,
  type TcpSegment,
} from '../../src/wire/index.ts';

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

export interface CapturedFrame {
  ip: Ipv4Packet;
  tcp?: TcpSegment;
  icmp?: IcmpMessage;
}

/** Every IPv4 frame of an Ethernet pcap, decoded; frames our codecs refuse are reported, not skipped silently. */
export async function readIpv4Frames(file: string): Promise<{ frames: CapturedFrame[]; undecodable: number }> {
  const raw: Buffer[] = [];
  const parser = parsePcap(file);
  let linkType = -1;
  parser.on('globalHeader', (header) => {
    linkType = header.linkLayerType;
  });
  parser.on('packet', (packet) => raw.push(packet.data));
  await new Promise<void>((resolve, reject) => {
    parser.on('end', resolve);
    parser.on('error', reject);
  });
  if (linkType !== 1) throw new Error(`${file}: expected an Ethernet capture (link type 1), got ${linkType}`);
  const frames: CapturedFrame[] = [];
  let undecodable = 0;
  for (const data of raw) {
    const ethernet = parseEthernet(data);
    if (!ethernet.ok || ethernet.value.etherType !== EtherType.IPV4) continue;
    const ip = parseIpv4(ethernet.value.payload);
    if (!ip.ok) {
      undecodable += 1;
      continue;
    }
    const frame: CapturedFrame = { ip: ip.value };
    if (ip.value.protocol === IpProtocol.TCP) {
      // Frames a local kernel sent with checksum offload are captured before the checksum is filled in.
      const tcp = parseTcp(ip.value.payload, ip.value.src, ip.value.dst, { acceptOffloadedChecksum: true });
      if (tcp.ok) frame.tcp = tcp.value;
      else undecodable += 1;
    } else if (ip.value.protocol === IpProtocol.ICMP) {
      const icmp = parseIcmp(ip.value.payload);
      if (icmp.ok) frame.icmp = icmp.value;
      else undecodable += 1;
    }
    frames.push(frame);
  }
  return { frames, undecodable };
}

export function payloadText(frame: CapturedFrame): string {
  return frame.tcp ? Buffer.from(frame.tcp.payload).toString('latin1') : '';
}

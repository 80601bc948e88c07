// Assertions over the lab's packet captures, read back with pcap-parser and decoded with our own codecs, so every
// verdict is about bytes that were on a wire:
//   - every frame carrying a token response leaves the appliance with IP TTL = the hop limit;
//   - no frame beyond the instance (the attacker's link) carries a token response or a token's bytes;
//   - the router's ICMP time-exceeded for a token response is there when the hop limit should stop it.
import { parse as parsePcap } from 'pcap-parser';
import {
  EtherType,
  IpProtocol,
  parseEthernet,
  parseIcmp,
  parseIpv4,
  parseIpv4Address,
  parseQuotedDatagram,
  parseTcp,
  type IcmpMessage,
  type Ipv4Packet,
  type TcpSegment,
} from '../wire/index.ts';

/** The header only a token response carries (EC2 echoes the requested TTL back). */
const TOKEN_RESPONSE_MARK = 'X-Aws-Ec2-Metadata-Token-Ttl-Seconds';
const SERVICE = parseIpv4Address('169.254.169.254');
const HTTP_PORT = 80;
/** Tokens are base64 well over this length; shorter matches would be noise. */
const MIN_TOKEN_LENGTH = 16;
/** A token response's body: one base64 word (a metadata answer is JSON or a listing). */
const TOKEN_SHAPE = /^[A-Za-z0-9+/=_-]{16,1024}$/;

export interface PcapFrame {
  /** 1-based frame number, as tshark and Wireshark count. */
  number: number;
  ip: Ipv4Packet;
  tcp?: TcpSegment;
  icmp?: IcmpMessage;
}

interface PcapContents {
  file: string;
  linkType: number;
  /** Every record in the file, IPv4 or not. */
  records: number;
  frames: PcapFrame[];
  /** IPv4 frames whose transport our codecs refused. */
  undecodable: number;
}

export interface AssertionResult {
  name: string;
  ok: boolean;
  detail: string;
}

export async function readPcap(file: string): Promise<PcapContents> {
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
  const frames: PcapFrame[] = [];
  let undecodable = 0;
  raw.forEach((data, index) => {
    const ethernet = parseEthernet(data);
    if (!ethernet.ok || ethernet.value.etherType !== EtherType.IPV4) return;
    const ip = parseIpv4(ethernet.value.payload);
    if (!ip.ok) {
      undecodable += 1;
      return;
    }
    const frame: PcapFrame = { number: index + 1, ip: ip.value };
    if (ip.value.protocol === IpProtocol.TCP) {
      // A local kernel's frames are captured before checksum offload fills the checksum in.
      const tcp = parseTcp(ip.value.payload, ip.value.src, ip.value.dst, { acceptOffloadedChecksum: true });
      if (tcp.ok) frame.tcp = tcp.value;
      else undecodable += 1;
    } else if (ip.value.protocol === IpProtocol.ICMP) {
      const icmp = parseIcmp(ip.value.payload);
      if (icmp.ok) frame.icmp = icmp.value;
      else undecodable += 1;
    }
    frames.push(frame);
  });
  return { file, linkType, records: raw.length, frames, undecodable };
}

interface Flow {
  frames: PcapFrame[];
  /** Sequence number of the first payload byte (after the SYN when the capture saw it). */
  base: number;
  stream: Buffer;
}

/** Reassembles each direction of each TCP connection (duplicates and retransmissions overlap, gaps stay zero). */
function reassemble(frames: PcapFrame[], from: (frame: PcapFrame) => boolean): Flow[] {
  // A SYN starts a new connection: a NAT may reuse a port, and clock-driven ISNs make the old and the new
  // connection's sequence numbers close enough to overlap.
  const open = new Map<string, PcapFrame[]>();
  const connections: PcapFrame[][] = [];
  for (const frame of frames) {
    if (!frame.tcp || !from(frame)) continue;
    const key = `${frame.ip.src}:${frame.tcp.srcPort}>${frame.ip.dst}:${frame.tcp.dstPort}`;
    let connection = open.get(key);
    if (!connection || frame.tcp.control === 'syn') {
      connection = [];
      open.set(key, connection);
      connections.push(connection);
    }
    connection.push(frame);
  }
  const flows: Flow[] = [];
  for (const flowFrames of connections) {
    const syn = flowFrames.find((f) => f.tcp?.control === 'syn');
    const first = flowFrames.find((f) => (f.tcp?.payload.length ?? 0) > 0);
    if (!first?.tcp) continue;
    const base = syn?.tcp ? (syn.tcp.seq + 1) >>> 0 : first.tcp.seq;
    let length = 0;
    for (const f of flowFrames) {
      const tcp = f.tcp as TcpSegment;
      if (tcp.payload.length > 0) length = Math.max(length, ((tcp.seq - base) >>> 0) + tcp.payload.length);
    }
    if (length > 16 << 20) continue; // not one connection of ours: sequence numbers from two lifetimes
    const stream = Buffer.alloc(length);
    for (const f of flowFrames) {
      const tcp = f.tcp as TcpSegment;
      if (tcp.payload.length > 0) stream.set(tcp.payload, (tcp.seq - base) >>> 0);
    }
    flows.push({ frames: flowFrames, base, stream });
  }
  return flows;
}

interface TokenResponse {
  token: string;
  /** Stream offsets [start, end) of the whole response, status line to the last token byte. */
  start: number;
  end: number;
}

function tokenResponsesIn(stream: Buffer): TokenResponse[] {
  const text = stream.toString('latin1');
  const found: TokenResponse[] = [];
  let at = text.indexOf(TOKEN_RESPONSE_MARK);
  while (at >= 0) {
    const start = Math.max(0, text.lastIndexOf('HTTP/1.', at));
    const headerEnd = text.indexOf('\r\n\r\n', at);
    if (headerEnd < 0) break;
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(start, headerEnd + 2));
    const bodyStart = headerEnd + 4;
    const end = Math.min(text.length, bodyStart + Number(length?.[1] ?? 0));
    const token = text.slice(bodyStart, end);
    // EC2 also sends the TTL header on answers to token-bearing GETs; only a PUT's answer is a bare token.
    if (TOKEN_SHAPE.test(token)) found.push({ token, start, end });
    at = text.indexOf(TOKEN_RESPONSE_MARK, end);
  }
  return found;
}

const fromService = (frame: PcapFrame): boolean => frame.ip.src === SERVICE && frame.tcp?.srcPort === HTTP_PORT;

/** The frames that carry a byte of a token response, and the tokens they carried. */
export function tokenResponseFrames(frames: PcapFrame[]): { frames: PcapFrame[]; tokens: string[] } {
  const carrying: PcapFrame[] = [];
  const tokens: string[] = [];
  for (const flow of reassemble(frames, fromService)) {
    const responses = tokenResponsesIn(flow.stream);
    for (const response of responses) if (response.token.length >= MIN_TOKEN_LENGTH) tokens.push(response.token);
    for (const frame of flow.frames) {
      const tcp = frame.tcp as TcpSegment;
      if (tcp.payload.length === 0) continue;
      const start = (tcp.seq - flow.base) >>> 0;
      const end = start + tcp.payload.length;
      if (responses.some((r) => start < r.end && r.start < end)) carrying.push(frame);
    }
  }
  return { frames: carrying, tokens: [...new Set(tokens)] };
}

/** Every frame carrying token-response bytes left with TTL = the hop limit (and there was at least one). */
export function assertTokenTtl(contents: PcapContents, hopLimit: number): AssertionResult {
  const name = `every token-bearing frame has TTL ${hopLimit}`;
  // Connections a capture only joined (an earlier phase's dying token response, still retransmitted at that
  // phase's hop limit) are not this phase's: only those whose SYN the capture saw are judged.
  const opened = connectionsOpenedIn(contents.frames);
  const frames = tokenResponseFrames(contents.frames).frames.filter((f) =>
    opened.has(clientKey(f.ip.dst, f.tcp?.dstPort)),
  );
  if (frames.length === 0) return { name, ok: false, detail: 'no token response in the capture' };
  const wrong = frames.filter((f) => f.ip.ttl !== hopLimit);
  if (wrong.length > 0) {
    const list = wrong
      .slice(0, 5)
      .map((f) => `#${f.number} TTL ${f.ip.ttl}`)
      .join(', ');
    return { name, ok: false, detail: `${wrong.length} of ${frames.length} token frames with another TTL: ${list}` };
  }
  return { name, ok: true, detail: `${frames.length} token frames, all TTL ${hopLimit}` };
}

/**
 * No frame of a capture taken beyond the instance carries a token response or any of the given tokens (those the
 * appliance issued, e.g. read from the tap's capture). Reassembled, so a token split across segments is found.
 */
export function assertNoTokenBeyondInstance(contents: PcapContents, knownTokens: string[]): AssertionResult {
  const name = 'no token bytes beyond the instance';
  const tokens = knownTokens.filter((t) => t.length >= MIN_TOKEN_LENGTH);
  const hits: string[] = [];
  for (const frame of contents.frames) {
    const text = frame.tcp ? Buffer.from(frame.tcp.payload).toString('latin1') : '';
    if (tokens.some((t) => text.includes(t))) hits.push(`#${frame.number} carries a token`);
  }
  // Reassembled too: a token response from the service, or a known token split across segments.
  for (const flow of reassemble(contents.frames, () => true)) {
    if (tokenResponsesIn(flow.stream).length > 0) {
      hits.push(`#${flow.frames.find((f) => (f.tcp?.payload.length ?? 0) > 0)?.number} starts a token response`);
      continue;
    }
    const text = flow.stream.toString('latin1');
    const token = tokens.find((t) => text.includes(t));
    if (token && !flow.frames.some((f) => hits.some((h) => h.startsWith(`#${f.number} `)))) {
      hits.push(`a TCP stream carries token ${token.slice(0, 8)}…`);
    }
  }
  if (hits.length > 0) return { name, ok: false, detail: `${hits.length} hit(s): ${hits.slice(0, 3).join('; ')}` };
  return {
    name,
    ok: true,
    detail: `${contents.frames.length} IPv4 frames, none with token bytes (${tokens.length} tokens checked)`,
  };
}

export const clientKey = (address: number, port: number | undefined): string => `${address}:${port ?? -1}`;

/** Clients (address:port) whose connection to the service began inside this capture. */
export function connectionsOpenedIn(frames: PcapFrame[]): Set<string> {
  const opened = new Set<string>();
  for (const f of frames) {
    if (f.tcp?.control === 'syn' && f.ip.dst === SERVICE && f.tcp.dstPort === HTTP_PORT)
      opened.add(clientKey(f.ip.src, f.tcp.srcPort));
  }
  return opened;
}

/** ICMP time-exceeded quoting a packet from the service, present (or absent) as expected. */
export function assertTimeExceeded(contents: PcapContents, expected: boolean): AssertionResult {
  const name = expected ? 'router ICMP time-exceeded present' : 'no ICMP time-exceeded';
  const opened = connectionsOpenedIn(contents.frames);
  const found = contents.frames.filter((f) => {
    if (f.icmp?.kind !== 'time-exceeded') return false;
    const quoted = parseQuotedDatagram(f.icmp.original);
    return quoted.ok && quoted.value.src === SERVICE && opened.has(clientKey(quoted.value.dst, quoted.value.dstPort));
  });
  const detail = found.length > 0 ? `${found.length} time-exceeded (first #${found[0]?.number})` : 'no time-exceeded';
  return { name, ok: expected ? found.length > 0 : found.length === 0, detail };
}

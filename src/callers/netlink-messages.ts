// Netlink messages for naming a connection's caller, built and parsed here so native code only moves bytes:
//   - sock_diag (NETLINK_SOCK_DIAG, what `ss` uses): the exact lookup of one TCP socket by its 4-tuple, answered
//     with the socket's inode, uid and cgroup id (linux/inet_diag.h);
//   - ctnetlink (NETLINK_NETFILTER): the connection-tracking entry whose reply tuple is the connection as we see
//     it, answered with the original tuple — the client's address before NAT (linux/netfilter/nfnetlink_conntrack.h).
// Netlink headers are in host byte order; addresses and ports in network order. Parsers never throw.

export const NETLINK_NETFILTER = 12;

const NLMSG_HEADER_BYTES = 16;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const SOCK_DIAG_BY_FAMILY = 20;
const AF_INET = 2;
const AF_INET6 = 10;
const IPPROTO_TCP = 6;
const INET_DIAG_REQ_V2_BYTES = 56;
const INET_DIAG_MSG_BYTES = 72;
const INET_DIAG_CGROUP_ID = 21;
const ALL_TCP_STATES = 0xfff;
const INET_DIAG_NOCOOKIE = 0xffffffff;
/** (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET, and the NEW message a lookup is answered with. */
const CTNETLINK_GET = (1 << 8) | 1;
const CTNETLINK_NEW = (1 << 8) | 0;
const NLA_F_NESTED = 0x8000;
const NLA_TYPE_MASK = 0x3fff;
const CTA_TUPLE_ORIG = 1;
const CTA_TUPLE_REPLY = 2;
const CTA_TUPLE_IP = 1;
const CTA_TUPLE_PROTO = 2;
const CTA_IP_V4_SRC = 1;
const CTA_IP_V4_DST = 2;
const CTA_IP_V6_SRC = 3;
const CTA_IP_V6_DST = 4;
const CTA_PROTO_NUM = 1;
const CTA_PROTO_SRC_PORT = 2;
const CTA_PROTO_DST_PORT = 3;

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** One side of a TCP connection: 4 bytes (IPv4) or 16 (IPv6), and a port. */
export interface SocketEndpoint {
  address: Uint8Array;
  port: number;
}

export interface DiagSocket {
  inode: number;
  /** The kernel's socket cookie (inet_diag_sockid.idiag_cookie): the connect hook's key. */
  cookie: bigint;
  uid: number;
  /** cgroup v2 id of the socket's cgroup (its directory's inode number), when the kernel reports it. */
  cgroupId: bigint | undefined;
  state: number;
}

export type NetlinkAnswer<T> =
  { ok: true; value: T } | { ok: false; reason: 'not-found' | 'malformed' | 'error'; errno?: number };

function familyOf(address: Uint8Array): number {
  return address.length === 4 ? AF_INET : AF_INET6;
}

function header(view: DataView, length: number, type: number, flags: number, seq: number): void {
  view.setUint32(0, length, HOST_LITTLE_ENDIAN);
  view.setUint16(4, type, HOST_LITTLE_ENDIAN);
  view.setUint16(6, flags, HOST_LITTLE_ENDIAN);
  view.setUint32(8, seq, HOST_LITTLE_ENDIAN);
  view.setUint32(12, 0, HOST_LITTLE_ENDIAN);
}

/**
 * The exact lookup of the socket whose local side is `local` and remote side `remote` (the client's socket: local
 * is the client, remote the metadata service).
 */
export function encodeSockDiagLookup(local: SocketEndpoint, remote: SocketEndpoint, seq: number): Uint8Array {
  const bytes = new Uint8Array(NLMSG_HEADER_BYTES + INET_DIAG_REQ_V2_BYTES);
  const view = new DataView(bytes.buffer);
  header(view, bytes.length, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, seq);
  const at = NLMSG_HEADER_BYTES;
  bytes[at] = familyOf(local.address);
  bytes[at + 1] = IPPROTO_TCP;
  view.setUint32(at + 4, ALL_TCP_STATES, HOST_LITTLE_ENDIAN);
  view.setUint16(at + 8, local.port, false);
  view.setUint16(at + 10, remote.port, false);
  bytes.set(local.address, at + 12);
  bytes.set(remote.address, at + 28);
  view.setUint32(at + 48, INET_DIAG_NOCOOKIE, HOST_LITTLE_ENDIAN);
  view.setUint32(at + 52, INET_DIAG_NOCOOKIE, HOST_LITTLE_ENDIAN);
  return bytes;
}

interface RawMessage {
  type: number;
  body: Uint8Array;
}

function messagesOf(reply: Uint8Array): RawMessage[] | undefined {
  const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
  const messages: RawMessage[] = [];
  let offset = 0;
  while (offset + NLMSG_HEADER_BYTES <= reply.length) {
    const length = view.getUint32(offset, HOST_LITTLE_ENDIAN);
    if (length < NLMSG_HEADER_BYTES || offset + length > reply.length) return undefined;
    messages.push({
      type: view.getUint16(offset + 4, HOST_LITTLE_ENDIAN),
      body: reply.subarray(offset + NLMSG_HEADER_BYTES, offset + length),
    });
    offset += (length + 3) & ~3;
  }
  return offset >= reply.length || messages.length > 0 ? messages : undefined;
}

function errorOf(body: Uint8Array): NetlinkAnswer<never> {
  if (body.length < 4) return { ok: false, reason: 'malformed' };
  const errno = -new DataView(body.buffer, body.byteOffset, 4).getInt32(0, HOST_LITTLE_ENDIAN);
  return errno === 2 /* ENOENT */ ? { ok: false, reason: 'not-found', errno } : { ok: false, reason: 'error', errno };
}

/** Attributes (rtattr / nlattr share the layout: u16 length, u16 type, value, 4-byte aligned). */
function attributesOf(bytes: Uint8Array): Map<number, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const attributes = new Map<number, Uint8Array>();
  let offset = 0;
  while (offset + 4 <= bytes.length) {
    const length = view.getUint16(offset, HOST_LITTLE_ENDIAN);
    if (length < 4 || offset + length > bytes.length) break;
    const type = view.getUint16(offset + 2, HOST_LITTLE_ENDIAN) & NLA_TYPE_MASK;
    if (!attributes.has(type)) attributes.set(type, bytes.subarray(offset + 4, offset + length));
    offset += (length + 3) & ~3;
  }
  return attributes;
}

/** The socket a lookup found; not-found when no socket of this netns has that 4-tuple. */
export function parseSockDiagReply(reply: Uint8Array): NetlinkAnswer<DiagSocket> {
  const messages = messagesOf(reply);
  if (!messages || messages.length === 0) return { ok: false, reason: 'malformed' };
  for (const message of messages) {
    if (message.type === NLMSG_ERROR) return errorOf(message.body);
    if (message.type === NLMSG_DONE) return { ok: false, reason: 'not-found' };
    if (message.type !== SOCK_DIAG_BY_FAMILY || message.body.length < INET_DIAG_MSG_BYTES) continue;
    const view = new DataView(message.body.buffer, message.body.byteOffset, message.body.byteLength);
    const cgroup = attributesOf(message.body.subarray(INET_DIAG_MSG_BYTES)).get(INET_DIAG_CGROUP_ID);
    return {
      ok: true,
      value: {
        state: message.body[1] ?? 0,
        uid: view.getUint32(64, HOST_LITTLE_ENDIAN),
        inode: view.getUint32(68, HOST_LITTLE_ENDIAN),
        // idiag_cookie[0] holds the low 32 bits, [1] the high ones, each in host order.
        cookie:
          (BigInt(view.getUint32(48, HOST_LITTLE_ENDIAN)) << 32n) | BigInt(view.getUint32(44, HOST_LITTLE_ENDIAN)),
        cgroupId:
          cgroup && cgroup.length >= 8
            ? new DataView(cgroup.buffer, cgroup.byteOffset, 8).getBigUint64(0, HOST_LITTLE_ENDIAN)
            : undefined,
      },
    };
  }
  return { ok: false, reason: 'malformed' };
}

function attribute(type: number, value: Uint8Array, nested = false): Uint8Array {
  const length = 4 + value.length;
  const bytes = new Uint8Array((length + 3) & ~3);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, length, HOST_LITTLE_ENDIAN);
  view.setUint16(2, type | (nested ? NLA_F_NESTED : 0), HOST_LITTLE_ENDIAN);
  bytes.set(value, 4);
  return bytes;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

function port(value: number): Uint8Array {
  return new Uint8Array([value >> 8, value & 0xff]);
}

/**
 * The conntrack lookup of the connection whose reply direction runs from `service` to `client` (the addresses as
 * imds-hop sees them, after any NAT on the instance).
 */
export function encodeConntrackLookup(service: SocketEndpoint, client: SocketEndpoint, seq: number): Uint8Array {
  const v4 = service.address.length === 4;
  const tuple = attribute(
    CTA_TUPLE_REPLY,
    concat([
      attribute(
        CTA_TUPLE_IP,
        concat([
          attribute(v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, service.address),
          attribute(v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, client.address),
        ]),
        true,
      ),
      attribute(
        CTA_TUPLE_PROTO,
        concat([
          attribute(CTA_PROTO_NUM, new Uint8Array([IPPROTO_TCP])),
          attribute(CTA_PROTO_SRC_PORT, port(service.port)),
          attribute(CTA_PROTO_DST_PORT, port(client.port)),
        ]),
        true,
      ),
    ]),
    true,
  );
  const bytes = new Uint8Array(NLMSG_HEADER_BYTES + 4 + tuple.length);
  // Without NLM_F_ACK this kernel (6.18) answered nothing at all, not even an error; with it, the entry then an ACK.
  header(new DataView(bytes.buffer), bytes.length, CTNETLINK_GET, NLM_F_REQUEST | NLM_F_ACK, seq);
  bytes[NLMSG_HEADER_BYTES] = familyOf(service.address); // nfgenmsg: family, version 0, res_id 0
  bytes.set(tuple, NLMSG_HEADER_BYTES + 4);
  return bytes;
}

/** The original source of a tracked connection: the client before NAT. */
export function parseConntrackReply(reply: Uint8Array): NetlinkAnswer<SocketEndpoint> {
  const messages = messagesOf(reply);
  if (!messages || messages.length === 0) return { ok: false, reason: 'malformed' };
  for (const message of messages) {
    if (message.type === NLMSG_ERROR) return errorOf(message.body);
    if (message.type !== CTNETLINK_NEW || message.body.length < 4) continue;
    const original = attributesOf(message.body.subarray(4)).get(CTA_TUPLE_ORIG);
    if (!original) return { ok: false, reason: 'malformed' };
    const tuple = attributesOf(original);
    const ip = attributesOf(tuple.get(CTA_TUPLE_IP) ?? new Uint8Array());
    const proto = attributesOf(tuple.get(CTA_TUPLE_PROTO) ?? new Uint8Array());
    const address = ip.get(CTA_IP_V4_SRC) ?? ip.get(CTA_IP_V6_SRC);
    const sourcePort = proto.get(CTA_PROTO_SRC_PORT);
    if (!address || (address.length !== 4 && address.length !== 16) || !sourcePort || sourcePort.length < 2) {
      return { ok: false, reason: 'malformed' };
    }
    return { ok: true, value: { address: address.slice(), port: ((sourcePort[0] ?? 0) << 8) | (sourcePort[1] ?? 0) } };
  }
  return { ok: false, reason: 'malformed' };
}

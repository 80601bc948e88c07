// sock_diag and ctnetlink messages: requests laid out as linux/inet_diag.h and nfnetlink_conntrack.h say, replies
// parsed from kernel-shaped bytes, and no input makes a parser throw.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  encodeConntrackLookup,
  encodeSockDiagLookup,
  parseConntrackReply,
  parseSockDiagReply,
} from '../../src/callers/netlink-messages.ts';

const CLIENT = { address: new Uint8Array([169, 254, 169, 253]), port: 40000 };
const SERVICE = { address: new Uint8Array([169, 254, 169, 254]), port: 80 };

function nlmsg(type: number, body: Uint8Array, flags = 0): Uint8Array {
  const bytes = new Uint8Array(16 + body.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, bytes.length, true);
  view.setUint16(4, type, true);
  view.setUint16(6, flags, true);
  bytes.set(body, 16);
  return bytes;
}

function attr(type: number, value: Uint8Array): Uint8Array {
  const bytes = new Uint8Array((4 + value.length + 3) & ~3);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, 4 + value.length, true);
  view.setUint16(2, type, true);
  bytes.set(value, 4);
  return bytes;
}

const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

test('the sock_diag lookup: SOCK_DIAG_BY_FAMILY, AF_INET/TCP, every state, the 4-tuple in network order, no cookie', () => {
  const bytes = encodeSockDiagLookup(CLIENT, SERVICE, 7);
  const view = new DataView(bytes.buffer);
  assert.equal(bytes.length, 72);
  assert.equal(view.getUint32(0, true), 72);
  assert.equal(view.getUint16(4, true), 20);
  assert.equal(view.getUint16(6, true), 1); // NLM_F_REQUEST: one exact socket, not a dump
  assert.equal(view.getUint32(8, true), 7);
  assert.deepEqual([bytes[16], bytes[17]], [2, 6]);
  assert.equal(view.getUint32(20, true), 0xfff);
  assert.equal(view.getUint16(24, false), 40000);
  assert.equal(view.getUint16(26, false), 80);
  assert.deepEqual([...bytes.subarray(28, 32)], [169, 254, 169, 253]);
  assert.deepEqual([...bytes.subarray(44, 48)], [169, 254, 169, 254]);
  assert.equal(view.getUint32(64, true), 0xffffffff);
  assert.equal(view.getUint32(68, true), 0xffffffff);
  assert.equal(
    encodeSockDiagLookup({ address: new Uint8Array(16), port: 1 }, { address: new Uint8Array(16), port: 80 }, 1)[16],
    10,
  );
});

test('a sock_diag answer: inode, uid, socket cookie and the cgroup id attribute', () => {
  const message = new Uint8Array(72);
  const view = new DataView(message.buffer);
  message[0] = 2;
  message[1] = 1; // ESTABLISHED
  // idiag_cookie[0] is the low half, [1] the high half, as sock_diag_save_cookie() stores them.
  view.setUint32(44, 0x89abcdef, true);
  view.setUint32(48, 0x01234567, true);
  view.setUint32(64, 1000, true);
  view.setUint32(68, 123456, true);
  const cgroup = new Uint8Array(8);
  new DataView(cgroup.buffer).setBigUint64(0, 4242n, true);
  const reply = nlmsg(20, cat(message, attr(8, new Uint8Array([0])), attr(21, cgroup)));
  assert.deepEqual(parseSockDiagReply(reply), {
    ok: true,
    value: { state: 1, uid: 1000, inode: 123456, cookie: 0x0123456789abcdefn, cgroupId: 4242n },
  });
});

test('no such socket: the kernel answers NLMSG_ERROR -ENOENT', () => {
  const error = new Uint8Array(4);
  new DataView(error.buffer).setInt32(0, -2, true);
  assert.deepEqual(parseSockDiagReply(nlmsg(2, error)), { ok: false, reason: 'not-found', errno: 2 });
  new DataView(error.buffer).setInt32(0, -1, true);
  assert.deepEqual(parseConntrackReply(nlmsg(2, error)), { ok: false, reason: 'error', errno: 1 });
});

test('the conntrack lookup carries the reply tuple, nested, as ctnetlink expects', () => {
  const bytes = encodeConntrackLookup(SERVICE, CLIENT, 9);
  const view = new DataView(bytes.buffer);
  assert.equal(view.getUint16(4, true), 0x101); // CTNETLINK, IPCTNL_MSG_CT_GET
  assert.equal(view.getUint16(6, true), 0x5); // NLM_F_REQUEST | NLM_F_ACK
  assert.equal(bytes[16], 2);
  assert.equal(view.getUint16(22, true), 0x8000 | 2); // CTA_TUPLE_REPLY, nested
  const hex = Buffer.from(bytes).toString('hex');
  assert.ok(hex.includes('0800' + '0100' + 'a9fea9fe'), 'source: the service');
  assert.ok(hex.includes('0800' + '0200' + 'a9fea9fd'), 'destination: the client');
  assert.ok(hex.includes('0600' + '0200' + '0050'), 'source port 80');
  assert.ok(hex.includes('0600' + '0300' + '9c40'), 'destination port 40000');
});

test('a conntrack answer: the original source before NAT', () => {
  const ip = cat(attr(1, new Uint8Array([198, 18, 7, 2])), attr(2, new Uint8Array([169, 254, 169, 254])));
  const proto = cat(
    attr(1, new Uint8Array([6])),
    attr(2, new Uint8Array([0xc3, 0x50])),
    attr(3, new Uint8Array([0, 80])),
  );
  const original = attr(0x8000 | 1, cat(attr(0x8000 | 1, ip), attr(0x8000 | 2, proto)));
  const reply = nlmsg(0x100, cat(new Uint8Array([2, 0, 0, 0]), original));
  assert.deepEqual(parseConntrackReply(reply), {
    ok: true,
    value: { address: new Uint8Array([198, 18, 7, 2]), port: 50000 },
  });
});

test('arbitrary bytes never make a parser throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      parseSockDiagReply(bytes);
      parseConntrackReply(bytes);
    }),
    { numRuns: 2000 },
  );
});

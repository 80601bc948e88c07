import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BROADCAST_MAC,
  formatIpv4Address,
  formatMacAddress,
  macEquals,
  parseIpv4Address,
  parseMacAddress,
} from '../../src/wire/index.ts';

test('IPv4 addresses parse to unsigned 32-bit numbers', () => {
  assert.equal(parseIpv4Address('169.254.169.254'), 0xa9fea9fe);
  assert.equal(parseIpv4Address('255.255.255.255'), 0xffffffff);
  assert.equal(parseIpv4Address('0.0.0.0'), 0);
  assert.equal(formatIpv4Address(0xa9fea9fe), '169.254.169.254');
});

test('bad IPv4 text throws a clear error', () => {
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', 'a.b.c.d', ' 1.2.3.4', '1.2.3.4 ']) {
    assert.throws(() => parseIpv4Address(bad), /invalid IPv4 address/, bad);
  }
});

test('IPv4 format/parse round trip', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => parseIpv4Address(formatIpv4Address(n)) === n));
});

test('MAC addresses parse, format lowercase and compare', () => {
  const mac = parseMacAddress('02:A9:fe:a9:FE:01');
  assert.deepEqual(mac, new Uint8Array([2, 0xa9, 0xfe, 0xa9, 0xfe, 1]));
  assert.equal(formatMacAddress(mac), '02:a9:fe:a9:fe:01');
  assert.ok(macEquals(BROADCAST_MAC, parseMacAddress('ff:ff:ff:ff:ff:ff')));
  assert.ok(!macEquals(mac, BROADCAST_MAC));
  assert.ok(!macEquals(mac, mac.subarray(0, 5)));
  for (const bad of ['', '02:a9:fe:a9:fe', '02:a9:fe:a9:fe:01:02', '0g:00:00:00:00:00', '02-a9-fe-a9-fe-01']) {
    assert.throws(() => parseMacAddress(bad), /invalid MAC address/, bad);
  }
});

test('MAC format/parse round trip', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (mac) =>
      macEquals(parseMacAddress(formatMacAddress(mac)), mac),
    ),
  );
});

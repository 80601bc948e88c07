// Shared bits for wire tests: hex literals, the reference addresses, and one captured Linux SYN.
import { parseIpv4Address, parseMacAddress } from '../../src/wire/index.ts';

export function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}

export const clientMac = parseMacAddress('02:00:00:00:00:02');
export const serviceMac = parseMacAddress('02:a9:fe:a9:fe:01');
export const clientAddr = parseIpv4Address('10.0.0.2');
export const serviceAddr = parseIpv4Address('169.254.169.254');

/** A Linux-style SYN 10.0.0.2:54321 → 169.254.169.254:80, MSS 1460, SACK-permitted, TS, WS 7 (checksums by hand). */
export const linuxSynFrame = hex(`
  02a9fea9fe01 020000000002 0800
  4500 003c a1b2 4000 4006 3b0b 0a000002 a9fea9fe
  d431 0050 3b9aca07 00000000 a002 faf0 3e53 0000
  020405b4 0402 080a 0012d687 00000000 01 030307
`);
export const linuxSynTcp = linuxSynFrame.subarray(34);

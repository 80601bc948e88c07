// IPv4 addresses travel as unsigned 32-bit numbers (cheap to compare and to key Maps); MACs as 6 bytes.

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const MAC_TEXT = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;

export const BROADCAST_MAC: Uint8Array = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** Parses operator-supplied text such as '169.254.169.254'; throws because bad config is a programmer-facing error. */
export function parseIpv4Address(text: string): number {
  const match = DOTTED_QUAD.exec(text);
  if (!match) throw new Error(`invalid IPv4 address '${text}': expected a dotted quad like 169.254.169.254`);
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const part = match[i];
    // Leading zeros are read as octal by inet_aton; refuse them rather than guess.
    if (part.length > 1 && part.startsWith('0'))
      throw new Error(`invalid IPv4 address '${text}': leading zero in '${part}'`);
    const octet = Number(part);
    if (octet > 255) throw new Error(`invalid IPv4 address '${text}': octet ${octet} is above 255`);
    value = value * 256 + octet;
  }
  return value >>> 0;
}

export function formatIpv4Address(address: number): string {
  const a = address >>> 0;
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

export function parseMacAddress(text: string): Uint8Array {
  if (!MAC_TEXT.test(text))
    throw new Error(`invalid MAC address '${text}': expected six hex pairs like 02:00:00:00:00:01`);
  return Uint8Array.from(text.split(':'), (pair) => parseInt(pair, 16));
}

export function formatMacAddress(mac: Uint8Array): string {
  return Array.from(mac, (byte) => byte.toString(16).padStart(2, '0')).join(':');
}

export function macEquals(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

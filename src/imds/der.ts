// A DER writer (X.690) for the few ASN.1 shapes the lab PKI and the PKCS#7 identity signatures need. Each value is
// its complete encoding (tag, length, contents) as a Buffer, so structures are built bottom-up by concatenation.
// Small on purpose: it replaced node-forge, which cost the appliance megabytes of memory for a dozen shapes.

const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  printableString: 0x13,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;
const CONTEXT_CONSTRUCTED = 0xa0;

/** Definite length: short form below 128, else the long form in as few bytes as the length needs. */
function lengthOctets(length: number): Buffer {
  if (length < 0x80) return Buffer.of(length);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, contents: Buffer): Buffer {
  return Buffer.concat([Buffer.of(tag), lengthOctets(contents.length), contents]);
}

/** The contents of an encoding: what follows its tag and length. */
function contentsOf(encoded: Buffer): Buffer {
  const first = encoded[1] ?? 0;
  const lengthBytes = first < 0x80 ? 0 : first & 0x7f;
  return encoded.subarray(2 + lengthBytes);
}

export const sequence = (items: readonly Buffer[]): Buffer => tlv(TAG.sequence, Buffer.concat(items));
export const set = (items: readonly Buffer[]): Buffer => tlv(TAG.set, Buffer.concat(items));
/** DER SET OF: members sorted by their encodings (X.690 11.6). */
export const setOf = (items: readonly Buffer[]): Buffer => set([...items].sort(Buffer.compare));
export const octetString = (bytes: Buffer): Buffer => tlv(TAG.octetString, bytes);
export const nullValue = (): Buffer => tlv(TAG.null, Buffer.alloc(0));
export const booleanTrue = (): Buffer => tlv(TAG.boolean, Buffer.of(0xff));
export const printableString = (text: string): Buffer => tlv(TAG.printableString, Buffer.from(text, 'latin1'));
export const bitString = (bytes: Buffer, unusedBits = 0): Buffer =>
  tlv(TAG.bitString, Buffer.concat([Buffer.of(unusedBits), bytes]));

/** A non-negative INTEGER from big-endian hex digits, minimally encoded; the caller keeps the sign bit clear. */
export function integerFromHex(hex: string): Buffer {
  const bytes = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0 && ((bytes[start + 1] ?? 0) & 0x80) === 0) start += 1;
  return tlv(TAG.integer, bytes.subarray(start));
}

/** An OBJECT IDENTIFIER from dotted decimal: the first two arcs in one number, each arc base-128. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const bytes: number[] = [];
  const numbers = [(arcs[0] ?? 0) * 40 + (arcs[1] ?? 0), ...arcs.slice(2)];
  for (const arc of numbers) {
    const base128 = [arc & 0x7f];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128))
      base128.unshift(0x80 | (rest & 0x7f));
    bytes.push(...base128);
  }
  return tlv(TAG.oid, Buffer.from(bytes));
}

/** [n] wrapping one value (EXPLICIT tagging). */
export const explicit = (n: number, inner: Buffer): Buffer => tlv(CONTEXT_CONSTRUCTED | n, inner);

/** [n] IMPLICIT in place of a constructed value's own tag, as SignerInfo carries its attributes' SET. */
export const implicitConstructed = (n: number, constructed: Buffer): Buffer =>
  tlv(CONTEXT_CONSTRUCTED | n, contentsOf(constructed));

const twoDigits = (n: number) => String(n).padStart(2, '0');
function timeDigits(date: Date): string {
  return [date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()]
    .map(twoDigits)
    .join('');
}

/** UTCTime YYMMDDHHMMSSZ (seconds always, no fraction). */
export const utcTime = (date: Date): Buffer =>
  tlv(TAG.utcTime, Buffer.from(`${String(date.getUTCFullYear()).slice(2)}${timeDigits(date)}Z`, 'latin1'));

/** An X.509 Time (RFC 5280 4.1.2.5): UTCTime for 1950 through 2049, GeneralizedTime otherwise. */
export function x509Time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) return utcTime(date);
  return tlv(TAG.generalizedTime, Buffer.from(`${year}${timeDigits(date)}Z`, 'latin1'));
}

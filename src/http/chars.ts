// Byte classes from RFC 9110 5.6.2 (token) and 5.5 (field values), as lookup tables: one branch per byte.

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HT = 0x09;
export const COLON = 0x3a;

function table(predicate: (byte: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = predicate(b) ? 1 : 0;
  return t;
}

const TCHAR_SYMBOLS = "!#$%&'*+-.^_`|~";

/** tchar: ALPHA / DIGIT / one of TCHAR_SYMBOLS. */
const TOKEN = table(
  (b) =>
    (b >= 0x30 && b <= 0x39) ||
    (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x61 && b <= 0x7a) ||
    TCHAR_SYMBOLS.includes(String.fromCharCode(b)),
);

/** field-vchar / SP / HTAB: VCHAR and obs-text; every control character except HT is out. */
export const FIELD_VALUE = table((b) => b === HT || (b >= 0x20 && b !== 0x7f));

/** Request-target bytes: visible ASCII only. No spaces, controls, DEL or raw non-ASCII. */
export const TARGET = table((b) => b > 0x20 && b < 0x7f);

export function isToken(bytes: Uint8Array, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) if (TOKEN[bytes[i]] === 0) return false;
  return true;
}

export function isTokenString(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff || TOKEN[c] === 0) return false;
  }
  return true;
}

/**
 * Node's Buffer decodes a byte range to one string with no intermediate ones (a loop of fromCharCode made one
 * string per byte, a tenth of everything a request allocated); it reads any Uint8Array in place.
 */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, from: number, to: number): string })
  .latin1Slice;

/** Header bytes are octets (RFC 9110 5.5); latin1 keeps obs-text round-trippable. */
export function latin1(bytes: Uint8Array, from: number, to: number): string {
  return latin1Slice.call(bytes, from, to);
}

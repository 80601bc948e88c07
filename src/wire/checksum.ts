// RFC 1071 Internet checksum. Sums are kept unfolded (plain numbers hold far more than 2^32 of 16-bit words),
// so a checksum can be accumulated over a pseudo-header and several byte ranges before folding once.

/** Adds big-endian 16-bit words of bytes[start, end) to sum; an odd trailing byte is padded with zero. */
export function sumWords(bytes: Uint8Array, start = 0, end = bytes.length, sum = 0): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) sum += bytes[i] << 8;
  return sum;
}

/** Folds the carries and complements: the value to store in a checksum field. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** Checksum of the concatenation of parts (an odd-length part shifts the byte pairing of the next one). */
export function internetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  let odd = false;
  for (const part of parts) {
    let i = 0;
    if (odd && part.length > 0) {
      sum += part[0];
      i = 1;
      odd = false;
    }
    const rest = part.length - i;
    sum = sumWords(part, i, part.length, sum);
    if (rest % 2 === 1) odd = true;
  }
  return finishChecksum(sum);
}

/** Unfolded sum of the RFC 9293 §3.1 pseudo-header (source, destination, zero, protocol, length). */
export function pseudoHeaderSum(srcAddr: number, dstAddr: number, protocol: number, length: number): number {
  return (
    (srcAddr >>> 16) +
    (srcAddr & 0xffff) +
    (dstAddr >>> 16) +
    (dstAddr & 0xffff) +
    (protocol & 0xff) +
    (length & 0xffff)
  );
}

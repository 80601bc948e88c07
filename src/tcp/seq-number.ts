// TCP sequence-number arithmetic modulo 2^32 (RFC 9293 3.4): compare by the sign of the 32-bit difference.

const MODULUS = 0x1_0000_0000;

/** a + n modulo 2^32. */
export function seqAdd(a: number, n: number): number {
  return (((a + n) % MODULUS) + MODULUS) % MODULUS;
}

/** The signed distance a − b, valid while the two are within 2^31 of each other. */
export function seqSub(a: number, b: number): number {
  return (a - b) | 0;
}

export function seqLt(a: number, b: number): boolean {
  return seqSub(a, b) < 0;
}

export function seqLe(a: number, b: number): boolean {
  return seqSub(a, b) <= 0;
}

export function seqGt(a: number, b: number): boolean {
  return seqSub(a, b) > 0;
}

export function seqGe(a: number, b: number): boolean {
  return seqSub(a, b) >= 0;
}

/** The later of two sequence numbers. */
export function seqMax(a: number, b: number): number {
  return seqGe(a, b) ? a : b;
}

/** lo ≤ x < lo + size, modulo 2^32. */
export function seqInWindow(x: number, lo: number, size: number): boolean {
  const offset = (x - lo) >>> 0;
  return offset < size;
}

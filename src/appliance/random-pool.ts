// Random bytes handed out from a pool filled by the CSPRNG a few KiB at a time: one randomBytes call per token
// showed in the flow benchmark's profile. Slices are never overwritten (a spent pool is replaced, not refilled),
// so a caller may keep what it was given.
import { randomBytes } from 'node:crypto';

export function pooledRandomBytes(poolBytes = 4096): (n: number) => Uint8Array {
  let pool = randomBytes(poolBytes);
  let used = 0;
  return (n: number) => {
    if (n > poolBytes) return randomBytes(n);
    if (used + n > poolBytes) {
      pool = randomBytes(poolBytes);
      used = 0;
    }
    const slice = pool.subarray(used, used + n);
    used += n;
    return slice;
  };
}

/**
 * Pattern data for stack tests, after nbdkit plugins/pattern: each 8-byte little-endian word holds
 * its own byte offset (low 48 bits), so a block that lands in the wrong place shows without a
 * reference copy. An optional write generation in the high 16 bits tells an overwrite apart from
 * the data it replaced. Tests still keep a reference copy and compare byte for byte.
 */
export const WORD = 8;
const GENERATION_SHIFT = 48n;
const GENERATION_MASK = 0xffff;

/** `length` bytes of pattern starting at `byteOffset` of the device (both multiples of 8). */
export function pattern(byteOffset: number, length: number, generation = 0): Buffer {
  if (byteOffset % WORD !== 0 || length % WORD !== 0) {
    throw new RangeError('pattern offsets and lengths are multiples of 8');
  }
  const buf = Buffer.allocUnsafe(length);
  const tag = BigInt(generation & GENERATION_MASK) << GENERATION_SHIFT;
  for (let i = 0; i < length; i += WORD) {
    buf.writeBigUInt64LE(tag | BigInt(byteOffset + i), i);
  }
  return buf;
}

/** Pattern for `blocks` blocks from `lba` of a device with `blockSize`-byte blocks. */
export function patternBlocks(
  lba: number,
  blocks: number,
  blockSize: number,
  generation = 0,
): Buffer {
  return pattern(lba * blockSize, blocks * blockSize, generation);
}

/** First differing byte of two buffers, described, or undefined when identical. */
export function firstDifference(got: Buffer, want: Buffer, base = 0): string | undefined {
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`;
  if (got.equals(want)) return undefined;
  for (let i = 0; i < got.length; i++) {
    if (got[i] !== want[i]) {
      const w = i - (i % WORD);
      return (
        `byte ${base + i}: got 0x${got[i].toString(16)}, expected 0x${want[i].toString(16)}; ` +
        `word got ${got.readBigUInt64LE(w).toString(16)} want ${want.readBigUInt64LE(w).toString(16)}`
      );
    }
  }
  return undefined;
}

/** Deterministic pseudo-random integers in [0, n) (xorshift32), so a failing run replays. */
export function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

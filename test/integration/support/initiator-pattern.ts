/**
 * Pattern data for stack tests (nbdkit plugins/pattern): each 8-byte little-endian word holds its
 * own byte offset in the low 48 bits, and a write generation in the high 16 bits so that an
 * overwrite is told apart from the data it replaced. A misplaced block shows without a reference;
 * the tests keep a reference copy anyway and compare byte for byte.
 */
export const WORD = 8;
const GENERATION_SHIFT = 48n;

export function pattern(byteOffset: number, length: number, generation = 0): Buffer {
  if (byteOffset % WORD !== 0 || length % WORD !== 0) {
    throw new RangeError('pattern offsets and lengths are multiples of 8');
  }
  const buf = Buffer.allocUnsafe(length);
  const tag = BigInt(generation & 0xffff) << GENERATION_SHIFT;
  for (let i = 0; i < length; i += WORD) {
    buf.writeBigUInt64LE(tag | BigInt(byteOffset + i), i);
  }
  return buf;
}

/** First differing byte of two buffers with a description, or undefined when identical. */
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

/** Deterministic pseudo-random numbers (xorshift32) so a failing run can be replayed. */
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

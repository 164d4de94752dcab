/**
 * A small, fast, seedable generator (xoshiro128**, Blackman & Vigna), so that a job's offsets,
 * block sizes and verify seeds repeat exactly from run to run — fio's randrepeat=1 default, which
 * verify_only relies on to replay the write phase. Seeds are spread with splitmix32.
 */
const TWO_POW_32 = 2 ** 32;
/** 2^-53: turns 53 random bits into a float in [0, 1). */
const TWO_POW_MINUS_53 = 2 ** -53;
const HIGH_BITS_FOR_53 = 2 ** 21;

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    const st = { s: seed | 0 };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st) | 1; // never the all-zero state
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A uniform float in [0, 1) with 53 bits of randomness. */
  nextFloat(): number {
    const hi = this.nextU32() % HIGH_BITS_FOR_53;
    const lo = this.nextU32();
    return (hi * TWO_POW_32 + lo) * TWO_POW_MINUS_53;
  }

  /** A uniform integer in [0, n) for n up to 2^53. */
  below(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }
}

/** Derives independent stream seeds from a job seed (one per purpose: offsets, sizes, verify…). */
export function streamSeed(jobSeed: number, stream: number): number {
  const st = { s: (jobSeed ^ Math.imul(stream + 1, 0x27d4eb2f)) | 0 };
  splitmix32(st);
  return splitmix32(st);
}

/**
 * Where random I/O goes (fio's random_distribution, lib/zipf.c and lib/gauss.c): each generator
 * returns an index in [0, nranges) — a block of the job's region. zipf and pareto draw a rank
 * (rank 0 is the hottest) and, as fio does, scatter ranks over the region with a hash plus a
 * random offset so the hot blocks are not all at the start.
 */
import { Prng } from './prng.js';
import type { DistributionSpec } from '../options/job-spec.js';

export interface OffsetDistribution {
  /** The next block index in [0, nranges). */
  next(): number;
}

/** Terms summed exactly for zeta(n, theta); beyond this the tail is integrated (Euler–Maclaurin). */
const ZETA_EXACT_TERMS = 1_000_000;
/** fio's gauss_next averages this many uniforms (Irwin–Hall), giving σ = range/12. */
const GAUSS_ITERS = 12;
const PERCENT = 100;

/** Generalised harmonic number H(n, theta) = Σ_{i=1..n} i^-theta. */
export function zeta(n: number, theta: number): number {
  const exact = Math.min(n, ZETA_EXACT_TERMS);
  let sum = 0;
  for (let i = 1; i <= exact; i++) sum += Math.pow(i, -theta);
  if (n > exact) {
    // ∫_{a}^{b} x^-θ dx with midpoint bounds approximates the remaining terms to ~1e-12 relative.
    const a = exact + 0.5;
    const b = n + 0.5;
    sum += (Math.pow(b, 1 - theta) - Math.pow(a, 1 - theta)) / (1 - theta);
  }
  return sum;
}

/** A 53-bit scramble of a rank (fio uses __hash_u64, a golden-ratio multiply). */
export function scatter(rank: number): number {
  const lo = rank % 0x100000000;
  const hi = Math.floor(rank / 0x100000000);
  let a = Math.imul(lo ^ 0x9e3779b9, 0x85ebca6b);
  a ^= a >>> 13;
  a = Math.imul(a ^ hi, 0xc2b2ae35);
  a ^= a >>> 16;
  let b = Math.imul((hi + 0x7f4a7c15) ^ lo, 0x27d4eb2f);
  b ^= b >>> 15;
  return (a >>> 0) * 0x200000 + ((b >>> 0) >>> 11);
}

/** Zipf ranks by Gray et al., "Quickly generating billion-record synthetic databases" (fio zipf_next). */
export class ZipfDistribution implements OffsetDistribution {
  private readonly zetan: number;
  private readonly alpha: number;
  private readonly eta: number;
  private readonly second: number;
  private readonly randOff: number;

  constructor(
    private readonly nranges: number,
    private readonly theta: number,
    private readonly prng: Prng,
    private readonly scatterRanks = true,
  ) {
    this.zetan = zeta(nranges, theta);
    const zeta2 = 1 + Math.pow(0.5, theta);
    this.alpha = 1 / (1 - theta);
    this.eta = (1 - Math.pow(2 / nranges, 1 - theta)) / (1 - zeta2 / this.zetan);
    this.second = 1 + Math.pow(0.5, theta);
    this.randOff = prng.below(nranges);
  }

  /** The rank drawn, 0-based (0 = most popular). */
  nextRank(): number {
    const u = this.prng.nextFloat();
    const z = u * this.zetan;
    let val: number;
    if (z < 1) val = 1;
    else if (z < this.second) val = 2;
    else val = 1 + Math.floor(this.nranges * Math.pow(this.eta * u - this.eta + 1, this.alpha));
    return Math.min(val, this.nranges) - 1;
  }

  next(): number {
    const rank = this.nextRank();
    return this.scatterRanks ? (scatter(rank) + this.randOff) % this.nranges : rank;
  }
}

/** Pareto ranks: n·u^(log h / log(1-h)), so a fraction h of the ranks gets 1-h of the I/O (fio pareto_next). */
export class ParetoDistribution implements OffsetDistribution {
  private readonly power: number;
  private readonly randOff: number;

  constructor(
    private readonly nranges: number,
    h: number,
    private readonly prng: Prng,
    private readonly scatterRanks = true,
  ) {
    this.power = Math.log(h) / Math.log(1 - h);
    this.randOff = prng.below(nranges);
  }

  nextRank(): number {
    return Math.floor((this.nranges - 1) * Math.pow(this.prng.nextFloat(), this.power));
  }

  next(): number {
    const rank = this.nextRank();
    return this.scatterRanks ? (scatter(rank) + this.randOff) % this.nranges : rank;
  }
}

/**
 * Normal around the middle of the region: with no deviation, fio's Irwin–Hall mean of 12 uniforms
 * (σ = range/12); with normal:D, a Gaussian with σ = D% of the range, redrawn when outside it.
 */
export class NormalDistribution implements OffsetDistribution {
  constructor(
    private readonly nranges: number,
    private readonly devPercent: number,
    private readonly prng: Prng,
    private readonly scatterRanks = true,
  ) {}

  nextRank(): number {
    const n = this.nranges;
    if (this.devPercent === 0) {
      let sum = 0;
      for (let i = 0; i < GAUSS_ITERS; i++) sum += this.prng.nextFloat();
      return Math.min(n - 1, Math.floor((sum / GAUSS_ITERS) * n));
    }
    const sigma = (this.devPercent / PERCENT) * n;
    for (;;) {
      // Box–Muller; 1 - u keeps the logarithm finite.
      const u = 1 - this.prng.nextFloat();
      const v = this.prng.nextFloat();
      const g = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      const x = Math.floor(n / 2 + g * sigma);
      if (x >= 0 && x < n) return x;
    }
  }

  next(): number {
    const rank = this.nextRank();
    return this.scatterRanks ? scatter(rank) % this.nranges : rank;
  }
}

/** Uniform over the region. */
export class UniformDistribution implements OffsetDistribution {
  constructor(
    private readonly nranges: number,
    private readonly prng: Prng,
  ) {}

  next(): number {
    return this.prng.below(this.nranges);
  }
}

export function createDistribution(
  spec: DistributionSpec,
  nranges: number,
  prng: Prng,
): OffsetDistribution {
  switch (spec.kind) {
    case 'random':
      return new UniformDistribution(nranges, prng);
    case 'zipf':
      return new ZipfDistribution(nranges, spec.theta, prng);
    case 'pareto':
      return new ParetoDistribution(nranges, spec.h, prng);
    case 'normal':
      return new NormalDistribution(nranges, spec.devPercent, prng);
  }
}

import { describe, expect, it } from 'vitest';
import {
  NormalDistribution,
  ParetoDistribution,
  UniformDistribution,
  ZipfDistribution,
  zeta,
} from '../../../src/bench/workload/distributions.js';
import { Prng } from '../../../src/bench/workload/prng.js';
import { RandomMap } from '../../../src/bench/workload/random-map.js';

const DRAWS = 200_000;

describe('random distributions (fio lib/zipf.c, lib/gauss.c)', () => {
  it('zeta(n, θ) is the generalised harmonic number, also past the exact-sum limit', () => {
    expect(zeta(1, 0.5)).toBe(1);
    expect(zeta(4, 1.2)).toBeCloseTo(1 + 2 ** -1.2 + 3 ** -1.2 + 4 ** -1.2, 12);
    // Past 10^6 terms the tail is integrated; compare with the series summed term by term.
    const n = 3_000_000;
    let exact = 0;
    for (let i = 1; i <= n; i++) exact += i ** -0.8;
    expect(zeta(n, 0.8)).toBeCloseTo(exact, 6);
  });

  it('zipf: rank r is drawn with probability r^-θ / zeta(n, θ)', () => {
    const n = 1000;
    const theta = 1.2;
    const z = new ZipfDistribution(n, theta, new Prng(7), false);
    const counts = new Array<number>(n).fill(0);
    for (let i = 0; i < DRAWS; i++) counts[z.nextRank()]++;
    const norm = zeta(n, theta);
    // Gray et al.'s generator is exact for ranks 1 and 2 and approximate after; check the head.
    for (const r of [1, 2]) {
      const p = r ** -theta / norm;
      const sd = Math.sqrt(DRAWS * p * (1 - p));
      expect(Math.abs(counts[r - 1] - DRAWS * p)).toBeLessThan(5 * sd);
    }
    // Mass in the top 10% of ranks, within 3 percentage points of the law.
    let top = 0;
    for (let r = 1; r <= n / 10; r++) top += r ** -theta / norm;
    const got = counts.slice(0, n / 10).reduce((a, b) => a + b, 0) / DRAWS;
    expect(Math.abs(got - top)).toBeLessThan(0.03);
  });

  it('pareto:0.2 sends 80% of the I/O to 20% of the ranks', () => {
    const n = 10_000;
    const d = new ParetoDistribution(n, 0.2, new Prng(3), false);
    let hot = 0;
    for (let i = 0; i < DRAWS; i++) if (d.nextRank() < n * 0.2) hot++;
    expect(hot / DRAWS).toBeGreaterThan(0.79);
    expect(hot / DRAWS).toBeLessThan(0.81);
  });

  it("normal:D is centred with σ = D% of the range; plain normal has fio's σ = range/12", () => {
    const n = 100_000;
    const stats = (d: NormalDistribution) => {
      let sum = 0;
      let sq = 0;
      for (let i = 0; i < DRAWS; i++) {
        const x = d.nextRank();
        sum += x;
        sq += x * x;
      }
      const mean = sum / DRAWS;
      return { mean, sd: Math.sqrt(sq / DRAWS - mean * mean) };
    };
    const five = stats(new NormalDistribution(n, 5, new Prng(11), false));
    expect(Math.abs(five.mean - n / 2)).toBeLessThan(n * 0.002);
    expect(Math.abs(five.sd - n * 0.05)).toBeLessThan(n * 0.001);
    const base = stats(new NormalDistribution(n, 0, new Prng(12), false));
    expect(Math.abs(base.sd - n / 12)).toBeLessThan(n * 0.002);
  });

  it('scatters ranks over the whole region when hashing (the hot blocks are not all at the start)', () => {
    const n = 1 << 20;
    const z = new ZipfDistribution(n, 1.2, new Prng(5));
    let upperHalf = 0;
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      const b = z.next();
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(n);
      if (b >= n / 2) upperHalf++;
      seen.add(b);
    }
    expect(upperHalf).toBeGreaterThan(1000);
    expect(seen.size).toBeGreaterThan(100);
  });

  it('uniform covers [0, n) evenly', () => {
    const n = 10;
    const u = new UniformDistribution(n, new Prng(9));
    const counts = new Array<number>(n).fill(0);
    for (let i = 0; i < DRAWS; i++) counts[u.next()]++;
    for (const c of counts) expect(Math.abs(c - DRAWS / n)).toBeLessThan(5 * Math.sqrt(DRAWS / n));
  });
});

describe('random map (fio axmap)', () => {
  it('finds the next free block, wrapping, and reports full', () => {
    const m = new RandomMap(70);
    m.mark(0, 65);
    expect(m.nextFree(3)).toBe(65);
    m.mark(66, 4);
    expect(m.nextFree(67)).toBe(65);
    m.mark(65);
    expect(m.full).toBe(true);
    expect(m.nextFree(0)).toBe(-1);
    m.reset();
    expect(m.isFree(12)).toBe(true);
    expect(m.nextFree(69)).toBe(69);
  });
});

describe('Prng', () => {
  it('repeats for a seed and differs between seeds', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const seqA = Array.from({ length: 8 }, () => a.nextU32());
    expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual(seqA);
    expect(Array.from({ length: 8 }, () => c.nextU32())).not.toEqual(seqA);
    for (let i = 0; i < 1000; i++) {
      const f = a.nextFloat();
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
    }
  });
});

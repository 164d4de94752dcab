/**
 * Percentile cases against known distributions, shared by the JS and WebAssembly histogram test
 * files. Expected values come from the distributions' definitions (nearest rank; the exponential
 * quantile function), never from the code under test.
 */
import { expect, it } from 'vitest';
import {
  FIO_DEFAULT_PERCENTILES,
  LatencyStat,
  percentilesOfBins,
} from '../../../src/bench/stats/latency-stat.js';

/** HDR with 3 significant digits: a bucket is at most 1/1024 of its value wide; half that off the middle. */
const HDR_RELATIVE_ERROR = 1 / 1024;

export function latencyStatCases(): void {
  it('gives exact nearest-rank percentiles for values 1..1000 (exact buckets below 2048)', () => {
    const s = new LatencyStat();
    for (let v = 1000; v >= 1; v--) s.record(v);
    const got = new Map(s.percentiles());
    for (const p of FIO_DEFAULT_PERCENTILES) expect(got.get(p)).toBe(Math.ceil((p / 100) * 1000));
    s.dispose();
  });

  it('follows fio: the first bucket whose running count reaches p% of N', () => {
    const bins: Array<[number, number]> = [
      [10, 1],
      [20, 2],
      [30, 1],
    ];
    expect(percentilesOfBins(bins, 4, [25, 50, 75, 76, 100])).toEqual([
      [25, 10],
      [50, 20],
      [75, 20],
      [76, 30],
      [100, 30],
    ]);
  });

  it('matches the exponential distribution quantiles -mean·ln(1-p)', () => {
    const s = new LatencyStat();
    const n = 200_000;
    const mean = 100_000; // 100 µs in ns
    for (let i = 0; i < n; i++) s.record(-mean * Math.log(1 - (i + 0.5) / n));
    for (const [p, v] of s.percentiles()) {
      const expected = -mean * Math.log(1 - p / 100);
      // Grid discreteness: the nearest-rank sample sits within one grid step of the quantile.
      const step = mean / (n * (1 - p / 100));
      expect(Math.abs(v - expected)).toBeLessThanOrEqual(expected * HDR_RELATIVE_ERROR + step + 1);
    }
    s.dispose();
  });

  it('matches a uniform distribution over [1e6, 2e6) ns within the bucket width', () => {
    const s = new LatencyStat();
    const n = 100_000;
    for (let i = 0; i < n; i++) s.record(1e6 + (1e6 * i) / n);
    for (const [p, v] of s.percentiles()) {
      const expected = 1e6 + (1e6 * (Math.ceil((p / 100) * n) - 1)) / n;
      expect(Math.abs(v - expected)).toBeLessThanOrEqual(expected * HDR_RELATIVE_ERROR);
    }
    s.dispose();
  });

  it('keeps exact min, max, mean and sample standard deviation', () => {
    const values = [5, 7, 7, 9, 1234, 99999, 3];
    const s = new LatencyStat();
    values.forEach((v) => s.record(v));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
    const sum = s.summary();
    expect(sum.min).toBe(3);
    expect(sum.max).toBe(99999);
    expect(sum.n).toBe(values.length);
    expect(sum.mean).toBeCloseTo(mean, 9);
    expect(sum.stddev).toBeCloseTo(sd, 6);
    expect(s.bins().reduce((a, [, c]) => a + c, 0)).toBe(values.length);
    s.dispose();
  });

  it('merges two halves into exactly what one series of all values gives', () => {
    const all = new LatencyStat();
    const a = new LatencyStat();
    const b = new LatencyStat();
    for (let i = 0; i < 50_000; i++) {
      const v = 1000 + ((i * 7919) % 400_000);
      all.record(v);
      (i % 3 ? a : b).record(v);
    }
    a.merge(b);
    expect(a.percentiles()).toEqual(all.percentiles());
    expect(a.bins()).toEqual(all.bins());
    const sa = a.summary();
    const sall = all.summary();
    expect([sa.min, sa.max, sa.n]).toEqual([sall.min, sall.max, sall.n]);
    expect(sa.mean).toBeCloseTo(sall.mean, 6);
    expect(sa.stddev).toBeCloseTo(sall.stddev, 4);
    for (const s of [all, a, b]) s.dispose();
  });

  it('reports nothing for an empty series', () => {
    const s = new LatencyStat();
    expect(s.summary()).toEqual({ min: 0, max: 0, mean: 0, stddev: 0, n: 0 });
    expect(s.percentiles()).toEqual([]);
    expect(s.bins()).toEqual([]);
    s.dispose();
  });
}

import { describe, expect, it } from 'vitest';
import {
  resolveJobOptions,
  READ,
  WRITE,
  type JobSpec,
} from '../../../src/bench/options/job-spec.js';
import { IoPattern, type IoUnit } from '../../../src/bench/workload/io-pattern.js';
import { BenchUsageError } from '../../../src/bench/errors.js';

const KIB = 1024;
const MIB = 1024 * KIB;

function spec(opts: Record<string, string>, number = 1): JobSpec {
  const s = resolveJobOptions(
    'p',
    Object.entries(opts).map(([key, value]) => ({ key, value })),
  );
  return { ...s, number };
}

function drain(p: IoPattern, limit = 1_000_000): IoUnit[] {
  const out: IoUnit[] = [];
  for (let u = p.next(); u && out.length < limit; u = p.next()) out.push(u);
  return out;
}

describe('I/O pattern', () => {
  it('reads sequentially from the region start, size bytes, then stops', () => {
    const p = new IoPattern(
      spec({ rw: 'read', bs: '4k' }),
      { start: 8 * KIB, size: 64 * KIB },
      512,
    );
    const units = drain(p);
    expect(units.map((u) => u.offset)).toEqual(
      Array.from({ length: 16 }, (_, i) => 8 * KIB + i * 4 * KIB),
    );
    expect(units.every((u) => u.ddir === READ && u.length === 4 * KIB)).toBe(true);
  });

  it('with the random map touches every block of the region exactly once per pass', () => {
    const p = new IoPattern(spec({ rw: 'randwrite', bs: '4k' }), { start: 0, size: 4 * MIB }, 512);
    const units = drain(p);
    const offsets = units.map((u) => u.offset).sort((a, b) => a - b);
    expect(offsets).toEqual(Array.from({ length: 1024 }, (_, i) => i * 4 * KIB));
    expect(units.every((u) => u.ddir === WRITE)).toBe(true);
    // Random order, not sequential.
    expect(units.slice(0, 10).map((u) => u.offset)).not.toEqual(offsets.slice(0, 10));
  });

  it('with norandommap repeats some blocks and misses others', () => {
    const p = new IoPattern(
      spec({ rw: 'randread', bs: '4k', norandommap: '1' }),
      { start: 0, size: 4 * MIB },
      512,
    );
    const offsets = new Set(drain(p).map((u) => u.offset));
    expect(offsets.size).toBeLessThan(1024);
    expect(offsets.size).toBeGreaterThan(500);
  });

  it('is the same sequence for the same job and differs for another job number', () => {
    const region = { start: 0, size: 1 * MIB };
    const a = drain(new IoPattern(spec({ rw: 'randrw', bs: '4k' }, 3), region, 512));
    const b = drain(new IoPattern(spec({ rw: 'randrw', bs: '4k' }, 3), region, 512));
    const c = drain(new IoPattern(spec({ rw: 'randrw', bs: '4k' }, 4), region, 512));
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('splits a mixed workload by rwmixread', () => {
    const p = new IoPattern(
      spec({ rw: 'randrw', rwmixread: '70', bs: '4k' }),
      { start: 0, size: 64 * MIB },
      512,
    );
    const units = drain(p);
    const reads = units.filter((u) => u.ddir === READ).length / units.length;
    expect(Math.abs(reads - 0.7)).toBeLessThan(0.02);
  });

  it("issues the direction it is given, with that direction's bs and position", () => {
    const p = new IoPattern(spec({ rw: 'rw', bs: '4k,8k' }), { start: 0, size: 64 * MIB }, 512);
    const units = ([WRITE, READ, WRITE, WRITE, READ] as const).map((d) => ({
      ...p.next(undefined, d)!,
    }));
    expect(units.map((u) => [u.ddir, u.offset, u.length])).toEqual([
      [WRITE, 0, 8 * KIB],
      [READ, 0, 4 * KIB],
      [WRITE, 8 * KIB, 8 * KIB],
      [WRITE, 16 * KIB, 8 * KIB],
      [READ, 4 * KIB, 4 * KIB],
    ]);
  });

  it('mixes block sizes by bssplit and keeps offsets aligned to the smallest', () => {
    const p = new IoPattern(
      spec({ rw: 'randread', bssplit: '4k/75:64k/25', norandommap: '1' }),
      { start: 0, size: 256 * MIB },
      512,
    );
    const units = drain(p, 20_000);
    const small = units.filter((u) => u.length === 4 * KIB).length / units.length;
    expect(Math.abs(small - 0.75)).toBeLessThan(0.02);
    expect(units.every((u) => u.length === 4 * KIB || u.length === 64 * KIB)).toBe(true);
    expect(units.every((u) => u.offset % (4 * KIB) === 0 && u.offset + u.length <= 256 * MIB)).toBe(
      true,
    );
  });

  it('draws bsrange sizes as multiples of the minimum, within the range', () => {
    const p = new IoPattern(
      spec({ rw: 'read', bsrange: '4k-16k' }),
      { start: 0, size: 64 * MIB },
      512,
    );
    const sizes = new Set(drain(p, 5000).map((u) => u.length));
    expect([...sizes].sort((a, b) => a - b)).toEqual([4 * KIB, 8 * KIB, 12 * KIB, 16 * KIB]);
  });

  it('issues only whole blocks of the budget and wraps sequential I/O when time based', () => {
    // fio does no partial block: 20k of 8k blocks is two I/Os.
    const units = drain(
      new IoPattern(spec({ rw: 'write', bs: '8k' }), { start: 0, size: 20 * KIB }, 512),
    );
    expect(units.map((u) => [u.offset, u.length])).toEqual([
      [0, 8 * KIB],
      [8 * KIB, 8 * KIB],
    ]);
    // With a range, the last I/O shrinks to what is left, in multiples of the smallest size.
    const ranged = drain(
      new IoPattern(spec({ rw: 'write', bsrange: '8k-16k' }), { start: 0, size: 40 * KIB }, 512),
    );
    expect(ranged.reduce((sum, u) => sum + u.length, 0)).toBe(40 * KIB);
    ranged.forEach((u, i) =>
      expect(u.offset).toBe(i === 0 ? 0 : ranged[i - 1].offset + ranged[i - 1].length),
    );
    const tb = new IoPattern(
      spec({ rw: 'read', bs: '8k', time_based: '1', runtime: '1' }),
      { start: 0, size: 16 * KIB },
      512,
    );
    expect(drain(tb, 5).map((u) => u.offset)).toEqual([0, 8 * KIB, 0, 8 * KIB, 0]);
  });

  it('refuses block sizes the device cannot address', () => {
    expect(() => new IoPattern(spec({ bs: '1k' }), { start: 0, size: MIB }, 4096)).toThrow(
      BenchUsageError,
    );
    expect(() => new IoPattern(spec({ bs: '4k' }), { start: 512, size: MIB }, 4096)).toThrow(
      /offset 512/,
    );
    expect(() => new IoPattern(spec({ bs: '64k' }), { start: 0, size: 4 * KIB }, 512)).toThrow(
      /smaller than/,
    );
  });
});

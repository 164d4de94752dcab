import { describe, expect, it } from 'vitest';
import { num2str } from '../../../src/bench/report/fio-format.js';

describe('num2str (fio lib/num2str.c)', () => {
  // Each case is a figure real fio 3.33 printed for a known quantity: e.g. a job writing 16 MiB
  // in 15 ms reported "IOPS=273k, BW=1067MiB/s (1118MB/s)(16.0MiB/15msec)", and one reading
  // 16286 blocks of 4 KiB "io=63.6MiB (66.7MB)".
  it.each([
    [16 * 1024 * 1024, true, 'byte', '16.0MiB'],
    [16286 * 4096, true, 'byte', '63.6MiB'],
    [16286 * 4096, false, 'byte', '66.7MB'],
    [(16 * 1024 * 1024 * 1000) / 15, true, 'bytePerSec', '1067MiB/s'],
    [(16 * 1024 * 1024 * 1000) / 15, false, 'bytePerSec', '1118MB/s'],
    [(4096 * 1000) / 15, false, 'none', '273k'],
    [12 * 1024, true, 'byte', '12.0KiB'],
    [3000, false, 'none', '3000'],
    [0, true, 'bytePerSec', '0B/s'],
  ] as const)('%d (pow2 %s, %s) is %s', (value, pow2, unit, text) => {
    expect(num2str(value, 4, pow2, unit)).toBe(text);
  });
});

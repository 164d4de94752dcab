import { describe, expect, it } from 'vitest';
import { ReadSlab } from '../../../src/bdev/read-slab.js';

describe('ReadSlab', () => {
  it('never hands out the same bytes twice, across slab boundaries', () => {
    const slab = new ReadSlab();
    const reads = Array.from({ length: 40 }, (_, i) => {
      const b = slab.take(4096);
      b.fill(i);
      return b;
    });
    reads.forEach((b, i) => expect(b.every((x) => x === i)).toBe(true));
  });

  it('gives large reads memory of their own', () => {
    const slab = new ReadSlab();
    const big = slab.take(128 * 1024);
    const small = slab.take(4096);
    expect(big.length).toBe(128 * 1024);
    expect(big.buffer).not.toBe(small.buffer);
  });
});

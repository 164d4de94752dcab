import { describe, expect, it } from 'vitest';
import { SmallBuffers } from '../../../../src/transport/tcp/small-buffers.js';
import { SlabReads, READ_MAX_BYTES } from '../../../../src/transport/tcp/accepted-onread.js';

describe('SmallBuffers', () => {
  it('hands out zeroed buffers that never overlap, across slabs', () => {
    const slabBytes = 256;
    const pool = new SmallBuffers(slabBytes);
    const taken = Array.from({ length: 20 }, () => pool.take(64));
    taken.forEach((b, i) => {
      expect(b.length).toBe(64);
      expect(b.every((x) => x === 0)).toBe(true);
      b.fill(i + 1);
    });
    // Writing each one left every other one as it was.
    taken.forEach((b, i) => expect(b.every((x) => x === i + 1)).toBe(true));
    expect(new Set(taken.map((b) => b.buffer)).size).toBe(Math.ceil((20 * 64) / slabBytes));
  });

  it('gives a request larger than a slab a buffer of its own', () => {
    const big = new SmallBuffers(128).take(200);
    expect(big.length).toBe(200);
    expect(big.every((x) => x === 0)).toBe(true);
  });
});

describe('SlabReads', () => {
  it('puts consecutive reads back to back in one slab, and never hands out a byte twice', () => {
    const reads = new SlabReads();
    const a = reads.next();
    expect(a.length).toBe(READ_MAX_BYTES);
    a.fill(1, 0, 100);
    const first = reads.filled(a, 100);
    const b = reads.next();
    expect(b.buffer).toBe(a.buffer);
    expect(b.byteOffset).toBe(first.byteOffset + 100);
    b.fill(2, 0, 50);
    const second = reads.filled(b, 50);
    expect(first.every((x) => x === 1)).toBe(true);
    expect(second.every((x) => x === 2)).toBe(true);
  });

  it('starts a new slab when the rest of the current one is too small for a read', () => {
    const reads = new SlabReads();
    const seen = new Set<ArrayBufferLike>();
    for (let i = 0; i < 10; i++) {
      const buf = reads.next();
      seen.add(buf.buffer);
      reads.filled(buf, buf.length);
    }
    expect(seen.size).toBeGreaterThan(1);
  });
});

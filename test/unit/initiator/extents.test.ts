import { describe, expect, it } from 'vitest';
import { extentsOf } from '../../../src/initiator/remote-bdev.js';

/** Reference: one bit at a time, no byte shortcuts. */
function slowExtents(bitmap: Buffer, start: number, blocks: number) {
  const out: { blocks: number; state: string }[] = [];
  for (let i = start; i < start + blocks; i++) {
    const state = (bitmap[i >> 3] >> (i & 7)) & 1 ? 'data' : 'hole';
    const last = out[out.length - 1];
    if (last && last.state === state) last.blocks++;
    else out.push({ blocks: 1, state });
  }
  return out;
}

describe('extentsOf (LBA allocation map log page 0xC0 bitmap)', () => {
  it('reads bit i of byte j as LBA j*8+i', () => {
    // 0b00000110: LBAs 1 and 2 allocated.
    expect(extentsOf(Buffer.from([0x06]), 0, 8)).toEqual([
      { blocks: 1, state: 'hole' },
      { blocks: 2, state: 'data' },
      { blocks: 5, state: 'hole' },
    ]);
  });

  it('honours a start inside the bitmap', () => {
    expect(extentsOf(Buffer.from([0xff, 0x00, 0xff]), 5, 14)).toEqual([
      { blocks: 3, state: 'data' },
      { blocks: 8, state: 'hole' },
      { blocks: 3, state: 'data' },
    ]);
  });

  it('agrees with a bit-by-bit reading on seeded random maps', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let round = 0; round < 200; round++) {
      const bytes = Buffer.alloc(1 + (rand() % 40));
      for (let i = 0; i < bytes.length; i++) {
        const r = rand();
        bytes[i] = r < 80 ? 0 : r < 160 ? 0xff : rand();
      }
      const start = rand() % (bytes.length * 8);
      const blocks = rand() % (bytes.length * 8 - start + 1);
      const got = extentsOf(bytes, start, blocks);
      expect(got).toEqual(slowExtents(bytes, start, blocks));
      expect(got.reduce((n, e) => n + e.blocks, 0)).toBe(blocks);
    }
  });
});

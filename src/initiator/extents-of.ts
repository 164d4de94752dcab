/**
 * The vendor LBA allocation map (log page 0xC0, see src/nvme/log-pages.ts) as bdev block-status
 * extents: what RemoteBdev.blockStatus answers with.
 */
import type { BlockStatusExtent } from '../bdev/bdev.js';

/** Run-length extents of `blocks` bits of `bitmap` from bit `start` (1 = data, 0 = hole). */
export function extentsOf(bitmap: Buffer, start: number, blocks: number): BlockStatusExtent[] {
  const out: BlockStatusExtent[] = [];
  const bit = (i: number) => (bitmap[i >>> 3] >>> (i & 7)) & 1;
  let i = start;
  const end = start + blocks;
  while (i < end) {
    const value = bit(i);
    let j = i + 1;
    while (j < end) {
      // Whole bytes of the same value at once.
      if ((j & 7) === 0 && j + 8 <= end && bitmap[j >>> 3] === (value ? 0xff : 0)) {
        j += 8;
        continue;
      }
      if (bit(j) !== value) break;
      j++;
    }
    out.push({ blocks: j - i, state: value ? 'data' : 'hole' });
    i = j;
  }
  return out;
}

/**
 * base:allocation descriptors (byte runs with HOLE/ZERO flags) → bdev block extents. A server
 * whose minimum block size is below the client's may report runs that split a block; such a
 * block takes the most conservative state of its parts (data over zero over hole).
 */
import type { BlockStatusExtent } from '../../bdev/bdev.js';
import { AllocationState } from './protocol.js';

type State = BlockStatusExtent['state'];
const BY_RANK: readonly State[] = ['hole', 'zero', 'data'];

/**
 * proto.md "base:allocation": HOLE+ZERO is a hole that reads as zeroes; ZERO alone is allocated
 * zeroes; HOLE without ZERO has undefined contents, so it can only be called data.
 */
function rankOf(flags: number): number {
  const hole = (flags & AllocationState.Hole) !== 0;
  const zero = (flags & AllocationState.Zero) !== 0;
  if (hole && zero) return 0;
  if (zero) return 1;
  return 2;
}

export function bytesToBlockExtents(
  runs: readonly { length: number; flags: number }[],
  blockSize: number,
): BlockStatusExtent[] {
  const out: BlockStatusExtent[] = [];
  const push = (blocks: number, rank: number) => {
    const state = BY_RANK[rank];
    const last = out[out.length - 1];
    if (last && last.state === state) last.blocks += blocks;
    else out.push({ blocks, state });
  };
  let pos = 0;
  let partialRank = -1; // rank so far of the block holding `pos` when `pos` is mid-block
  for (const run of runs) {
    const rank = rankOf(run.flags);
    let remaining = run.length;
    if (pos % blockSize !== 0) {
      const take = Math.min(blockSize - (pos % blockSize), remaining);
      partialRank = Math.max(partialRank, rank);
      pos += take;
      remaining -= take;
      if (pos % blockSize === 0) {
        push(1, partialRank);
        partialRank = -1;
      }
    }
    const full = Math.floor(remaining / blockSize);
    if (full > 0) push(full, rank);
    pos += full * blockSize;
    remaining -= full * blockSize;
    if (remaining > 0) {
      partialRank = rank;
      pos += remaining;
    }
  }
  if (partialRank >= 0) push(1, partialRank);
  return out;
}

/**
 * Stack-test driver: the same seeded random changes go to a bdev under test and to a reference
 * MemoryBdev (a plain, unlayered copy); afterwards both must read identically, byte for byte.
 */
import type { Bdev } from '../../src/bdev/bdev.js';
import { firstDifference, patternBlocks, rng } from './pattern.js';

export interface WorkloadOptions {
  seed: number;
  ops: number;
  maxBlocks: number;
  /** Requests in flight at once (default 1). */
  depth?: number;
  /** Pattern generation of the first write; each write takes the next. */
  generation?: number;
  /** Also issue Write Zeroes and Deallocate (default true). */
  zeroes?: boolean;
  /** Sees the range of every change issued. */
  onChange?: (lba: number, blocks: number) => void;
}

/** Applies a random mix of writes (pattern data), Write Zeroes and Deallocates to both bdevs. */
export async function runWorkload(
  target: Bdev,
  reference: Bdev,
  opts: WorkloadOptions,
): Promise<void> {
  const next = rng(opts.seed);
  let generation = opts.generation ?? 1;
  const depth = opts.depth ?? 1;
  const useZeroes = opts.zeroes ?? true;
  for (let done = 0; done < opts.ops; done += depth) {
    const batch: Promise<void>[] = [];
    // Requests in one batch never overlap, so their order does not matter to the reference.
    const taken: [number, number][] = [];
    for (let k = 0; k < depth && done + k < opts.ops; k++) {
      const lba = next(target.blockCount);
      const blocks = 1 + next(Math.min(opts.maxBlocks, target.blockCount - lba));
      if (taken.some(([a, b]) => lba < b && a < lba + blocks)) continue;
      taken.push([lba, lba + blocks]);
      opts.onChange?.(lba, blocks);
      const kind = useZeroes ? next(10) : 0;
      if (kind < 8) {
        const data = patternBlocks(lba, blocks, target.blockSize, generation++);
        batch.push(target.write(lba, data), reference.write(lba, data));
      } else if (kind === 8) {
        batch.push(target.writeZeroes(lba, blocks), reference.writeZeroes(lba, blocks));
      } else {
        const r = [{ lba, blocks }];
        batch.push(target.deallocate(r), reference.deallocate(r));
      }
    }
    await Promise.all(batch);
  }
}

/** Reads both bdevs whole, in pieces, and describes the first difference (undefined if none). */
export async function compareBdevs(
  a: Bdev,
  b: Bdev,
  pieceBlocks = 2048,
): Promise<string | undefined> {
  if (a.blockCount !== b.blockCount || a.blockSize !== b.blockSize) {
    return `geometry ${a.blockCount}x${a.blockSize} vs ${b.blockCount}x${b.blockSize}`;
  }
  for (let lba = 0; lba < a.blockCount; lba += pieceBlocks) {
    const n = Math.min(pieceBlocks, a.blockCount - lba);
    const diff = firstDifference(await a.read(lba, n), await b.read(lba, n), lba * a.blockSize);
    if (diff) return `${a.name} vs ${b.name}: ${diff}`;
  }
  return undefined;
}

/** Compares blocks [lba, lba+blocks) of `a` with blocks [refLba, …) of `b`. */
export async function compareRange(
  a: Bdev,
  lba: number,
  b: Bdev,
  refLba: number,
  blocks: number,
): Promise<string | undefined> {
  return firstDifference(
    await a.read(lba, blocks),
    await b.read(refLba, blocks),
    lba * a.blockSize,
  );
}

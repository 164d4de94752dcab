/**
 * Random I/O against a bdev with a reference copy in memory: `depth` lanes keep that many
 * commands in flight; each picks a size from `minBytes` to `maxBytes` (log-uniform, whole blocks)
 * and a range that overlaps nothing in flight, then writes pattern data (a fresh generation per
 * write) or reads and compares byte for byte with the reference.
 */
import type { Bdev } from '../../../../src/bdev/bdev.js';
import { firstDifference, patternBlocks, rng } from '../../../support/pattern.js';

/** Attempts at a free range before the size is halved. */
const FREE_RANGE_TRIES = 20;

export interface RandomIoOptions {
  seed: number;
  ops: number;
  depth: number;
  minBytes: number;
  maxBytes: number;
  /** Percentage of writes (default 50). */
  writePercent?: number;
}

export interface RandomIoResult {
  reads: number;
  writes: number;
  bytes: number;
  /** Most commands seen in flight at once. */
  peakDepth: number;
  mismatches: string[];
}

export async function randomIo(
  bdev: Bdev,
  reference: Buffer,
  o: RandomIoOptions,
): Promise<RandomIoResult> {
  const next = rng(o.seed);
  const bs = bdev.blockSize;
  const minBlocks = Math.max(1, Math.ceil(o.minBytes / bs));
  const maxBlocks = Math.max(minBlocks, Math.floor(o.maxBytes / bs));
  const inFlight = new Set<[number, number]>();
  const result: RandomIoResult = { reads: 0, writes: 0, bytes: 0, peakDepth: 0, mismatches: [] };
  let issued = 0;
  let generation = 1 + next(1000);

  const pickBlocks = () => {
    // log-uniform between minBlocks and maxBlocks: small and large sizes both show up often.
    const span = Math.log(maxBlocks / minBlocks);
    return Math.min(
      maxBlocks,
      Math.round(minBlocks * Math.exp((next(1_000_000) / 1_000_000) * span)),
    );
  };

  const lane = async () => {
    while (issued < o.ops) {
      let blocks = pickBlocks();
      let lba = next(bdev.blockCount - blocks + 1);
      // At high depth a large range often collides with one in flight: try again, halving the
      // size now and then so that every lane finds room.
      for (let tries = 1; [...inFlight].some(([a, b]) => lba < b && a < lba + blocks); tries++) {
        if (tries % FREE_RANGE_TRIES === 0) blocks = Math.max(minBlocks, blocks >> 1);
        lba = next(bdev.blockCount - blocks + 1);
      }
      issued++;
      const range: [number, number] = [lba, lba + blocks];
      inFlight.add(range);
      result.peakDepth = Math.max(result.peakDepth, inFlight.size);
      try {
        const at = lba * bs;
        const len = blocks * bs;
        if (next(100) < (o.writePercent ?? 50)) {
          const data = patternBlocks(lba, blocks, bs, generation++);
          await bdev.write(lba, data);
          data.copy(reference, at);
          result.writes++;
        } else {
          const got = await bdev.read(lba, blocks);
          const diff = firstDifference(got, reference.subarray(at, at + len), at);
          if (diff) result.mismatches.push(`read lba ${lba}+${blocks}: ${diff}`);
          result.reads++;
        }
        result.bytes += len;
      } finally {
        inFlight.delete(range);
      }
    }
  };
  await Promise.all(Array.from({ length: o.depth }, lane));
  return result;
}

/** Reads the whole bdev in `chunkBlocks` pieces and compares it with the reference. */
export async function compareAll(
  bdev: Bdev,
  reference: Buffer,
  chunkBlocks: number,
): Promise<string | undefined> {
  const bs = bdev.blockSize;
  for (let lba = 0; lba < bdev.blockCount; lba += chunkBlocks) {
    const n = Math.min(chunkBlocks, bdev.blockCount - lba);
    const got = await bdev.read(lba, n);
    const diff = firstDifference(got, reference.subarray(lba * bs, (lba + n) * bs), lba * bs);
    if (diff) return diff;
  }
  return undefined;
}

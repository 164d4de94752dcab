/**
 * The one seam of nvmf-dpu: a block device. Target namespaces, remote namespaces seen by the
 * initiator, volume layouts (mirror, stripe, concat), and later reduce/crypt are all bdevs that
 * may wrap other bdevs (SPDK's bdev layer, Linux device-mapper). See DESIGN.md.
 *
 * Units: `lba` and `blocks` count logical blocks of `blockSize` bytes. Callers check ranges once at
 * the seam with `checkRange()`; implementations may assume a checked request.
 * Errors: a failed operation rejects with an `NvmeStatusError` (src/nvme/status.ts); the layer that
 * owns a wire maps it to that wire's answer (a CQE status, an NBD errno).
 */
import { lbaOutOfRange, invalidField } from '../nvme/status.js';

export interface WriteOptions {
  /** Force Unit Access: the write is durable on the backing store when it completes. */
  fua?: boolean;
}

/** A run of blocks, e.g. one Dataset Management range or one NBD TRIM. */
export interface LbaRange {
  lba: number;
  blocks: number;
}

/** One extent of an allocation map, as NBD base:allocation and NVMe deallocate see blocks. */
export interface BlockStatusExtent {
  blocks: number;
  /** 'data': allocated; 'hole': deallocated and reads as zeroes; 'zero': allocated, known zero. */
  state: 'data' | 'hole' | 'zero';
}

export interface BdevStatsSnapshot {
  readOps: number;
  writeOps: number;
  readBytes: number;
  writeBytes: number;
  flushOps: number;
  writeZeroesOps: number;
  deallocateOps: number;
  errors: number;
}

/** Counters every bdev keeps; the admin API, the metrics endpoint and the bench read these. */
export class BdevStats implements BdevStatsSnapshot {
  readOps = 0;
  writeOps = 0;
  readBytes = 0;
  writeBytes = 0;
  flushOps = 0;
  writeZeroesOps = 0;
  deallocateOps = 0;
  errors = 0;

  snapshot(): BdevStatsSnapshot {
    return { ...this };
  }
}

export interface Bdev {
  readonly name: string;
  /** Logical block size in bytes: 512 or 4096. */
  readonly blockSize: number;
  /** Capacity in logical blocks. */
  readonly blockCount: number;
  readonly stats: BdevStats;

  /** Reads `blocks` blocks from `lba`; resolves to exactly `blocks * blockSize` bytes. */
  read(lba: number, blocks: number): Promise<Buffer>;
  /** Writes `data` (a whole number of blocks) at `lba`. The caller must not reuse `data` until resolved. */
  write(lba: number, data: Buffer, opts?: WriteOptions): Promise<void>;
  /** Makes every completed write durable on the backing store. */
  flush(): Promise<void>;
  /** Makes `blocks` blocks from `lba` read as zeroes. */
  writeZeroes(lba: number, blocks: number): Promise<void>;
  /** Deallocates (trims) the ranges; deallocated blocks read as zeroes afterwards. */
  deallocate(ranges: readonly LbaRange[]): Promise<void>;
  /**
   * Optional allocation map of [lba, lba+blocks): extents in order, summing to `blocks`.
   * A bdev that cannot tell leaves this out; callers then treat every block as data.
   */
  blockStatus?(lba: number, blocks: number): Promise<BlockStatusExtent[]>;
  /** Releases resources; flushes first when the bdev buffers writes. */
  close(): Promise<void>;
}

/** Validates a request against a bdev once, at the seam (SPDK lib/bdev/bdev.c, nbdkit protocol.c). */
export function checkRange(bdev: Bdev, lba: number, blocks: number): void {
  if (!Number.isSafeInteger(lba) || !Number.isSafeInteger(blocks) || lba < 0 || blocks < 0) {
    throw invalidField(`${bdev.name}: bad range lba=${lba} blocks=${blocks}`);
  }
  if (lba + blocks > bdev.blockCount) {
    throw lbaOutOfRange(`${bdev.name}: lba ${lba}+${blocks} beyond ${bdev.blockCount} blocks`);
  }
}

/** Validates that a write payload is a whole number of blocks; returns the block count. */
export function blocksOf(bdev: Bdev, data: Buffer): number {
  if (data.length % bdev.blockSize !== 0) {
    throw invalidField(`${bdev.name}: ${data.length} bytes is not a multiple of ${bdev.blockSize}`);
  }
  return data.length / bdev.blockSize;
}

/** Parses a size like 64MiB, 1G, 4096, 512k (binary multiples, as fio and nvmetcli read them). */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)$/i.exec(text.trim());
  if (!m)
    throw new RangeError(
      `"${text}" is not a size; expected a number with an optional k/M/G/T suffix, e.g. 64MiB`,
    );
  const mult =
    { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[
      m[2].toLowerCase()
    ] ?? 1;
  const value = Number(m[1]) * mult;
  if (!Number.isSafeInteger(value))
    throw new RangeError(`"${text}" is not a whole number of bytes`);
  return value;
}

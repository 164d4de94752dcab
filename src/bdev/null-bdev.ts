/**
 * A bdev that stores nothing (SPDK module/bdev/null, nbdkit null plugin): reads return zeroes,
 * writes are discarded. For benchmarks of the layers above it and for capacity-only tests.
 */
import type { BlockStatusExtent, LbaRange } from './bdev.js';
import { checkRange } from './bdev.js';
import { BaseBdev, type BdevGeometry } from './base-bdev.js';

export type NullBdevOptions = BdevGeometry;

export class NullBdev extends BaseBdev {
  constructor(opts: NullBdevOptions) {
    super(opts);
  }

  protected readBlocks(_lba: number, blocks: number): Buffer {
    return Buffer.alloc(blocks * this.blockSize);
  }

  protected writeBlocks(): void {}
  protected async flushAll(): Promise<void> {}
  protected async zeroBlocks(): Promise<void> {}
  protected async deallocateRanges(_ranges: readonly LbaRange[]): Promise<void> {}
  protected async closeBdev(): Promise<void> {}

  /** Nothing is ever stored, so every block is a hole. */
  async blockStatus(lba: number, blocks: number): Promise<BlockStatusExtent[]> {
    return this.run('block status', async () => {
      checkRange(this, lba, blocks);
      return blocks === 0 ? [] : [{ state: 'hole', blocks }];
    });
  }
}

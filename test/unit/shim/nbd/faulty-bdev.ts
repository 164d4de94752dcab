/**
 * Fault injection for the NBD shim's tests: a bdev stacked on a real MemoryBdev (as every feature
 * is a bdev over bdevs) that fails operations touching a chosen LBA range with a chosen error,
 * and otherwise passes everything through.
 */
import {
  MemoryBdev,
  type Bdev,
  type BlockStatusExtent,
  type LbaRange,
  type WriteOptions,
} from '../../../../src/bdev/index.js';

export class FaultyBdev implements Bdev {
  readonly inner: MemoryBdev;
  /** Operations touching [lba, lba+blocks) of this range fail with `error`. */
  fault: { lba: number; blocks: number; error: unknown } | undefined;
  failFlush: unknown;

  constructor(blockSize: number, blockCount: number) {
    this.inner = new MemoryBdev({ name: 'faulty', blockSize, blockCount });
  }

  get name() {
    return this.inner.name;
  }
  get blockSize() {
    return this.inner.blockSize;
  }
  get blockCount() {
    return this.inner.blockCount;
  }
  get stats() {
    return this.inner.stats;
  }

  private check(lba: number, blocks: number): void {
    const f = this.fault;
    if (f && lba < f.lba + f.blocks && f.lba < lba + blocks) throw f.error;
  }

  async read(lba: number, blocks: number): Promise<Buffer> {
    this.check(lba, blocks);
    return this.inner.read(lba, blocks);
  }
  async write(lba: number, data: Buffer, opts?: WriteOptions): Promise<void> {
    this.check(lba, data.length / this.blockSize);
    return this.inner.write(lba, data, opts);
  }
  async flush(): Promise<void> {
    if (this.failFlush) throw this.failFlush;
    return this.inner.flush();
  }
  async writeZeroes(lba: number, blocks: number): Promise<void> {
    this.check(lba, blocks);
    return this.inner.writeZeroes(lba, blocks);
  }
  async deallocate(ranges: readonly LbaRange[]): Promise<void> {
    for (const r of ranges) this.check(r.lba, r.blocks);
    return this.inner.deallocate(ranges);
  }
  async blockStatus(lba: number, blocks: number): Promise<BlockStatusExtent[]> {
    this.check(lba, blocks);
    return this.inner.blockStatus(lba, blocks);
  }
  async close(): Promise<void> {
    return this.inner.close();
  }
}

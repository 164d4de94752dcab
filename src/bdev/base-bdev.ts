/**
 * The seam's bookkeeping in one place: every bdev built on this class checks ranges at entry
 * (SPDK lib/bdev/bdev.c), counts its operations in `stats`, and reports every failure as an
 * `NvmeStatusError`. Subclasses implement only the already-validated block operations.
 */
import {
  type Bdev,
  type LbaRange,
  type WriteOptions,
  BdevStats,
  blocksOf,
  checkRange,
} from './bdev.js';
import { GenericStatus, NvmeStatusError, StatusCodeType, internalError } from '../nvme/status.js';

export interface BdevGeometry {
  name: string;
  /** 512 or 4096. */
  blockSize: number;
  blockCount: number;
}

/** Logical block sizes this project serves (NVMe LBA formats, NBD minimum block size). */
export const SUPPORTED_BLOCK_SIZES: readonly number[] = [512, 4096];

/** Validates a geometry once, at construction; a user mistake gets one clear sentence. */
export function checkGeometry(g: BdevGeometry): void {
  if (!SUPPORTED_BLOCK_SIZES.includes(g.blockSize)) {
    throw new RangeError(
      `${g.name}: block size ${g.blockSize} is not supported; expected 512 or 4096`,
    );
  }
  if (!Number.isSafeInteger(g.blockCount) || g.blockCount < 1) {
    throw new RangeError(`${g.name}: block count ${g.blockCount} is not a positive whole number`);
  }
}

/** Any failure below becomes an NvmeStatusError; one already is passes through unchanged. */
export function toStatusError(err: unknown, what: string): NvmeStatusError {
  if (err instanceof NvmeStatusError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return internalError(`${what}: ${message}`);
}

export abstract class BaseBdev implements Bdev {
  readonly name: string;
  readonly blockSize: number;
  readonly blockCount: number;
  readonly stats = new BdevStats();
  private closed = false;

  constructor(geometry: BdevGeometry) {
    checkGeometry(geometry);
    this.name = geometry.name;
    this.blockSize = geometry.blockSize;
    this.blockCount = geometry.blockCount;
  }

  /**
   * The leaf operations. A leaf that can complete at once (memory, a file read with pread(2) on
   * the event loop) returns the result itself, or throws; readNow()/writeNow() then complete
   * synchronously too, with no promise on the data path.
   */
  protected abstract readBlocks(lba: number, blocks: number): Buffer | Promise<Buffer>;
  protected abstract writeBlocks(lba: number, data: Buffer, fua: boolean): void | Promise<void>;
  protected abstract flushAll(): Promise<void>;
  protected abstract zeroBlocks(lba: number, blocks: number): Promise<void>;
  protected abstract deallocateRanges(ranges: readonly LbaRange[]): Promise<void>;
  protected abstract closeBdev(): Promise<void>;

  /** Bdev.read: readNow() as a promise. */
  read(lba: number, blocks: number): Promise<Buffer> {
    try {
      const result = this.readNow(lba, blocks);
      return result instanceof Promise ? result : Promise.resolve(result);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /**
   * read() for a caller that can take a synchronous answer (the target's I/O path): the data at
   * once when the leaf has it, else a promise. Same checks and counters as run(); a failure, at
   * once or later, is an NvmeStatusError (thrown, or the promise's rejection).
   */
  readNow(lba: number, blocks: number): Buffer | Promise<Buffer> {
    let result: Buffer | Promise<Buffer>;
    try {
      this.checkOpen('read');
      checkRange(this, lba, blocks);
      result = this.readBlocks(lba, blocks);
    } catch (err) {
      throw this.failure('read', err);
    }
    return result instanceof Promise
      ? result.then(this.readDone, this.readFailed)
      : this.readDone(result);
  }

  private readonly readDone = (buf: Buffer): Buffer => {
    this.stats.readOps++;
    this.stats.readBytes += buf.length;
    return buf;
  };

  private readonly readFailed = (err: unknown): never => {
    throw this.failure('read', err);
  };

  /** Bdev.write: writeNow() as a promise. */
  write(lba: number, data: Buffer, opts?: WriteOptions): Promise<void> {
    try {
      const result = this.writeNow(lba, data, opts);
      return result instanceof Promise ? result : Promise.resolve();
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** write() for a caller that can take a synchronous answer; see readNow(). */
  writeNow(lba: number, data: Buffer, opts?: WriteOptions): void | Promise<void> {
    let result: void | Promise<void>;
    try {
      this.checkOpen('write');
      checkRange(this, lba, blocksOf(this, data));
      result = this.writeBlocks(lba, data, opts?.fua ?? false);
    } catch (err) {
      throw this.failure('write', err);
    }
    const bytes = data.length;
    if (!(result instanceof Promise)) return this.wrote(bytes);
    return result.then(() => this.wrote(bytes), this.writeFailed);
  }

  private wrote(bytes: number): void {
    this.stats.writeOps++;
    this.stats.writeBytes += bytes;
  }

  private readonly writeFailed = (err: unknown): never => {
    throw this.failure('write', err);
  };

  async flush(): Promise<void> {
    await this.run('flush', () => this.flushAll());
    this.stats.flushOps++;
  }

  async writeZeroes(lba: number, blocks: number): Promise<void> {
    await this.run('write zeroes', () => {
      checkRange(this, lba, blocks);
      return this.zeroBlocks(lba, blocks);
    });
    this.stats.writeZeroesOps++;
  }

  async deallocate(ranges: readonly LbaRange[]): Promise<void> {
    await this.run('deallocate', () => {
      for (const r of ranges) checkRange(this, r.lba, r.blocks);
      return this.deallocateRanges(ranges);
    });
    this.stats.deallocateOps++;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.closeBdev();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Runs one checked operation: a closed bdev answers Namespace Not Ready (NVM CS 1.0 Figure 15),
   * any failure is counted and surfaces as an NvmeStatusError.
   */
  protected async run<T>(what: string, op: () => Promise<T>): Promise<T> {
    try {
      this.checkOpen(what);
      return await op();
    } catch (err) {
      throw this.failure(what, err);
    }
  }

  private checkOpen(what: string): void {
    if (this.closed) {
      throw new NvmeStatusError(
        StatusCodeType.Generic,
        GenericStatus.NamespaceNotReady,
        `${this.name}: ${what} after close`,
      );
    }
  }

  /** Counts a failed operation and gives the NvmeStatusError it surfaces as. */
  private failure(what: string, err: unknown): NvmeStatusError {
    this.stats.errors++;
    return toStatusError(err, `${this.name}: ${what}`);
  }
}

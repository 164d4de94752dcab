/**
 * A namespace on a remote controller, seen as a bdev (SPDK module/bdev/nvme). Requests are checked
 * once at the seam, split to what one command may carry (MDTS bytes, 65536 blocks in NLB, 256 DSM
 * ranges), and sent over the controller's I/O queues. Errors arrive as NvmeStatusError: the
 * controller's own status, or a path/transient status while the controller reconnects.
 */
import {
  type Bdev,
  type BlockStatusExtent,
  type LbaRange,
  type WriteOptions,
  BdevStats,
  checkRange,
  blocksOf,
} from '../bdev/bdev.js';
import type { CompletionCallback } from './queue-pair.js';
import { NvmeStatusError, StatusCodeType, GenericStatus } from '../nvme/status.js';
import type { NamespaceInfo } from './association.js';
import type { RemoteNamespaceHost } from './remote-namespace-host.js';
import { IoWhat } from './io-what.js';
import { readAllocationMap } from './read-allocation-map.js';
import { sendInChunks } from './send-in-chunks.js';
import {
  MAX_BLOCKS_PER_COMMAND,
  MAX_DSM_RANGES,
  MAX_DSM_RANGE_BLOCKS,
  readCommand,
  writeCommand,
  flushCommand,
  writeZeroesCommand,
  compareCommand,
  deallocateCommand,
} from './commands.js';

export type { RemoteNamespaceHost } from './remote-namespace-host.js';

export interface RemoteBdevOptions {
  name?: string;
  /** close() also closes the controller (openRemoteBdev). */
  ownsController?: boolean;
}

export { extentsOf } from './extents-of.js';

/** How a read with a callback ends: once, with the data or the error. */
export type ReadCallback = (err: Error | null, data?: Buffer) => void;

export class RemoteBdev implements Bdev {
  readonly name: string;
  readonly nsid: number;
  readonly blockSize: number;
  readonly blockCount: number;
  readonly stats = new BdevStats();
  /** Present only when the controller serves the LBA allocation map log page (0xC0). */
  readonly blockStatus?: (lba: number, blocks: number) => Promise<BlockStatusExtent[]>;
  private readonly ownsController: boolean;

  constructor(
    readonly controller: RemoteNamespaceHost,
    info: NamespaceInfo,
    opts: RemoteBdevOptions = {},
  ) {
    this.nsid = info.nsid;
    this.blockSize = info.blockSize;
    this.blockCount = info.blockCount;
    this.name = opts.name ?? `${controller.subnqn}/ns${info.nsid}`;
    this.ownsController = opts.ownsController ?? false;
    if (info.allocationMap)
      this.blockStatus = (lba, blocks) => readAllocationMap(this, lba, blocks);
  }

  /** Blocks one Read or Write may carry: MDTS and the 16-bit NLB field. */
  get maxBlocksPerCommand(): number {
    const byMdts = Math.floor(this.controller.maxTransferBytes / this.blockSize);
    return Math.max(1, Math.min(MAX_BLOCKS_PER_COMMAND, byMdts));
  }

  read(lba: number, blocks: number): Promise<Buffer> {
    try {
      checkRange(this, lba, blocks);
    } catch (err) {
      return Promise.reject(err);
    }
    if (blocks === 0) return Promise.resolve(Buffer.alloc(0));
    // The data path's common case, one command: the caller's promise is the only one.
    if (blocks <= this.maxBlocksPerCommand) {
      return new Promise<Buffer>((resolve, reject) =>
        this.readChunk(lba, blocks, (err, data) => (err ? reject(err) : resolve(data!))),
      );
    }
    return this.readSplit(lba, blocks).then(this.countRead, this.countError);
  }

  /**
   * read() with the outcome going to `done` (once, never synchronously): the mirror's data path,
   * where a one-command read then costs no promise at this layer. Other reads take read() and
   * report its outcome.
   */
  readWithCallback(lba: number, blocks: number, done: ReadCallback): void {
    if (
      !Number.isInteger(blocks) ||
      blocks <= 0 ||
      blocks > this.maxBlocksPerCommand ||
      !Number.isSafeInteger(lba) ||
      lba < 0 ||
      lba + blocks > this.blockCount
    ) {
      this.read(lba, blocks).then(
        (data) => done(null, data),
        (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
      );
      return;
    }
    this.readChunk(lba, blocks, done);
  }

  private readonly countRead = (data: Buffer): Buffer => {
    this.stats.readOps++;
    this.stats.readBytes += data.length;
    return data;
  };

  private readonly countError = (err: unknown): never => {
    this.stats.errors++;
    throw err;
  };

  /** A read larger than one command: commands of MDTS each, joined. */
  private async readSplit(lba: number, blocks: number): Promise<Buffer> {
    const parts = await sendInChunks(
      lba,
      blocks,
      this.maxBlocksPerCommand,
      (at, n) =>
        new Promise<Buffer>((resolve, reject) =>
          this.readChunk(at, n, (err, data) => (err ? reject(err) : resolve(data!)), false),
        ),
    );
    // The transport hands each command's data back as its own buffer; one copy joins them.
    return Buffer.concat(parts, blocks * this.blockSize);
  }

  /**
   * One Read command of `blocks` (within MDTS, checked by the caller); `done` gets its data.
   * `count` false leaves the stats to the caller (a split read counts once).
   */
  private readChunk(lba: number, blocks: number, done: ReadCallback, count = true): void {
    const length = blocks * this.blockSize;
    const what = new IoWhat('Read', this.name, lba, blocks);
    const sqe = readCommand(this.nsid, lba, blocks);
    const io = { readLength: length };
    const completed: CompletionCallback = (err, c) => {
      const data = c?.data;
      if (!err && (!data || data.length !== length)) {
        err = new NvmeStatusError(
          StatusCodeType.Generic,
          GenericStatus.DataTransferError,
          `${what.toString()} returned ${data?.length ?? 0} bytes, expected ${length}`,
          false,
        );
      }
      if (err) {
        if (count) this.stats.errors++;
        done(err);
        return;
      }
      if (count) {
        this.stats.readOps++;
        this.stats.readBytes += length;
      }
      done(null, data);
    };
    const host = this.controller;
    if (host.ioCommandWithCallback) host.ioCommandWithCallback(sqe, io, what, completed);
    else {
      host.ioCommand(sqe, io, what).then(
        (c) => completed(null, c),
        (err: unknown) => completed(err instanceof Error ? err : new Error(String(err))),
      );
    }
  }

  /**
   * Compare (NVM Command Set 1.0, 3.2.1): the controller checks `data` against the blocks at
   * `lba`; a mismatch rejects with Compare Failure (SCT 2, SC 85h). Split like a write: each
   * command compares its own part.
   */
  async compare(lba: number, data: Buffer): Promise<void> {
    const blocks = blocksOf(this, data);
    checkRange(this, lba, blocks);
    await sendInChunks(lba, blocks, this.maxBlocksPerCommand, (at, n) =>
      this.controller.ioCommand(
        compareCommand(this.nsid, at, n),
        { data: this.blocksAt(data, at - lba, n) },
        `Compare ${this.name} lba ${at}+${n}`,
      ),
    );
  }

  write(lba: number, data: Buffer, opts: WriteOptions = {}): Promise<void> {
    let blocks: number;
    try {
      blocks = blocksOf(this, data);
      checkRange(this, lba, blocks);
    } catch (err) {
      return Promise.reject(err);
    }
    if (blocks === 0) return Promise.resolve();
    const fua = opts.fua ?? false;
    // The data path's common case, one command: no async wrapper and no Promise.all around it.
    if (blocks <= this.maxBlocksPerCommand) {
      return this.controller
        .ioCommand(
          writeCommand(this.nsid, lba, blocks, fua),
          { data },
          new IoWhat('Write', this.name, lba, blocks),
        )
        .then(() => {
          this.stats.writeOps++;
          this.stats.writeBytes += data.length;
        }, this.countError);
    }
    return this.writeSplit(lba, data, blocks, fua);
  }

  /**
   * write() with the outcome going to `done` (once, never synchronously; null on success): the
   * mirror's data path, where a one-command write then costs no promise at any layer. Other
   * writes take write() and report its outcome.
   */
  writeWithCallback(
    lba: number,
    data: Buffer,
    opts: WriteOptions,
    done: (err: Error | null) => void,
  ): void {
    const host = this.controller;
    const blocks = data.length / this.blockSize;
    if (
      !host.ioCommandWithCallback ||
      !Number.isInteger(blocks) ||
      blocks === 0 ||
      blocks > this.maxBlocksPerCommand ||
      !Number.isSafeInteger(lba) ||
      lba < 0 ||
      lba + blocks > this.blockCount
    ) {
      this.write(lba, data, opts).then(
        () => done(null),
        (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
      );
      return;
    }
    host.ioCommandWithCallback(
      writeCommand(this.nsid, lba, blocks, opts.fua ?? false),
      { data },
      new IoWhat('Write', this.name, lba, blocks),
      (err) => {
        if (err) {
          this.stats.errors++;
          done(err);
          return;
        }
        this.stats.writeOps++;
        this.stats.writeBytes += data.length;
        done(null);
      },
    );
  }

  /** A write larger than one command: commands of MDTS each, all sent at once. */
  private async writeSplit(lba: number, data: Buffer, blocks: number, fua: boolean): Promise<void> {
    try {
      await sendInChunks(lba, blocks, this.maxBlocksPerCommand, (at, n) =>
        this.controller.ioCommand(
          writeCommand(this.nsid, at, n, fua),
          { data: this.blocksAt(data, at - lba, n) },
          new IoWhat('Write', this.name, at, n),
        ),
      );
      this.stats.writeOps++;
      this.stats.writeBytes += data.length;
    } catch (err) {
      this.stats.errors++;
      throw err;
    }
  }

  /** `blocks` blocks of a request's `data`, `from` blocks in: one command's share, not a copy. */
  private blocksAt(data: Buffer, from: number, blocks: number): Buffer {
    return data.subarray(from * this.blockSize, (from + blocks) * this.blockSize);
  }

  async flush(): Promise<void> {
    try {
      await this.controller.ioCommand(flushCommand(this.nsid), undefined, `Flush ${this.name}`);
      this.stats.flushOps++;
    } catch (err) {
      this.stats.errors++;
      throw err;
    }
  }

  async writeZeroes(lba: number, blocks: number): Promise<void> {
    checkRange(this, lba, blocks);
    try {
      await sendInChunks(lba, blocks, MAX_BLOCKS_PER_COMMAND, (at, n) =>
        this.controller.ioCommand(
          writeZeroesCommand(this.nsid, at, n),
          undefined,
          `Write Zeroes ${this.name} lba ${at}+${n}`,
        ),
      );
      this.stats.writeZeroesOps++;
    } catch (err) {
      this.stats.errors++;
      throw err;
    }
  }

  async deallocate(ranges: readonly LbaRange[]): Promise<void> {
    const split: LbaRange[] = [];
    for (const r of ranges) {
      checkRange(this, r.lba, r.blocks);
      for (let done = 0; done < r.blocks; done += MAX_DSM_RANGE_BLOCKS) {
        split.push({ lba: r.lba + done, blocks: Math.min(MAX_DSM_RANGE_BLOCKS, r.blocks - done) });
      }
    }
    try {
      await sendInChunks(0, split.length, MAX_DSM_RANGES, (i, n) => {
        const { sqe, data } = deallocateCommand(this.nsid, split.slice(i, i + n));
        return this.controller.ioCommand(
          sqe,
          { data },
          `Dataset Management (deallocate) ${this.name} ${n} ranges`,
        );
      });
      this.stats.deallocateOps++;
    } catch (err) {
      this.stats.errors++;
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.ownsController) await this.controller.close();
  }
}

/**
 * A bdev on a regular file or a block device (SPDK module/bdev/aio, nbdkit file plugin), with
 * positional reads and writes through one fs.promises FileHandle.
 *
 * Durability: flush = fdatasync(2); a FUA write is the write followed by fdatasync, which is the
 * closest Node gets to RWF_DSYNC (NVM CS 1.0, 3.2.6: FUA data is on non-volatile media at completion).
 *
 * Deallocate and Write Zeroes write zeroes: Node has neither fallocate(2) (PUNCH_HOLE) nor
 * lseek(2) (SEEK_DATA/SEEK_HOLE) without a native addon, so space is not returned to the file
 * system and this bdev has no blockStatus (callers then treat every block as data).
 */
import { constants as fsConstants, promises as fsp, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { LbaRange } from './bdev.js';
import { BaseBdev, checkGeometry } from './base-bdev.js';
import {
  GenericStatus,
  MediaStatus,
  NvmeStatusError,
  StatusCodeType,
  internalError,
} from '../nvme/status.js';

export interface FileBdevOptions {
  name: string;
  path: string;
  blockSize: number;
  /** Capacity in bytes. A missing file is created and a short one extended to it. Default: the file's size. */
  size?: number;
}

/** The largest single zero write; a larger Write Zeroes is done in pieces of this size. */
export const ZERO_WRITE_BYTES = 1024 * 1024;
const ZERO_BUFFER = Buffer.alloc(ZERO_WRITE_BYTES);

/** /sys/dev/block/MAJ:MIN/size counts 512-byte sectors whatever the device's block size. */
const SYSFS_SECTOR_BYTES = 512;

export class FileBdev extends BaseBdev {
  private constructor(
    name: string,
    blockSize: number,
    blockCount: number,
    readonly path: string,
    private readonly handle: FileHandle,
  ) {
    super({ name, blockSize, blockCount });
  }

  /** Opens (creating or extending when `size` asks for it) a file or block device as a bdev. */
  static async open(opts: FileBdevOptions): Promise<FileBdev> {
    const { name, path, blockSize } = opts;
    checkGeometry({ name, blockSize, blockCount: 1 });
    if (opts.size !== undefined && (!Number.isSafeInteger(opts.size) || opts.size <= 0)) {
      throw new RangeError(`${name}: size ${opts.size} is not a positive number of bytes`);
    }
    const flags = fsConstants.O_RDWR | (opts.size === undefined ? 0 : fsConstants.O_CREAT);
    let handle: FileHandle;
    try {
      handle = await fsp.open(path, flags, 0o644);
    } catch (err) {
      throw new RangeError(`${name}: cannot open ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    try {
      const size = await FileBdev.settleSize(name, path, handle, opts.size);
      if (size % blockSize !== 0) {
        throw new RangeError(
          `${name}: size ${size} of ${path} is not a multiple of the ${blockSize}-byte block size`,
        );
      }
      return new FileBdev(name, blockSize, size / blockSize, path, handle);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Capacity in bytes: the requested size (extending a regular file to it) or what is there. */
  private static async settleSize(
    name: string,
    path: string,
    handle: FileHandle,
    wanted: number | undefined,
  ): Promise<number> {
    const st = await handle.stat();
    const have = st.isBlockDevice() ? await blockDeviceBytes(path, st) : st.size;
    if (wanted === undefined) {
      if (have === 0) throw new RangeError(`${name}: ${path} is empty; give a size`);
      return have;
    }
    if (wanted > have) {
      if (!st.isFile()) {
        throw new RangeError(
          `${name}: ${path} holds ${have} bytes, fewer than the ${wanted} asked`,
        );
      }
      await handle.truncate(wanted);
    }
    return wanted;
  }

  protected async readBlocks(lba: number, blocks: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(blocks * this.blockSize);
    const base = lba * this.blockSize;
    let done = 0;
    try {
      while (done < out.length) {
        const { bytesRead } = await this.handle.read(out, done, out.length - done, base + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
    } catch (err) {
      throw fsError(err, `${this.name}: read at ${base}`, MediaStatus.UnrecoveredReadError);
    }
    // Past the end of a file that shrank under us reads as zeroes, not as stale heap bytes.
    out.fill(0, done);
    return out;
  }

  protected async writeBlocks(lba: number, data: Buffer, fua: boolean): Promise<void> {
    const base = lba * this.blockSize;
    try {
      await this.writeAll(data, base);
      if (fua) await this.handle.datasync();
    } catch (err) {
      throw fsError(err, `${this.name}: write at ${base}`, MediaStatus.WriteFault);
    }
  }

  protected async flushAll(): Promise<void> {
    try {
      await this.handle.datasync();
    } catch (err) {
      throw fsError(err, `${this.name}: flush`, MediaStatus.WriteFault);
    }
  }

  protected async zeroBlocks(lba: number, blocks: number): Promise<void> {
    const end = (lba + blocks) * this.blockSize;
    try {
      for (let at = lba * this.blockSize; at < end; at += ZERO_WRITE_BYTES) {
        await this.writeAll(ZERO_BUFFER.subarray(0, Math.min(ZERO_WRITE_BYTES, end - at)), at);
      }
    } catch (err) {
      throw fsError(err, `${this.name}: zero at ${lba * this.blockSize}`, MediaStatus.WriteFault);
    }
  }

  /** Zeroes, not a punched hole: see the file comment. */
  protected async deallocateRanges(ranges: readonly LbaRange[]): Promise<void> {
    for (const r of ranges) await this.zeroBlocks(r.lba, r.blocks);
  }

  protected async closeBdev(): Promise<void> {
    try {
      await this.handle.datasync();
    } finally {
      await this.handle.close();
    }
  }

  private async writeAll(data: Buffer, position: number): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.handle.write(
        data,
        done,
        data.length - done,
        position + done,
      );
      done += bytesWritten;
    }
  }
}

/** Size of a block device from sysfs, by the device numbers in st_rdev (Linux makedev encoding). */
async function blockDeviceBytes(path: string, st: Stats): Promise<number> {
  const rdev = BigInt(st.rdev);
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  try {
    const sectors = await fsp.readFile(`/sys/dev/block/${major}:${minor}/size`, 'utf8');
    return Number(sectors.trim()) * SYSFS_SECTOR_BYTES;
  } catch {
    throw new RangeError(`cannot tell the size of block device ${path}; give a size`);
  }
}

/** Maps a file-system error to the NVMe status a host would get from a drive (NVM CS 1.0, Fig 15/17). */
function fsError(err: unknown, what: string, ioStatus: MediaStatus): NvmeStatusError {
  const code = (err as NodeJS.ErrnoException).code;
  const message = `${what}: ${(err as Error).message}`;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new NvmeStatusError(StatusCodeType.Generic, GenericStatus.CapacityExceeded, message);
    case 'EIO':
      return new NvmeStatusError(StatusCodeType.MediaAndDataIntegrity, ioStatus, message);
    case 'EROFS':
    case 'EPERM':
    case 'EACCES':
      return new NvmeStatusError(
        StatusCodeType.Generic,
        GenericStatus.NamespaceWriteProtected,
        message,
      );
    default:
      return internalError(message);
  }
}

/**
 * A bdev on a regular file or a block device (SPDK module/bdev/aio, nbdkit file plugin), with
 * positional reads and writes on one file descriptor, in one of three I/O modes (FileIoMode):
 * - `pool`: fs.read/fs.write through libuv's threadpool. Each request costs a threadpool round
 *   trip (queue, futex wake, uv_async_send, epoll wakeup): ~50 µs of CPU on 2 cores, far more
 *   than the pread(2) itself when the data is in the page cache.
 * - `sync`: pread(2)/pwrite(2) on the event loop (~3 µs for 4 KiB from the page cache). A read
 *   that misses the cache, or a write the kernel throttles, blocks every queue of the process
 *   for as long as the device takes.
 * - `auto` (the default): `sync` while requests complete as fast as the page cache serves them;
 *   after SLOW_SYNC_STREAK slow ones in a row (each longer than SLOW_SYNC_BASE_MS +
 *   size/SLOW_SYNC_BYTES_PER_MS) the bdev goes to the threadpool for POOL_BACKOFF_MS, so a cold
 *   file or a real device still gets concurrent I/O, then tries `sync` again.
 *
 * Writes reach the file in pieces of at most WRITE_PIECE_BYTES, which keeps the kernel's page-cache
 * folios small and later small overwrites cheap (see there).
 *
 * Durability: flush = fdatasync(2); a FUA write is the write followed by fdatasync, which is the
 * closest Node gets to RWF_DSYNC (NVM CS 1.0, 3.2.6: FUA data is on non-volatile media at completion).
 *
 * Deallocate and Write Zeroes write zeroes: Node has neither fallocate(2) (PUNCH_HOLE) nor
 * lseek(2) (SEEK_DATA/SEEK_HOLE) without a native addon, so space is not returned to the file
 * system and this bdev has no blockStatus (callers then treat every block as data).
 */
import {
  constants as fsConstants,
  promises as fsp,
  readSync,
  writeSync,
  type Stats,
} from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { LbaRange } from './bdev.js';
import { ReadSlab } from './read-slab.js';
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
  /** How reads and writes reach the file (see the file comment). Default `auto`. */
  io?: FileIoMode;
  /** Milliseconds clock `auto` times requests with. Default performance.now; tests pass their own. */
  clock?: () => number;
}

/** Where a file bdev's reads and writes run: see the file comment. */
export type FileIoMode = 'auto' | 'sync' | 'pool';
export const FILE_IO_MODES: readonly FileIoMode[] = ['auto', 'sync', 'pool'];
export const DEFAULT_FILE_IO_MODE: FileIoMode = 'auto';

/**
 * `auto`: a synchronous request slower than this base plus its size at page-cache speed missed
 * the cache (or was throttled): 4 KiB from the page cache takes a few µs, from an SSD ~80 µs.
 */
export const SLOW_SYNC_BASE_MS = 0.05;
/** Bytes per ms a page-cache copy manages at least (1 GB/s; memcpy does several times that). */
export const SLOW_SYNC_BYTES_PER_MS = 1024 * 1024;
/**
 * `auto`: this many slow synchronous requests in a row mean a cold file, not the event loop
 * being preempted once on a busy machine (which looks the same to a clock).
 */
export const SLOW_SYNC_STREAK = 4;
/** `auto`: how long requests go to the threadpool after a streak of slow synchronous ones. */
export const POOL_BACKOFF_MS = 250;

const defaultClock = (): number => performance.now();

/**
 * The largest pwrite(2), at offsets aligned to it. Linux (ext4 since 6.16) sizes a page-cache folio
 * from the buffered write that creates it, and every later write into a folio walks all of its
 * buffer heads (ext4_block_write_begin, __block_commit_write). Smaller pieces trade the large
 * writes' cost for the small overwrites'; measured on this ext4 (256 MiB written in 128 KiB writes
 * cut into pieces, then 100k random 4 KiB overwrites, process CPU, two runs each):
 *
 *   piece                    4 KiB   16 KiB   32 KiB   64 KiB   128 KiB
 *   µs per 128 KiB write   152–161       62       43    33–34        26
 *   µs per 4 KiB overwrite     3.4      3.7  4.1–4.9  4.8–5.0   4.9–8.0
 *
 * That table is one process in a hot loop. In the whole system the caches are cold and the folio
 * size decides. 3 file nodes, a mirror, fio 4 KiB randwrite QD32 for 5 s after 256 MiB written in
 * 1 MiB writes; the nodes' CPU (/proc/PID/stat) per mirror write, each piece size against 64 KiB
 * in interleaved pairs (the machine's own speed moved 30 % between pairs):
 *
 *   piece                          4 KiB      8 KiB        16 KiB
 *   pairs                          4          4            7
 *   µs less than with 64 KiB       7.7–18.6   6.0–11.4     −1.6 to 20.4 (6 of 7 less)
 *   IOPS against 64 KiB's          +8–24 %    +8–15 %      −1 to +36 % (median +3 %)
 *
 * With 64 KiB pieces `perf` put 7–10 % of the machine in ext4_block_write_begin, 2.6 % with
 * 8 KiB ones. 16 KiB keeps the small folios' gain (against 8 KiB equal in 3 pairs; against 4 and
 * 8 KiB equal in 3 more interleaved rounds) and costs large writes ~30 µs per 128 KiB more than
 * 64 KiB in the hot loop. In the whole system 128 KiB sequential mirror writes spread too widely
 * to show it (630–1500 µs of node CPU each; 3 pairs split); an earlier session's 8 pairs had fresh
 * 128 KiB writes slower with 16 KiB in 6 (median −10 %, runs spread 2.5×). Random small writes
 * are what a block device serves most; the sequential cost is the price. Readahead of a cold file
 * read sequentially still makes large folios: Node has no fadvise(2).
 */
export const WRITE_PIECE_BYTES = 16 * 1024;

/** The largest single zero write; a larger Write Zeroes is done in pieces of this size. */
export const ZERO_WRITE_BYTES = 1024 * 1024;
const ZERO_BUFFER = Buffer.alloc(ZERO_WRITE_BYTES);

/** /sys/dev/block/MAJ:MIN/size counts 512-byte sectors whatever the device's block size. */
const SYSFS_SECTOR_BYTES = 512;

export class FileBdev extends BaseBdev {
  private readonly fd: number;
  /** `auto`: requests go to the threadpool until this clock() time. */
  private poolUntil = 0;
  private slowStreak = 0;
  private readonly readSlab = new ReadSlab();

  private constructor(
    name: string,
    blockSize: number,
    blockCount: number,
    readonly path: string,
    private readonly handle: FileHandle,
    readonly io: FileIoMode,
    private readonly clock: () => number,
  ) {
    super({ name, blockSize, blockCount });
    this.fd = handle.fd;
  }

  /** Opens (creating or extending when `size` asks for it) a file or block device as a bdev. */
  static async open(opts: FileBdevOptions): Promise<FileBdev> {
    const { name, path, blockSize } = opts;
    const io = opts.io ?? DEFAULT_FILE_IO_MODE;
    checkGeometry({ name, blockSize, blockCount: 1 });
    if (!FILE_IO_MODES.includes(io)) {
      throw new RangeError(`${name}: I/O mode "${io}" is not one of ${FILE_IO_MODES.join(', ')}`);
    }
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
      return new FileBdev(
        name,
        blockSize,
        size / blockSize,
        path,
        handle,
        io,
        opts.clock ?? defaultClock,
      );
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

  /** On the event loop (sync): the data itself, or a throw; on the threadpool: a promise. */
  protected readBlocks(lba: number, blocks: number): Buffer | Promise<Buffer> {
    const out = this.readSlab.take(blocks * this.blockSize);
    const base = lba * this.blockSize;
    if (!this.useSync()) return this.readPooled(out, base);
    let done: number;
    try {
      const started = this.clock();
      done = this.preadAll(out, base);
      this.timed(started, out.length);
    } catch (err) {
      throw fsError(err, `${this.name}: read at ${base}`, MediaStatus.UnrecoveredReadError);
    }
    // Past the end of a file that shrank under us reads as zeroes, not as stale heap bytes.
    if (done < out.length) out.fill(0, done);
    return out;
  }

  private async readPooled(out: Buffer, base: number): Promise<Buffer> {
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
    out.fill(0, done);
    return out;
  }

  /** pread(2) until `out` is full or the file ends; the bytes read. */
  private preadAll(out: Buffer, position: number): number {
    let done = 0;
    while (done < out.length) {
      const n = readSync(this.fd, out, done, out.length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  /** On the event loop (sync, no FUA): done when it returns, or a throw; otherwise a promise. */
  protected writeBlocks(lba: number, data: Buffer, fua: boolean): void | Promise<void> {
    const base = lba * this.blockSize;
    if (!this.useSync()) return this.writePooled(data, base, fua);
    try {
      const started = this.clock();
      for (let done = 0; done < data.length;) {
        done += writeSync(
          this.fd,
          data,
          done,
          pieceBytes(data.length - done, base + done),
          base + done,
        );
      }
      this.timed(started, data.length);
    } catch (err) {
      throw fsError(err, `${this.name}: write at ${base}`, MediaStatus.WriteFault);
    }
    // fdatasync waits for the device: always on the threadpool, never on the event loop.
    if (fua) return this.datasync(`write at ${base}`);
  }

  private async writePooled(data: Buffer, base: number, fua: boolean): Promise<void> {
    try {
      await this.writeAll(data, base);
      if (fua) await this.handle.datasync();
    } catch (err) {
      throw fsError(err, `${this.name}: write at ${base}`, MediaStatus.WriteFault);
    }
  }

  private async datasync(what: string): Promise<void> {
    try {
      await this.handle.datasync();
    } catch (err) {
      throw fsError(err, `${this.name}: ${what}`, MediaStatus.WriteFault);
    }
  }

  /** Where the next read or write runs: on the event loop (`sync`) or the threadpool (`pool`). */
  get ioPath(): 'sync' | 'pool' {
    return this.useSync() ? 'sync' : 'pool';
  }

  /** Whether this request runs on the event loop (see FileIoMode). */
  private useSync(): boolean {
    if (this.io !== 'auto') return this.io === 'sync';
    return this.poolUntil === 0 || this.clock() >= this.poolUntil;
  }

  /** `auto`: a synchronous request of `bytes` that began at `started` was slow → threadpool for a while. */
  private timed(started: number, bytes: number): void {
    if (this.io !== 'auto') return;
    const now = this.clock();
    this.poolUntil = 0;
    if (now - started <= SLOW_SYNC_BASE_MS + bytes / SLOW_SYNC_BYTES_PER_MS) {
      this.slowStreak = 0;
    } else if (++this.slowStreak >= SLOW_SYNC_STREAK) {
      this.slowStreak = 0;
      this.poolUntil = now + POOL_BACKOFF_MS;
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
        pieceBytes(data.length - done, position + done),
        position + done,
      );
      done += bytesWritten;
    }
  }
}

/** Bytes of the next pwrite(2) at `position`: up to the next WRITE_PIECE_BYTES boundary. */
function pieceBytes(remaining: number, position: number): number {
  return Math.min(remaining, WRITE_PIECE_BYTES - (position % WRITE_PIECE_BYTES));
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

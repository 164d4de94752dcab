/**
 * nvmf-ctl bulk transfers between a file (or stdin/stdout) and a bdev: fixed-size chunks, several
 * in flight, file positions written directly (stdout in order), progress on a TTY.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { Bdev } from '../bdev/bdev.js';

export interface TransferOptions {
  bdev: Bdev;
  startBlock: number;
  blockCount: number;
  /** Bytes per command batch; a multiple of the block size is taken. */
  chunkBytes?: number;
  /** Chunks in flight. */
  depth?: number;
  progress?: NodeJS.WriteStream;
}

const MiB = 1024 * 1024;

function chunkBlocks(bdev: Bdev, chunkBytes: number): number {
  return Math.max(1, Math.floor(chunkBytes / bdev.blockSize));
}

class Progress {
  private last = 0;
  private done = 0;
  constructor(
    private readonly verb: string,
    private readonly total: number,
    private readonly out: NodeJS.WriteStream | undefined,
  ) {}

  add(bytes: number): void {
    this.done += bytes;
    const now = Date.now();
    if (this.out && (now - this.last > 200 || this.done === this.total)) {
      this.last = now;
      const pct = this.total ? Math.floor((this.done / this.total) * 100) : 100;
      this.out.write(
        `\r${this.verb} ${(this.done / MiB).toFixed(1)} / ${(this.total / MiB).toFixed(1)} MiB (${pct}%)`,
      );
    }
  }

  end(): void {
    if (this.out) this.out.write('\n');
  }
}

/** Runs `work(i)` for i in [0, n) with at most `depth` at a time; stops at the first failure. */
async function pipeline(n: number, depth: number, work: (i: number) => Promise<void>) {
  let next = 0;
  let failed: unknown;
  const lane = async () => {
    while (failed === undefined && next < n) {
      const i = next++;
      try {
        await work(i);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(depth, n) }, lane));
  if (failed !== undefined) throw failed;
}

/** Reads blocks from the bdev into `path` (created or truncated), or to stdout when undefined. */
export async function readToFile(path: string | undefined, o: TransferOptions): Promise<number> {
  const { bdev } = o;
  const per = chunkBlocks(bdev, o.chunkBytes ?? MiB);
  const chunks = Math.ceil(o.blockCount / per);
  const total = o.blockCount * bdev.blockSize;
  const progress = new Progress('read', total, o.progress);
  const file: FileHandle | undefined = path === undefined ? undefined : await open(path, 'w');
  // stdout takes chunks in order: completed chunks wait here for their predecessors.
  const ready = new Map<number, Buffer>();
  let nextOut = 0;
  const drain = async () => {
    while (ready.has(nextOut)) {
      const buf = ready.get(nextOut)!;
      ready.delete(nextOut++);
      await new Promise<void>((resolve, reject) =>
        process.stdout.write(buf, (err) => (err ? reject(err) : resolve())),
      );
    }
  };
  try {
    await pipeline(chunks, o.depth ?? 8, async (i) => {
      const blocks = Math.min(per, o.blockCount - i * per);
      const data = await bdev.read(o.startBlock + i * per, blocks);
      if (file) {
        await file.write(data, 0, data.length, i * per * bdev.blockSize);
      } else {
        ready.set(i, data);
        await drain();
      }
      progress.add(data.length);
    });
  } finally {
    progress.end();
    await file?.close();
  }
  return total;
}

/** Writes `blockCount` blocks read from `path` (from its start) to the bdev. */
export async function writeFromFile(path: string, o: TransferOptions): Promise<number> {
  const { bdev } = o;
  const per = chunkBlocks(bdev, o.chunkBytes ?? MiB);
  const chunks = Math.ceil(o.blockCount / per);
  const total = o.blockCount * bdev.blockSize;
  const progress = new Progress('written', total, o.progress);
  const file = await open(path, 'r');
  try {
    await pipeline(chunks, o.depth ?? 8, async (i) => {
      const blocks = Math.min(per, o.blockCount - i * per);
      const data = Buffer.allocUnsafe(blocks * bdev.blockSize);
      const { bytesRead } = await file.read(data, 0, data.length, i * per * bdev.blockSize);
      if (bytesRead !== data.length) {
        throw new RangeError(`${path} ended at byte ${i * per * bdev.blockSize + bytesRead}`);
      }
      await bdev.write(o.startBlock + i * per, data);
      progress.add(data.length);
    });
  } finally {
    progress.end();
    await file.close();
  }
  return total;
}

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FileBdev,
  type FileIoMode,
  POOL_BACKOFF_MS,
  SLOW_SYNC_STREAK,
  WRITE_PIECE_BYTES,
} from '../../../src/bdev/file-bdev.js';
import { firstDifference, patternBlocks, rng } from '../../support/pattern.js';

const KiB = 1024;
const BLOCK = 512;
const BLOCKS = 1024;

describe('FileBdev I/O modes', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'file-bdev-io-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each<FileIoMode>(['auto', 'sync', 'pool'])(
    '%s: random writes (some FUA) read back and land in the file byte for byte',
    async (io) => {
      const path = join(dir, `${io}.img`);
      const b = await FileBdev.open({ name: io, path, blockSize: BLOCK, size: BLOCKS * BLOCK, io });
      expect(b.io).toBe(io);
      const ref = Buffer.alloc(BLOCKS * BLOCK);
      const next = rng(11);
      const reads: Buffer[] = [];
      for (let i = 0; i < 48; i++) {
        const lba = next(BLOCKS);
        const blocks = 1 + next(Math.min(16, BLOCKS - lba));
        const data = patternBlocks(lba, blocks, BLOCK, i + 1);
        data.copy(ref, lba * BLOCK);
        await b.write(lba, data, { fua: i % 5 === 0 });
        // Small reads share a slab: each must stay the caller's even after later reads.
        reads.push(await b.read(lba, blocks));
        expect(firstDifference(reads[i], data)).toBeUndefined();
      }
      for (let i = 0; i < reads.length; i++) {
        expect(reads[i].readBigUInt64LE(0) >> 48n).toBe(BigInt(i + 1));
      }
      await b.flush();
      expect(firstDifference(await b.read(0, BLOCKS), ref)).toBeUndefined();
      expect(b.stats.writeOps).toBe(48);
      await b.close();
      expect(firstDifference(await readFile(path), ref)).toBeUndefined();
    },
  );

  it.each<FileIoMode>(['sync', 'pool'])(
    '%s: a write larger than a piece, starting and ending off piece boundaries, lands whole',
    async (io) => {
      const path = join(dir, `pieces-${io}.img`);
      const blocks = (3 * WRITE_PIECE_BYTES) / BLOCK;
      const b = await FileBdev.open({
        name: io,
        path,
        blockSize: BLOCK,
        size: 4 * blocks * BLOCK,
        io,
      });
      // Three blocks in, 2 pieces and 5 blocks long: a partial piece, whole ones, a partial one.
      const lba = 3;
      const count = (2 * WRITE_PIECE_BYTES) / BLOCK + 5;
      const data = patternBlocks(lba, count, BLOCK, 7);
      await b.write(lba, data);
      const want = Buffer.alloc(4 * blocks * BLOCK);
      data.copy(want, lba * BLOCK);
      expect(firstDifference(await b.read(0, 4 * blocks), want)).toBeUndefined();
      await b.close();
      expect(firstDifference(await readFile(path), want)).toBeUndefined();
    },
  );

  it('sync: a read past the end of a file that shrank under the bdev gives zeroes', async () => {
    const path = join(dir, 'shrunk.img');
    const b = await FileBdev.open({ name: 's', path, blockSize: BLOCK, size: 8 * KiB, io: 'sync' });
    await b.write(0, patternBlocks(0, 16, BLOCK));
    const { truncate } = await import('node:fs/promises');
    await truncate(path, 4 * KiB);
    const want = Buffer.alloc(8 * KiB);
    patternBlocks(0, 8, BLOCK).copy(want);
    expect(firstDifference(await b.read(0, 16), want)).toBeUndefined();
    await b.close();
  });

  it('auto: a streak of slow synchronous requests sends I/O to the threadpool for a while', async () => {
    let now = 0;
    let slow = true;
    // Each synchronous request reads the clock before and after: a slow one takes 10 ms.
    const clock = (): number => (slow ? (now += 10) : now);
    const b = await FileBdev.open({
      name: 'a',
      path: join(dir, 'auto.img'),
      blockSize: BLOCK,
      size: 64 * KiB,
      clock,
    });
    expect(b.ioPath).toBe('sync');
    const data = patternBlocks(0, 8, BLOCK);
    for (let i = 0; i < SLOW_SYNC_STREAK - 1; i++) await b.write(0, data);
    expect(b.ioPath).toBe('sync');
    await b.write(0, data);
    slow = false;
    expect(b.ioPath).toBe('pool');
    // Requests in the back-off go through the threadpool and still do their job.
    await b.write(8, data);
    expect(firstDifference(await b.read(8, 8), data)).toBeUndefined();
    expect(b.ioPath).toBe('pool');
    now += POOL_BACKOFF_MS;
    expect(b.ioPath).toBe('sync');
    expect(firstDifference(await b.read(0, 8), data)).toBeUndefined();
    await b.close();
  });

  it('auto: one slow request between fast ones (a preempted event loop) changes nothing', async () => {
    let now = 0;
    let calls = 0;
    // Every third synchronous request is slow: never SLOW_SYNC_STREAK in a row.
    const clock = (): number => {
      calls++;
      if (calls % 6 === 0) now += 10;
      return now;
    };
    const b = await FileBdev.open({
      name: 'p',
      path: join(dir, 'preempt.img'),
      blockSize: BLOCK,
      size: 64 * KiB,
      clock,
    });
    for (let i = 0; i < 4 * SLOW_SYNC_STREAK; i++) {
      await b.write(i, patternBlocks(i, 1, BLOCK));
      expect(b.ioPath).toBe('sync');
    }
    await b.close();
  });

  it('refuses an unknown I/O mode in one sentence', async () => {
    await expect(
      FileBdev.open({
        name: 'x',
        path: join(dir, 'x.img'),
        blockSize: BLOCK,
        size: 4 * KiB,
        io: 'direct' as FileIoMode,
      }),
    ).rejects.toThrow(/I\/O mode "direct" is not one of auto, sync, pool/);
  });
});

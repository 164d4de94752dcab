import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bdev } from '../../../src/bdev/bdev.js';
import { FileBdev } from '../../../src/bdev/file-bdev.js';
import { firstDifference, patternBlocks, rng } from '../../support/pattern.js';

const MiB = 1024 * 1024;

describe('FileBdev', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'file-bdev-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the file at the asked size and reads zeroes', async () => {
    const path = join(dir, 'a.img');
    const b = await FileBdev.open({ name: 'f0', path, blockSize: 4096, size: 4 * MiB });
    expect(b.blockCount).toBe(1024);
    expect((await stat(path)).size).toBe(4 * MiB);
    expect(firstDifference(await b.read(1000, 24), Buffer.alloc(24 * 4096))).toBeUndefined();
    await b.close();
  });

  it('writes land at their byte offsets in the file (pattern data)', async () => {
    const path = join(dir, 'b.img');
    const b = await FileBdev.open({ name: 'f1', path, blockSize: 512, size: MiB });
    const ref = Buffer.alloc(MiB);
    const next = rng(3);
    for (let i = 0; i < 64; i++) {
      const lba = next(2048);
      const blocks = 1 + next(Math.min(32, 2048 - lba));
      const data = patternBlocks(lba, blocks, 512, i);
      data.copy(ref, lba * 512);
      await b.write(lba, data, { fua: i % 8 === 0 });
    }
    await b.flush();
    expect(firstDifference(await b.read(0, 2048), ref)).toBeUndefined();
    await b.close();
    expect(firstDifference(await readFile(path), ref)).toBeUndefined();
  });

  it('deallocate and write zeroes leave zeroes', async () => {
    const path = join(dir, 'c.img');
    const b = await FileBdev.open({ name: 'f2', path, blockSize: 512, size: 3 * MiB });
    await b.write(0, patternBlocks(0, 6144, 512));
    await b.writeZeroes(1, 4097);
    await b.deallocate([{ lba: 5000, blocks: 2 }]);
    const want = patternBlocks(0, 6144, 512);
    want.fill(0, 512, 4098 * 512);
    want.fill(0, 5000 * 512, 5002 * 512);
    expect(firstDifference(await b.read(0, 6144), want)).toBeUndefined();
    expect((b as Bdev).blockStatus).toBeUndefined();
    expect(b.stats.writeZeroesOps).toBe(1);
    expect(b.stats.deallocateOps).toBe(1);
    await b.close();
  });

  it('reopens an existing file at its own size and keeps its data', async () => {
    const path = join(dir, 'd.img');
    await writeFile(path, patternBlocks(0, 8, 4096));
    const b = await FileBdev.open({ name: 'f3', path, blockSize: 4096 });
    expect(b.blockCount).toBe(8);
    expect(firstDifference(await b.read(0, 8), patternBlocks(0, 8, 4096))).toBeUndefined();
    await b.close();
  });

  it('refuses a size that is not a whole number of blocks, and a missing file without a size', async () => {
    await expect(
      FileBdev.open({ name: 'f4', path: join(dir, 'e.img'), blockSize: 4096, size: 5000 }),
    ).rejects.toThrow(/not a multiple of the 4096-byte block size/);
    await expect(
      FileBdev.open({ name: 'f5', path: join(dir, 'none.img'), blockSize: 512 }),
    ).rejects.toThrow(/cannot open/);
  });

  it('rejects out-of-range I/O with an NVMe status', async () => {
    const b = await FileBdev.open({
      name: 'f6',
      path: join(dir, 'g.img'),
      blockSize: 512,
      size: 4096,
    });
    await expect(b.write(8, Buffer.alloc(512))).rejects.toMatchObject({
      code: 'NVME_STATUS',
      sc: 0x80,
    });
    expect(b.stats.errors).toBe(1);
    await b.close();
  });
});

import { describe, expect, it } from 'vitest';
import { MemoryBdev, MEMORY_CHUNK_BYTES } from '../../../src/bdev/memory-bdev.js';
import { NvmeStatusError, GenericStatus, StatusCodeType } from '../../../src/nvme/status.js';
import { firstDifference, patternBlocks, rng } from '../../support/pattern.js';

const BLOCK_COUNT = 1024;

describe.each([512, 4096])('MemoryBdev, %i-byte blocks', (blockSize) => {
  const make = (): MemoryBdev => new MemoryBdev({ name: 'm0', blockSize, blockCount: BLOCK_COUNT });

  it('reads zeroes where nothing was written and allocates no memory', async () => {
    const b = make();
    expect(
      firstDifference(await b.read(0, BLOCK_COUNT), Buffer.alloc(BLOCK_COUNT * blockSize)),
    ).toBeUndefined();
    expect(b.allocatedBytes).toBe(0);
    expect(await b.blockStatus(0, BLOCK_COUNT)).toEqual([{ state: 'hole', blocks: BLOCK_COUNT }]);
  });

  it('returns what was written, against a plain reference buffer, across chunk boundaries', async () => {
    const b = make();
    const ref = Buffer.alloc(BLOCK_COUNT * blockSize);
    const next = rng(7);
    for (let i = 0; i < 200; i++) {
      const lba = next(BLOCK_COUNT);
      const blocks = 1 + next(Math.min(64, BLOCK_COUNT - lba));
      const data = patternBlocks(lba, blocks, blockSize, i);
      data.copy(ref, lba * blockSize);
      await b.write(lba, data);
    }
    expect(firstDifference(await b.read(0, BLOCK_COUNT), ref)).toBeUndefined();
    const lba = 3;
    expect(
      firstDifference(
        await b.read(lba, 100),
        ref.subarray(lba * blockSize, (lba + 100) * blockSize),
      ),
    ).toBeUndefined();
  });

  it('returns a copy: changing the written or read buffer does not change the device', async () => {
    const b = make();
    const data = patternBlocks(5, 2, blockSize);
    await b.write(5, data);
    data.fill(0xff);
    const got = await b.read(5, 2);
    got.fill(0xee);
    expect(firstDifference(await b.read(5, 2), patternBlocks(5, 2, blockSize))).toBeUndefined();
  });

  it('deallocate and write zeroes make holes that read as zero; emptied chunks are freed', async () => {
    const b = make();
    const perChunk = MEMORY_CHUNK_BYTES / blockSize;
    await b.write(0, patternBlocks(0, 2 * perChunk, blockSize));
    expect(b.allocatedBytes).toBe(2 * MEMORY_CHUNK_BYTES);
    await b.deallocate([{ lba: 1, blocks: 2 }]);
    await b.writeZeroes(perChunk, perChunk);
    expect(b.allocatedBytes).toBe(MEMORY_CHUNK_BYTES);
    const want = patternBlocks(0, 2 * perChunk, blockSize);
    want.fill(0, blockSize, 3 * blockSize);
    want.fill(0, perChunk * blockSize);
    expect(firstDifference(await b.read(0, 2 * perChunk), want)).toBeUndefined();
    expect(await b.blockStatus(0, 2 * perChunk + 10)).toEqual([
      { state: 'data', blocks: 1 },
      { state: 'hole', blocks: 2 },
      { state: 'data', blocks: perChunk - 3 },
      { state: 'hole', blocks: perChunk + 10 },
    ]);
    await b.deallocate([
      { lba: 0, blocks: 1 },
      { lba: 3, blocks: perChunk - 3 },
    ]);
    expect(b.allocatedBytes).toBe(0);
  });

  it('rejects out-of-range requests with LBA Out of Range and counts the error', async () => {
    const b = make();
    const err = await b.read(BLOCK_COUNT - 1, 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NvmeStatusError);
    expect((err as NvmeStatusError).is(StatusCodeType.Generic, GenericStatus.LbaOutOfRange)).toBe(
      true,
    );
    await expect(b.write(0, Buffer.alloc(blockSize + 1))).rejects.toMatchObject({
      sc: GenericStatus.InvalidField,
    });
    await expect(b.deallocate([{ lba: BLOCK_COUNT, blocks: 1 }])).rejects.toBeInstanceOf(
      NvmeStatusError,
    );
    expect(b.stats.errors).toBe(3);
    expect(b.stats.readOps).toBe(0);
  });

  it('counts operations and bytes', async () => {
    const b = make();
    await b.write(0, patternBlocks(0, 4, blockSize));
    await b.write(0, patternBlocks(0, 4, blockSize), { fua: true });
    await b.read(0, 3);
    await b.flush();
    await b.writeZeroes(0, 1);
    await b.deallocate([{ lba: 1, blocks: 1 }]);
    expect(b.stats.snapshot()).toEqual({
      readOps: 1,
      writeOps: 2,
      readBytes: 3 * blockSize,
      writeBytes: 8 * blockSize,
      flushOps: 1,
      writeZeroesOps: 1,
      deallocateOps: 1,
      errors: 0,
    });
  });

  it('answers Namespace Not Ready after close', async () => {
    const b = make();
    await b.close();
    await expect(b.read(0, 1)).rejects.toMatchObject({ sc: GenericStatus.NamespaceNotReady });
  });
});

describe('MemoryBdev geometry', () => {
  it('refuses an unsupported block size in one sentence', () => {
    expect(() => new MemoryBdev({ name: 'x', blockSize: 1000, blockCount: 1 })).toThrow(
      /block size 1000 is not supported; expected 512 or 4096/,
    );
  });
});

describe('MemoryBdev synchronous completion (readNow/writeNow)', () => {
  it('answers at once, across chunk boundaries, and counts like read()/write()', () => {
    const bdev = new MemoryBdev({ name: 'm', blockSize: 512, blockCount: 4096 });
    const perChunk = MEMORY_CHUNK_BYTES / 512;
    const data = patternBlocks(perChunk - 8, 16, 512);
    expect(bdev.writeNow(perChunk - 8, data)).toBeUndefined();
    const read = bdev.readNow(perChunk - 10, 20);
    expect(read).toBeInstanceOf(Buffer);
    const bytes = read as Buffer;
    expect(bytes.subarray(0, 2 * 512).equals(Buffer.alloc(2 * 512))).toBe(true);
    expect(bytes.subarray(2 * 512, 18 * 512).equals(data)).toBe(true);
    expect(bytes.subarray(18 * 512).equals(Buffer.alloc(2 * 512))).toBe(true);
    expect(bdev.stats.writeOps).toBe(1);
    expect(bdev.stats.readOps).toBe(1);
    expect(bdev.stats.readBytes).toBe(20 * 512);
  });

  it('throws an NvmeStatusError at once for a bad request, counted as an error', () => {
    const bdev = new MemoryBdev({ name: 'm', blockSize: 512, blockCount: 16 });
    expect(() => bdev.readNow(10, 8)).toThrow(NvmeStatusError);
    expect(() => bdev.writeNow(0, Buffer.alloc(100))).toThrow(NvmeStatusError);
    expect(bdev.stats.errors).toBe(2);
  });
});

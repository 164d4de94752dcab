import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WriteIntentBitmap } from '../../../src/volume/write-intent-bitmap.js';

/** The file layout, restated here from the format description (not taken from the code). */
const HEADER = 4096;
const geometry = { legCount: 3, regionBlocks: 2048, blockSize: 512, blockCount: 100_000 };
// ceil(100000 / 2048) = 49 regions -> 7 bytes per leg.
const REGIONS = 49;
const BYTES_PER_LEG = 7;

/** The bit of (leg, region) in a raw file: bitfield order, most significant bit first. */
function bitOnDisk(file: Buffer, leg: number, region: number): boolean {
  const byte = file[HEADER + leg * BYTES_PER_LEG + (region >> 3)];
  return (byte & (0x80 >> (region & 7))) !== 0;
}

describe('WriteIntentBitmap', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wib-'));
    path = join(dir, 'vol.wib');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a clean file with the documented header', async () => {
    const b = await WriteIntentBitmap.open(path, geometry);
    expect(b.regionCount).toBe(REGIONS);
    await b.close();
    const f = await readFile(path);
    expect(f.length).toBe(HEADER + 3 * BYTES_PER_LEG);
    expect(f.subarray(0, 8).toString('latin1')).toBe('NVMFWIB1');
    expect(f.readUInt32LE(8)).toBe(1);
    expect(f.readUInt32LE(12)).toBe(3);
    expect(f.readUInt32LE(16)).toBe(2048);
    expect(f.readUInt32LE(20)).toBe(512);
    expect(f.readBigUInt64LE(24)).toBe(100_000n);
    expect(f.readUInt32LE(32)).toBe(BYTES_PER_LEG);
    expect(f.subarray(HEADER).every((b) => b === 0)).toBe(true);
  });

  it('a mark is on disk when it resolves; a clear waits for the next persist', async () => {
    const b = await WriteIntentBitmap.open(path, geometry);
    await b.mark([1, 2], 7, 9);
    let f = await readFile(path);
    for (const r of [7, 8, 9]) {
      expect(bitOnDisk(f, 1, r)).toBe(true);
      expect(bitOnDisk(f, 2, r)).toBe(true);
      expect(bitOnDisk(f, 0, r)).toBe(false);
    }
    expect(bitOnDisk(f, 1, 10)).toBe(false);
    expect(b.dirtyRegions(1)).toBe(3);
    b.clear(1, 8);
    expect(b.isDirty(1, 8)).toBe(false);
    expect(bitOnDisk(await readFile(path), 1, 8)).toBe(true);
    await b.persist();
    f = await readFile(path);
    expect(bitOnDisk(f, 1, 8)).toBe(false);
    expect(bitOnDisk(f, 1, 9)).toBe(true);
    await b.close();
  });

  it('many concurrent marks share one round and all resolve with every bit on disk', async () => {
    const b = await WriteIntentBitmap.open(path, geometry);
    await Promise.all(Array.from({ length: REGIONS }, (_, r) => b.mark([r % 3], r, r)));
    // Marks made together share one write+fdatasync round.
    expect(b.persistRounds).toBe(1);
    const f = await readFile(path);
    for (let r = 0; r < REGIONS; r++) {
      for (let leg = 0; leg < 3; leg++) expect(bitOnDisk(f, leg, r)).toBe(leg === r % 3);
    }
    await b.close();
  });

  it('reopens with the bits it had, and walks them with nextDirty', async () => {
    const a = await WriteIntentBitmap.open(path, geometry);
    await a.mark([0], 3, 3);
    await a.mark([0], 48, 48);
    await a.markAll(2);
    await a.close();
    const b = await WriteIntentBitmap.open(path, geometry);
    expect([b.dirtyRegions(0), b.dirtyRegions(1), b.dirtyRegions(2)]).toEqual([2, 0, REGIONS]);
    expect(b.nextDirty(0)).toBe(3);
    expect(b.nextDirty(0, 4)).toBe(48);
    expect(b.nextDirty(1)).toBe(-1);
    await b.close();
  });

  it('refuses a file of another geometry or that is not a bitmap', async () => {
    const a = await WriteIntentBitmap.open(path, geometry);
    await a.close();
    await expect(WriteIntentBitmap.open(path, { ...geometry, legCount: 2 })).rejects.toThrow(
      /belongs to a mirror of 3 legs × 100000 blocks of 512 B, 2048-block regions, not this one of 2 legs/,
    );
    const other = join(dir, 'junk');
    await writeFile(other, Buffer.alloc(8192, 0x41));
    await expect(WriteIntentBitmap.open(other, geometry)).rejects.toThrow(
      /not a write-intent bitmap/,
    );
  });

  it('in memory: marks resolve at once and nothing is written', async () => {
    const b = WriteIntentBitmap.inMemory(geometry);
    await b.mark([0], 0, 48);
    expect(b.dirtyRegions(0)).toBe(REGIONS);
    expect(b.path).toBeUndefined();
  });
});

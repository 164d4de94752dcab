import { describe, expect, it } from 'vitest';
import { MemoryBdev } from '../../../src/bdev/memory-bdev.js';
import { ConcatBdev } from '../../../src/volume/concat-bdev.js';
import { FaultyBdev } from '../../support/faulty-bdev.js';
import { firstDifference, patternBlocks } from '../../support/pattern.js';
import { compareBdevs, runWorkload } from '../../support/reference-workload.js';

const BS = 512;
const SIZES = [100, 50, 200];
const mem = (name: string, blockCount: number, blockSize = BS): MemoryBdev =>
  new MemoryBdev({ name, blockSize, blockCount });

function build(): { vol: ConcatBdev; legs: MemoryBdev[] } {
  const legs = SIZES.map((n, i) => mem(`leg${i}`, n));
  return { vol: new ConcatBdev({ name: 'cat', legs }), legs };
}

describe('ConcatBdev', () => {
  it('has the sum of the legs as capacity and maps each block to its leg in order', async () => {
    const { vol, legs } = build();
    expect(vol.blockCount).toBe(350);
    expect(vol.map(95, 60)).toEqual([
      { leg: 0, legLba: 95, blocks: 5, offset: 0 },
      { leg: 1, legLba: 0, blocks: 50, offset: 5 },
      { leg: 2, legLba: 0, blocks: 5, offset: 55 },
    ]);
    await vol.write(0, patternBlocks(0, 350, BS));
    let start = 0;
    for (const [i, leg] of legs.entries()) {
      const diff = firstDifference(await leg.read(0, SIZES[i]), patternBlocks(start, SIZES[i], BS));
      expect(diff, `leg ${i}`).toBeUndefined();
      start += SIZES[i];
    }
  });

  it('reads, writes, zeroes and trims like one plain device (seeded random, vs a reference)', async () => {
    const { vol } = build();
    const ref = mem('ref', 350);
    await runWorkload(vol, ref, { seed: 11, ops: 300, maxBlocks: 120, depth: 4 });
    expect(await compareBdevs(vol, ref)).toBeUndefined();
  });

  it('merges the legs allocation maps across leg boundaries', async () => {
    const { vol } = build();
    await vol.write(90, patternBlocks(90, 70, BS));
    await vol.deallocate([{ lba: 148, blocks: 4 }]);
    expect(await vol.blockStatus!(0, 350)).toEqual([
      { state: 'hole', blocks: 90 },
      { state: 'data', blocks: 58 },
      { state: 'hole', blocks: 4 },
      { state: 'data', blocks: 8 },
      { state: 'hole', blocks: 190 },
    ]);
  });

  it('fails a request that touches a failed leg with that leg status, others keep working', async () => {
    const legs = SIZES.map((n, i) => mem(`leg${i}`, n));
    const faulty = new FaultyBdev(legs[1]);
    const vol = new ConcatBdev({ name: 'cat', legs: [legs[0], faulty, legs[2]] });
    faulty.fail(['write']);
    await expect(vol.write(95, patternBlocks(95, 10, BS))).rejects.toMatchObject({ sct: 3, sc: 0 });
    await vol.write(0, patternBlocks(0, 10, BS));
    expect(vol.stats.errors).toBe(1);
    expect(vol.stats.writeOps).toBe(1);
  });

  it('refuses legs of different block sizes in one sentence', () => {
    expect(() => new ConcatBdev({ name: 'bad', legs: [mem('a', 8), mem('b', 8, 4096)] })).toThrow(
      /leg b has 4096-byte blocks but a has 512; all legs must share one block size/,
    );
  });

  it('closes its legs', async () => {
    const { vol, legs } = build();
    await vol.close();
    await expect(legs[2].read(0, 1)).rejects.toMatchObject({ code: 'NVME_STATUS' });
  });
});

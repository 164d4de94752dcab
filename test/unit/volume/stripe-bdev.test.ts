import { describe, expect, it } from 'vitest';
import { MemoryBdev } from '../../../src/bdev/memory-bdev.js';
import { StripeBdev } from '../../../src/volume/stripe-bdev.js';
import { firstDifference, patternBlocks } from '../../support/pattern.js';
import { compareBdevs, runWorkload } from '../../support/reference-workload.js';

const SIZES = [100, 120, 130];
const UNIT = 8;

describe.each([512, 4096])('StripeBdev, %i-byte blocks', (bs) => {
  const build = (): { vol: StripeBdev; legs: MemoryBdev[] } => {
    const legs = SIZES.map(
      (n, i) => new MemoryBdev({ name: `leg${i}`, blockSize: bs, blockCount: n }),
    );
    return { vol: new StripeBdev({ name: 'raid0', legs, stripeBlocks: UNIT }), legs };
  };

  it('capacity is the whole stripe units of the smallest leg times the legs', () => {
    // floor(100 / 8) = 12 units per leg, 3 legs.
    expect(build().vol.blockCount).toBe(12 * UNIT * 3);
  });

  it('deals stripe unit u to leg u mod N at unit floor(u / N)', async () => {
    const { vol, legs } = build();
    await vol.write(0, patternBlocks(0, vol.blockCount, bs));
    for (let u = 0; u < vol.blockCount / UNIT; u++) {
      const leg = legs[u % 3];
      const got = await leg.read(Math.floor(u / 3) * UNIT, UNIT);
      expect(firstDifference(got, patternBlocks(u * UNIT, UNIT, bs)), `unit ${u}`).toBeUndefined();
    }
    // Nothing beyond the striped part of a leg is touched.
    expect(await legs[2].blockStatus(96, 34)).toEqual([{ state: 'hole', blocks: 34 }]);
  });

  it('splits a request at unit boundaries, in request order', () => {
    expect(build().vol.map(5, 12)).toEqual([
      { leg: 0, legLba: 5, blocks: 3, offset: 0 },
      { leg: 1, legLba: 0, blocks: 8, offset: 3 },
      { leg: 2, legLba: 0, blocks: 1, offset: 11 },
    ]);
  });

  it('behaves like one plain device under seeded random I/O (vs a reference)', async () => {
    const { vol } = build();
    const ref = new MemoryBdev({ name: 'ref', blockSize: bs, blockCount: vol.blockCount });
    await runWorkload(vol, ref, { seed: 5, ops: 300, maxBlocks: 40, depth: 8 });
    expect(await compareBdevs(vol, ref)).toBeUndefined();
    const lba = 20;
    expect(await vol.blockStatus!(lba, 50)).toEqual(await ref.blockStatus(lba, 50));
  });

  it('refuses a stripe unit larger than the smallest leg', () => {
    const legs = [new MemoryBdev({ name: 'a', blockSize: bs, blockCount: 4 })];
    expect(() => new StripeBdev({ name: 's', legs, stripeBlocks: 8 })).toThrow(
      /shorter than one 8-block stripe unit/,
    );
  });
});

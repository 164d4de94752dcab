/**
 * A mirror over file-backed legs under a concurrent random workload, with a leg lost in the middle
 * and brought back: I/O never fails, the automatic probe resyncs exactly the regions written
 * while the leg was away, and afterwards both legs and a reference copy are byte-identical —
 * also across a restart of the mirror (the write-intent bitmap file).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileBdev } from '../../../src/bdev/file-bdev.js';
import { MemoryBdev } from '../../../src/bdev/memory-bdev.js';
import { MirrorBdev } from '../../../src/volume/mirror-bdev.js';
import { StripeBdev } from '../../../src/volume/stripe-bdev.js';
import { FaultyBdev } from '../../support/faulty-bdev.js';
import { firstDifference } from '../../support/pattern.js';
import { compareBdevs, runWorkload } from '../../support/reference-workload.js';

const BS = 4096;
const MiB = 1024 * 1024;
const SIZE = 16 * MiB;
const BLOCKS = SIZE / BS;
/** 256 KiB regions: 64 of them, so a partial workload leaves some clean. */
const REGION = 64;

describe('mirror failover and resync over file legs', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mirror-int-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const openLegs = (): Promise<FileBdev[]> =>
    Promise.all(
      [0, 1].map((i) =>
        FileBdev.open({
          name: `leg${i}`,
          path: join(dir, `leg${i}.img`),
          blockSize: BS,
          size: SIZE,
        }),
      ),
    );

  it('serves through a lost leg, then resyncs only what it missed', async () => {
    const files = await openLegs();
    const legs = files.map((f) => new FaultyBdev(f));
    const bitmapPath = join(dir, 'vol0.wib');
    const mirror = await MirrorBdev.open({
      name: 'vol0',
      legs,
      bitmapPath,
      regionBlocks: REGION,
      probeIntervalMs: 5,
    });
    const ref = new MemoryBdev({ name: 'ref', blockSize: BS, blockCount: BLOCKS });

    await runWorkload(mirror, ref, { seed: 1, ops: 200, maxBlocks: 32, depth: 8 });
    const degraded = new Promise((resolve) => mirror.once('degraded', resolve));
    legs[1].fail();
    const missed = new Set<number>();
    await runWorkload(mirror, ref, {
      seed: 2,
      ops: 60,
      maxBlocks: 16,
      depth: 8,
      generation: 1000,
      onChange: (lba, blocks) => {
        for (let r = Math.floor(lba / REGION); r <= Math.floor((lba + blocks - 1) / REGION); r++) {
          missed.add(r);
        }
      },
    });
    await degraded;
    expect(mirror.legState(1)).toBe('degraded');
    expect(mirror.stats.errors).toBe(0);
    expect(mirror.legStatus()[1].dirtyRegions).toBe(missed.size);
    expect(missed.size).toBeLessThan(BLOCKS / REGION);
    expect(await compareBdevs(mirror, ref)).toBeUndefined();

    const resynced = new Promise<number>((resolve) =>
      mirror.once('resync-done', (e) => resolve(e.copiedBlocks)),
    );
    legs[1].heal();
    expect(await resynced).toBe(missed.size * REGION);
    expect(mirror.legState(1)).toBe('healthy');
    await mirror.close();

    const [a, b] = await Promise.all([0, 1].map((i) => readFile(join(dir, `leg${i}.img`))));
    expect(firstDifference(b, a)).toBeUndefined();
    expect(firstDifference(a, await ref.read(0, BLOCKS))).toBeUndefined();
  });

  it('a restart between the loss and the return still resyncs the missed regions', async () => {
    const bitmapPath = join(dir, 'vol0.wib');
    const ref = new MemoryBdev({ name: 'ref', blockSize: BS, blockCount: BLOCKS });
    {
      const legs = (await openLegs()).map((f) => new FaultyBdev(f));
      const mirror = await MirrorBdev.open({
        name: 'vol0',
        legs,
        bitmapPath,
        regionBlocks: REGION,
        probeIntervalMs: 0,
      });
      await runWorkload(mirror, ref, { seed: 3, ops: 100, maxBlocks: 32, depth: 4 });
      legs[0].fail();
      await runWorkload(mirror, ref, { seed: 4, ops: 40, maxBlocks: 8, depth: 4, generation: 500 });
      await mirror.close();
    }
    const legs = await openLegs();
    const mirror = await MirrorBdev.open({
      name: 'vol0',
      legs,
      bitmapPath,
      regionBlocks: REGION,
      probeIntervalMs: 0,
    });
    expect(mirror.legState(0)).toBe('degraded');
    const dirty = mirror.legStatus()[0].dirtyRegions;
    expect(dirty).toBeGreaterThan(0);
    // Reads are served by the leg that has everything, even before the resync.
    expect(await compareBdevs(mirror, ref)).toBeUndefined();
    expect(await mirror.resync()).toEqual({ copiedBlocks: dirty * REGION });
    expect(await compareBdevs(legs[0], legs[1])).toBeUndefined();
    expect(await compareBdevs(legs[0], ref)).toBeUndefined();
    await mirror.close();
  });

  it('stacks: a stripe over two mirrors (RAID-10) keeps every byte through a leg loss', async () => {
    const mems = [0, 1, 2, 3].map(
      (i) => new MemoryBdev({ name: `m${i}`, blockSize: BS, blockCount: 1024 }),
    );
    const legs = mems.map((m) => new FaultyBdev(m));
    const pairs = await Promise.all(
      [0, 1].map((p) =>
        MirrorBdev.open({
          name: `pair${p}`,
          legs: legs.slice(2 * p, 2 * p + 2),
          regionBlocks: 16,
          probeIntervalMs: 0,
        }),
      ),
    );
    const raid10 = new StripeBdev({ name: 'raid10', legs: pairs, stripeBlocks: 16 });
    const ref = new MemoryBdev({ name: 'ref', blockSize: BS, blockCount: raid10.blockCount });
    await runWorkload(raid10, ref, { seed: 9, ops: 150, maxBlocks: 40, depth: 8 });
    legs[3].fail();
    await runWorkload(raid10, ref, {
      seed: 10,
      ops: 150,
      maxBlocks: 40,
      depth: 8,
      generation: 700,
    });
    expect(await compareBdevs(raid10, ref)).toBeUndefined();
    legs[3].heal();
    await pairs[1].resync();
    expect(pairs[1].legState(1)).toBe('healthy');
    expect(await compareBdevs(mems[2], mems[3])).toBeUndefined();
    expect(await raid10.blockStatus!(0, raid10.blockCount)).toEqual(
      await ref.blockStatus(0, ref.blockCount),
    );
  });
});

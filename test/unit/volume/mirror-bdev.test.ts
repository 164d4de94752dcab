import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryBdev } from '../../../src/bdev/memory-bdev.js';
import { MirrorBdev, type MirrorBdevOptions } from '../../../src/volume/mirror-bdev.js';
import { FaultyBdev } from '../../support/faulty-bdev.js';
import { firstDifference, patternBlocks } from '../../support/pattern.js';
import { compareBdevs, compareRange } from '../../support/reference-workload.js';

const BS = 512;
/** Resolves in the next event-loop turn (after the mirror moves its read rotation on). */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const BLOCKS = 256;
const REGION = 16;

interface Rig {
  mirror: MirrorBdev;
  inner: MemoryBdev[];
  legs: FaultyBdev[];
}

async function rig(
  opts: Partial<MirrorBdevOptions> = {},
  legCount = 2,
  inner?: MemoryBdev[],
): Promise<Rig> {
  const mems =
    inner ??
    Array.from(
      { length: legCount },
      (_, i) => new MemoryBdev({ name: `m${i}`, blockSize: BS, blockCount: BLOCKS }),
    );
  const legs = mems.map((m) => new FaultyBdev(m));
  const mirror = await MirrorBdev.open({
    name: 'mirror',
    legs,
    regionBlocks: REGION,
    probeIntervalMs: 0,
    closeLegs: false,
    ...opts,
  });
  return { mirror, inner: mems, legs };
}

/** Lets every queued promise continuation and I/O callback run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('MirrorBdev', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mirror-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('has the smallest leg as capacity', async () => {
    const big = new MemoryBdev({ name: 'big', blockSize: BS, blockCount: 2 * BLOCKS });
    const small = new MemoryBdev({ name: 'small', blockSize: BS, blockCount: BLOCKS });
    const { mirror } = await rig({}, 2, [big, small]);
    expect(mirror.blockCount).toBe(BLOCKS);
  });

  it('writes every block to every leg', async () => {
    const { mirror, inner } = await rig();
    await mirror.write(0, patternBlocks(0, BLOCKS, BS));
    await mirror.writeZeroes(10, 5);
    await mirror.deallocate([{ lba: 100, blocks: 20 }]);
    const want = patternBlocks(0, BLOCKS, BS);
    want.fill(0, 10 * BS, 15 * BS);
    want.fill(0, 100 * BS, 120 * BS);
    for (const m of inner) expect(firstDifference(await m.read(0, BLOCKS), want)).toBeUndefined();
    expect(await mirror.blockStatus!(0, BLOCKS)).toEqual(await inner[0].blockStatus(0, BLOCKS));
  });

  it('spreads reads over the healthy legs, one leg per event-loop turn', async () => {
    const { mirror, inner } = await rig({}, 3);
    for (let i = 0; i < 6; i++) {
      await mirror.read(i, 1);
      await nextTurn();
    }
    expect(inner.map((m) => m.stats.readOps)).toEqual([2, 2, 2]);
  });

  it('sends the reads of one turn to one leg, so they leave in one batch', async () => {
    const { mirror, inner } = await rig({}, 3);
    await Promise.all([0, 1, 2, 3].map((i) => mirror.read(i, 1)));
    expect(inner.map((m) => m.stats.readOps)).toEqual([4, 0, 0]);
    await nextTurn();
    await Promise.all([0, 1].map((i) => mirror.read(i, 1)));
    expect(inner.map((m) => m.stats.readOps)).toEqual([4, 2, 0]);
  });

  it('a failed write degrades that leg; the write still succeeds and reads avoid the leg', async () => {
    const { mirror, inner, legs } = await rig();
    const events: { leg: number; error: Error }[] = [];
    mirror.on('degraded', (e) => events.push(e));
    legs[1].fail(['write']);
    await mirror.write(40, patternBlocks(40, 4, BS));
    expect(mirror.legState(1)).toBe('degraded');
    expect(events.map((e) => e.leg)).toEqual([1]);
    expect(events[0].error.message).toMatch(/injected write failure/);
    expect(mirror.legStatus()[1].dirtyRegions).toBe(1);
    const readsBefore = inner[1].stats.readOps;
    for (let i = 0; i < 4; i++) {
      expect(firstDifference(await mirror.read(40, 4), patternBlocks(40, 4, BS))).toBeUndefined();
    }
    expect(inner[1].stats.readOps).toBe(readsBefore);
    expect(mirror.stats.errors).toBe(0);
  });

  it('a failed read is served by another leg and degrades the failing one, marking nothing', async () => {
    const { mirror, legs } = await rig();
    await mirror.write(0, patternBlocks(0, 8, BS));
    legs[0].fail(['read']);
    for (let i = 0; i < 2; i++) {
      expect(firstDifference(await mirror.read(0, 8), patternBlocks(0, 8, BS))).toBeUndefined();
    }
    expect(mirror.legState(0)).toBe('degraded');
    expect(mirror.legStatus()[0].dirtyRegions).toBe(0);
    legs[0].heal();
    expect(await mirror.resync()).toEqual({ copiedBlocks: 0 });
    expect(mirror.legState(0)).toBe('healthy');
  });

  it('fails a write with no leg left: the legs error, then Namespace Not Ready (retryable)', async () => {
    const { mirror, legs } = await rig();
    legs[0].fail();
    legs[1].fail();
    await expect(mirror.write(0, patternBlocks(0, 1, BS))).rejects.toMatchObject({ sct: 3, sc: 0 });
    expect([mirror.legState(0), mirror.legState(1)]).toEqual(['degraded', 'degraded']);
    await expect(mirror.write(0, patternBlocks(0, 1, BS))).rejects.toMatchObject({
      sct: 0,
      sc: 0x82,
      dnr: false,
    });
    await expect(mirror.read(0, 1)).rejects.toMatchObject({ sc: 0x82 });
    expect(mirror.stats.errors).toBe(3);
  });

  it('after every leg failed, the first one back that missed no write serves again, and the other is resynced from it', async () => {
    const { mirror, inner, legs } = await rig();
    legs[0].fail();
    legs[1].fail();
    await expect(mirror.write(0, patternBlocks(0, 1, BS))).rejects.toBeDefined();
    legs[0].heal();
    legs[1].heal();
    // Leg 0 is authoritative for the failed write's region; leg 1 gets that region copied.
    expect(await mirror.resync()).toEqual({ copiedBlocks: REGION });
    expect([mirror.legState(0), mirror.legState(1)]).toEqual(['healthy', 'healthy']);
    expect(await compareBdevs(inner[0], inner[1])).toBeUndefined();
  });

  it('resync copies exactly the regions written while a leg was away', async () => {
    const { mirror, inner, legs } = await rig();
    await mirror.write(0, patternBlocks(0, BLOCKS, BS, 1));
    legs[1].fail();
    // Regions 1 and 2 (one write across their boundary), 7, and the last one, 15.
    await mirror.write(30, patternBlocks(30, 4, BS, 2));
    await mirror.write(7 * REGION + 3, patternBlocks(7 * REGION + 3, 1, BS, 2));
    await mirror.writeZeroes(15 * REGION + 10, 6);
    await mirror.deallocate([{ lba: 7 * REGION + 5, blocks: 2 }]);
    expect(mirror.legStatus()[1].dirtyRegions).toBe(4);
    // A canary written straight to leg 1 in a clean region: resync must leave it alone.
    const canary = patternBlocks(4 * REGION, REGION, BS, 99);
    await inner[1].write(4 * REGION, canary);

    legs[1].heal();
    const done: number[] = [];
    mirror.on('resync-done', (e) => done.push(e.copiedBlocks));
    const writtenBefore = inner[1].stats.writeBytes;
    expect(await mirror.resync()).toEqual({ copiedBlocks: 4 * REGION });
    expect(done).toEqual([4 * REGION]);
    expect(mirror.legState(1)).toBe('healthy');
    expect(mirror.legStatus()[1].dirtyRegions).toBe(0);
    // Data extents are written, holes deallocated: at most the four regions' bytes.
    expect(inner[1].stats.writeBytes - writtenBefore).toBeLessThanOrEqual(4 * REGION * BS);
    expect(firstDifference(await inner[1].read(4 * REGION, REGION), canary)).toBeUndefined();
    for (const r of [0, 1, 2, 3, 5, 6, 7, 8, 15]) {
      expect(
        await compareRange(inner[1], r * REGION, inner[0], r * REGION, REGION),
        `region ${r}`,
      ).toBeUndefined();
    }
  });

  it('a flush that fails on a leg makes all of that leg dirty', async () => {
    const { mirror, legs } = await rig();
    legs[0].fail(['flush']);
    await mirror.flush();
    expect(mirror.legState(0)).toBe('degraded');
    expect(mirror.legStatus()[0].dirtyRegions).toBe(BLOCKS / REGION);
    legs[0].heal();
    expect(await mirror.resync()).toEqual({ copiedBlocks: BLOCKS });
  });

  it('keeps the bitmap across close and reopen, and resyncs after the restart', async () => {
    const bitmapPath = join(dir, 'mirror.wib');
    const first = await rig({ bitmapPath });
    await first.mirror.write(0, patternBlocks(0, BLOCKS, BS, 1));
    first.legs[0].fail();
    await first.mirror.write(3 * REGION, patternBlocks(3 * REGION, 2 * REGION, BS, 2));
    await first.mirror.close();

    // A restarted DPU over the same legs, the failed one answering again.
    const again = await rig({ bitmapPath }, 2, first.inner);
    expect(again.mirror.legState(0)).toBe('degraded');
    expect(again.mirror.legState(1)).toBe('healthy');
    expect(again.mirror.legStatus()[0].dirtyRegions).toBe(2);
    expect(await again.mirror.resync()).toEqual({ copiedBlocks: 2 * REGION });
    await again.mirror.close();

    const third = await rig({ bitmapPath }, 2, first.inner);
    expect([third.mirror.legState(0), third.mirror.legState(1)]).toEqual(['healthy', 'healthy']);
    expect(await compareBdevs(first.inner[0], first.inner[1])).toBeUndefined();
    await third.mirror.close();
  });

  it('a write to a region being copied waits for the copy, so the returning leg ends up with it', async () => {
    const { mirror, inner, legs } = await rig();
    await mirror.write(0, patternBlocks(0, BLOCKS, BS, 1));
    legs[1].fail();
    await mirror.write(3 * REGION, patternBlocks(3 * REGION, REGION, BS, 2));
    legs[1].heal();

    let copyHeld!: () => void;
    const copyArrived = new Promise<void>((resolve) => (copyHeld = resolve));
    legs[1].hold(['write'], () => copyHeld(), 1);
    const resync = mirror.resync();
    await copyArrived;
    expect(mirror.legState(1)).toBe('resyncing');

    let userWriteDone = false;
    const userWrite = mirror
      .write(3 * REGION + 4, patternBlocks(3 * REGION + 4, 2, BS, 3))
      .then(() => {
        userWriteDone = true;
      });
    // A write elsewhere is not held back by the copy.
    await mirror.write(9 * REGION, patternBlocks(9 * REGION, 1, BS, 3));
    await settle();
    expect(userWriteDone).toBe(false);
    legs[1].release();
    await Promise.all([resync, userWrite]);

    const want = patternBlocks(3 * REGION, REGION, BS, 2);
    patternBlocks(3 * REGION + 4, 2, BS, 3).copy(want, 4 * BS);
    for (const m of inner) {
      expect(firstDifference(await m.read(3 * REGION, REGION), want), m.name).toBeUndefined();
    }
    expect(await compareBdevs(inner[0], inner[1])).toBeUndefined();
  });

  it('a write holds its region until every leg has answered, the slowest included', async () => {
    const { mirror, inner, legs } = await rig({}, 3);
    let held!: () => void;
    const arrived = new Promise<void>((resolve) => (held = resolve));
    legs[2].hold(['write'], () => held(), 1);
    let writeDone = false;
    const write = mirror.write(2 * REGION, patternBlocks(2 * REGION, 4, BS)).then(() => {
      writeDone = true;
    });
    await arrived;
    let copyLocked = false;
    const copy = mirror.locks.acquireExclusive(2).then((release) => {
      copyLocked = true;
      return release;
    });
    await settle();
    expect([writeDone, copyLocked]).toEqual([false, false]);
    legs[2].release();
    await write;
    (await copy)();
    expect(copyLocked).toBe(true);
    for (const m of inner) {
      expect(
        firstDifference(await m.read(2 * REGION, 4), patternBlocks(2 * REGION, 4, BS)),
      ).toBeUndefined();
    }
  });

  it('a leg whose write throws at once is degraded like one that rejects, and frees the region', async () => {
    const { mirror, legs } = await rig({}, 3);
    legs[1].write = () => {
      throw new Error('thrown at once');
    };
    await mirror.write(5 * REGION, patternBlocks(5 * REGION, 1, BS));
    expect([mirror.legState(0), mirror.legState(1), mirror.legState(2)]).toEqual([
      'healthy',
      'degraded',
      'healthy',
    ]);
    expect(mirror.legStatus()[1].dirtyRegions).toBe(1);
    (await mirror.locks.acquireExclusive(5))();
  });

  it('probes a degraded leg on its own and resyncs it when it answers', async () => {
    const { mirror, inner, legs } = await rig({ probeIntervalMs: 5 });
    legs[1].fail();
    await mirror.write(2 * REGION, patternBlocks(2 * REGION, 1, BS, 4));
    const done = new Promise<number>((resolve) =>
      mirror.once('resync-done', (e) => resolve(e.copiedBlocks)),
    );
    legs[1].heal();
    expect(await done).toBe(REGION);
    expect(mirror.legState(1)).toBe('healthy');
    expect(await compareBdevs(inner[0], inner[1])).toBeUndefined();
    await mirror.close();
  });

  it('with a leg timeout, a leg that does not answer is degraded and the write completes on the other', async () => {
    const { mirror, inner, legs } = await rig({ legTimeoutMs: 20 });
    legs[1].hold(['write']);
    await mirror.write(5 * REGION, patternBlocks(5 * REGION, 2, BS, 6));
    expect(mirror.legState(1)).toBe('degraded');
    expect(mirror.legStatus()[1].dirtyRegions).toBe(1);
    expect(
      firstDifference(await inner[0].read(5 * REGION, 2), patternBlocks(5 * REGION, 2, BS, 6)),
    ).toBeUndefined();
    // The late write lands after all; resync then makes the leg whole either way.
    legs[1].release();
    expect(await mirror.resync()).toEqual({ copiedBlocks: REGION });
    expect(await compareBdevs(inner[0], inner[1])).toBeUndefined();
  });

  it('refuses fewer than two legs or legs of different block sizes', async () => {
    const a = new MemoryBdev({ name: 'a', blockSize: 512, blockCount: 8 });
    const b = new MemoryBdev({ name: 'b', blockSize: 4096, blockCount: 8 });
    await expect(MirrorBdev.open({ name: 'm', legs: [a] })).rejects.toThrow(/at least 2 legs/);
    await expect(MirrorBdev.open({ name: 'm', legs: [a, b] })).rejects.toThrow(
      /share one block size/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { RegionLocks } from '../../../src/volume/region-locks.js';

/** Lets every queued promise continuation run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** An exclusive lock asked for now: whether it was granted yet, and its release once it is. */
function exclusiveOf(locks: RegionLocks, region: number) {
  let granted = false;
  const release = locks.acquireExclusive(region).then((r) => {
    granted = true;
    return r;
  });
  return { granted: () => granted, release };
}

describe('RegionLocks', () => {
  it('an exclusive lock waits for the writes holding its region', async () => {
    const locks = new RegionLocks();
    const releaseWrite = await locks.acquireShared(2, 5);
    const exclusive = exclusiveOf(locks, 4);
    await settle();
    expect(exclusive.granted()).toBe(false);
    releaseWrite();
    (await exclusive.release)();
    expect(exclusive.granted()).toBe(true);
  });

  it('a write waits for an exclusive lock on one of its regions, not on others', async () => {
    const locks = new RegionLocks();
    const releaseCopy = await locks.acquireExclusive(7);
    const order: string[] = [];
    const blocked = locks.acquireShared(6, 8).then((r) => {
      order.push('write 6-8');
      return r;
    });
    const free = await locks.acquireShared(0, 5);
    order.push('write 0-5');
    await settle();
    expect(order).toEqual(['write 0-5']);
    releaseCopy();
    (await blocked)();
    free();
    expect(order).toEqual(['write 0-5', 'write 6-8']);
  });

  it('exclusive holders take turns', async () => {
    const locks = new RegionLocks();
    const first = await locks.acquireExclusive(1);
    const second = exclusiveOf(locks, 2);
    await settle();
    expect(second.granted()).toBe(false);
    first();
    (await second.release)();
    expect(second.granted()).toBe(true);
  });
});

describe('RegionLocks without promises (the write fast path)', () => {
  it('tryAcquireShared holds at once, and refuses while resync holds one of the regions', async () => {
    const locks = new RegionLocks();
    const releaseCopy = await locks.acquireExclusive(3);
    expect(locks.tryAcquireShared(0, 2)).toBe(true);
    expect(locks.tryAcquireShared(2, 4)).toBe(false);
    releaseCopy();
    expect(locks.tryAcquireShared(2, 4)).toBe(true);
    locks.releaseShared(0, 2);
    locks.releaseShared(2, 4);
  });

  it('an exclusive lock waits until releaseShared drops the last hold on its region', async () => {
    const locks = new RegionLocks();
    expect(locks.tryAcquireShared(5, 6)).toBe(true);
    expect(locks.tryAcquireShared(6, 6)).toBe(true);
    const exclusive = exclusiveOf(locks, 6);
    locks.releaseShared(5, 6);
    await settle();
    expect(exclusive.granted()).toBe(false);
    locks.releaseShared(6, 6);
    (await exclusive.release)();
    expect(exclusive.granted()).toBe(true);
  });

  it('holds far regions of a large volume as it does near ones (and keeps the near holds)', async () => {
    const locks = new RegionLocks();
    expect(locks.tryAcquireShared(1, 1)).toBe(true);
    expect(locks.tryAcquireShared(70_000, 70_001)).toBe(true);
    const far = exclusiveOf(locks, 70_001);
    await settle();
    expect(far.granted()).toBe(false);
    locks.releaseShared(70_000, 70_001);
    (await far.release)();
    expect(far.granted()).toBe(true);
    const near = exclusiveOf(locks, 1);
    await settle();
    expect(near.granted()).toBe(false);
    locks.releaseShared(1, 1);
    (await near.release)();
    expect(near.granted()).toBe(true);
  });
});

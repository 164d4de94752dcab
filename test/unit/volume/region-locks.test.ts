import { describe, expect, it } from 'vitest';
import { RegionLocks } from '../../../src/volume/region-locks.js';

/** Lets every queued promise continuation run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('RegionLocks', () => {
  it('an exclusive lock waits for the writes holding its region', async () => {
    const locks = new RegionLocks();
    const releaseWrite = await locks.acquireShared(2, 5);
    let got = false;
    const exclusive = locks.acquireExclusive(4).then((release) => {
      got = true;
      return release;
    });
    await settle();
    expect(got).toBe(false);
    releaseWrite();
    (await exclusive)();
    expect(got).toBe(true);
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
    let second = false;
    const next = locks.acquireExclusive(2).then((r) => {
      second = true;
      return r;
    });
    await settle();
    expect(second).toBe(false);
    first();
    (await next)();
    expect(second).toBe(true);
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
    let got = false;
    const exclusive = locks.acquireExclusive(6).then((release) => {
      got = true;
      return release;
    });
    locks.releaseShared(5, 6);
    await settle();
    expect(got).toBe(false);
    locks.releaseShared(6, 6);
    (await exclusive)();
    expect(got).toBe(true);
  });

  it('holds far regions of a large volume as it does near ones (and keeps the near holds)', async () => {
    const locks = new RegionLocks();
    expect(locks.tryAcquireShared(1, 1)).toBe(true);
    expect(locks.tryAcquireShared(70_000, 70_001)).toBe(true);
    let far = false;
    let near = false;
    const farCopy = locks.acquireExclusive(70_001).then((release) => {
      far = true;
      return release;
    });
    await settle();
    expect(far).toBe(false);
    locks.releaseShared(70_000, 70_001);
    (await farCopy)();
    expect(far).toBe(true);
    const nearCopy = locks.acquireExclusive(1).then((release) => {
      near = true;
      return release;
    });
    await settle();
    expect(near).toBe(false);
    locks.releaseShared(1, 1);
    (await nearCopy)();
    expect(near).toBe(true);
  });
});

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

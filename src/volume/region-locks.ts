/**
 * Ordering between a mirror's writes and its resync, per region (md's resync window, SPDK
 * raid1's range locks): writes hold their regions shared; resync holds the one region it copies
 * exclusively, so no write lands on the healthy leg after resync read it but before resync wrote
 * the copy (which would leave the returning leg with the older data).
 *
 * Resync locks one region at a time, and a writer takes all its regions in one step, so there is
 * no lock-order cycle. A pending exclusive lock stops new writers to that region (no starvation).
 */

/** Regions the in-flight counts cover at first; the array doubles to cover a higher region. */
const INITIAL_REGIONS = 1024;

interface Exclusive {
  region: number;
  released: Promise<void>;
  release: () => void;
}

export class RegionLocks {
  /**
   * In-flight writes per region, indexed by region. An array, not a Map: one set and one delete
   * per write made a Map rehash every few dozen writes, and V8 links each old table to the next,
   * which keeps them all alive once one has been promoted (see QueuePair's outstanding table).
   */
  private shared = new Uint32Array(INITIAL_REGIONS);
  /** Woken when a region's shared count drops to zero. */
  private readonly drained = new Map<number, () => void>();
  private exclusive: Exclusive | undefined;

  /** Holds regions [first, last] for a write; resolves to the release function. */
  async acquireShared(first: number, last: number): Promise<() => void> {
    while (!this.tryAcquireShared(first, last)) await this.exclusive!.released;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.releaseShared(first, last);
    };
  }

  /**
   * The data path's form of acquireShared: holds [first, last] at once and returns true, or
   * returns false (holding nothing) while resync holds one of them. No promise, no closure; the
   * caller must call releaseShared(first, last) exactly once.
   */
  tryAcquireShared(first: number, last: number): boolean {
    const ex = this.exclusive;
    if (ex && ex.region >= first && ex.region <= last) return false;
    if (last >= this.shared.length) this.grow(last);
    for (let r = first; r <= last; r++) this.shared[r]++;
    return true;
  }

  /** Ends a hold taken by tryAcquireShared; wakes a resync waiting for the region to drain. */
  releaseShared(first: number, last: number): void {
    for (let r = first; r <= last; r++) {
      const n = this.inFlight(r);
      if (n > 1) {
        this.shared[r] = n - 1;
      } else {
        if (n === 1) this.shared[r] = 0;
        this.drained.get(r)?.();
      }
    }
  }

  /** Holds `region` alone, after the writes in flight on it finish. One holder at a time. */
  async acquireExclusive(region: number): Promise<() => void> {
    while (this.exclusive) await this.exclusive.released;
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const held: Exclusive = { region, released, release };
    this.exclusive = held;
    while (this.inFlight(region) > 0) {
      await new Promise<void>((resolve) => this.drained.set(region, resolve));
    }
    this.drained.delete(region);
    return () => {
      if (this.exclusive === held) this.exclusive = undefined;
      held.release();
    };
  }

  private inFlight(region: number): number {
    return region < this.shared.length ? this.shared[region] : 0;
  }

  /** Widens the counts to cover `region`. */
  private grow(region: number): void {
    let n = this.shared.length;
    while (n <= region) n *= 2;
    const wider = new Uint32Array(n);
    wider.set(this.shared);
    this.shared = wider;
  }
}

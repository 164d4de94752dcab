/**
 * The mirror's change path (SPDK raid1's write fan-out, md raid1's write-intent bitmap).
 *
 * - Writes, Write Zeroes and Deallocate go to every leg that is not degraded and complete when all
 *   of them have. A leg whose I/O fails becomes degraded; the request still succeeds when at least
 *   one leg took it. A request with no leg to go to fails (Namespace Not Ready, retryable).
 * - Every region a degraded (or just failed) leg misses is marked in the write-intent bitmap, and
 *   that mark is durable before the request is acknowledged, so a DPU restart still knows what to
 *   copy.
 * - A flush that fails on a leg leaves unknown writes volatile there: every region becomes dirty.
 *
 * Caveat (as md without a bitmap in that case): a write that fails on every leg is not
 * acknowledged and may have landed on some legs only; the first of them is taken as authoritative
 * and the region is marked dirty on the others.
 */
import type { Bdev, LbaRange, WriteOptions } from '../bdev/index.js';
import { fanOut } from './raid-core.js';
import type { LegState, ResyncHost } from './mirror-resync.js';
import { LegJoin, writesWithCallback, type LegFailure, type LegJoinOwner } from './leg-join.js';
import { noHealthyLeg } from './no-healthy-leg.js';

/** What the change path needs from its mirror (MirrorBdev). */
export type MirrorWriteHost = Pick<
  ResyncHost,
  'name' | 'legs' | 'bitmap' | 'locks' | 'legIo' | 'legFailed'
> &
  Pick<Bdev, 'blockSize'>;

/** A span of bitmap regions, first..last inclusive. */
type RegionSpan = [first: number, last: number];

/** Write options handed to the legs, shared by every write rather than one object per write. */
const FUA: WriteOptions = Object.freeze({ fua: true });
const NO_FUA: WriteOptions = Object.freeze({ fua: false });

export class MirrorWriter implements LegJoinOwner {
  /**
   * `states` is the mirror's own per-leg state array, read in place (never written here) so
   * that every change sees the current states. `legTimeoutMs` is the mirror's leg deadline:
   * with one set, every write takes the general path, whose legIo bounds it.
   */
  constructor(
    private readonly host: MirrorWriteHost,
    private readonly states: readonly LegState[],
    private readonly legTimeoutMs: number,
  ) {}

  /**
   * Every leg live, no leg deadline and the regions free of resync: the write goes to every
   * leg with a counter-based join (LegJoin), its lock taken without a promise. Anything else
   * takes mutate(), the general path.
   */
  write(lba: number, data: Buffer, fua: boolean): Promise<void> {
    const { bitmap, legs, locks, blockSize } = this.host;
    const first = bitmap.regionOf(lba);
    const last = bitmap.regionOf(lba + Math.max(data.length / blockSize, 1) - 1);
    const opts = fua ? FUA : NO_FUA;
    if (!this.allLegsLive() || this.legTimeoutMs > 0 || !locks.tryAcquireShared(first, last)) {
      return this.mutate([[first, last]], 'write', (leg) => leg.write(lba, data, opts));
    }
    return new Promise<void>((resolve, reject) => {
      const n = legs.length;
      const join = new LegJoin(this, n, first, last, resolve, reject);
      for (let i = 0; i < n; i++) {
        const leg = legs[i];
        try {
          if (writesWithCallback(leg)) leg.writeWithCallback(lba, data, opts, join.doneOf(i));
          else leg.write(lba, data, opts).then(join.ok, join.failOf(i));
        } catch (err) {
          join.failOf(i)(err);
        }
      }
    });
  }

  // ---- LegJoinOwner: the end of a fast-path write -----------------------------------------

  joined(join: LegJoin): void {
    this.host.locks.releaseShared(join.first, join.last);
    join.resolve();
  }

  /**
   * As mutate() after its fan-out: failed legs become degraded and their regions are marked
   * (durably) before the answer; with every leg failed the first stays authoritative.
   */
  joinedWithErrors(join: LegJoin, failures: readonly LegFailure[]): void {
    for (const f of failures) this.host.legFailed(f.leg, f.error, 'write');
    const allFailed = failures.length === this.host.legs.length;
    const mark = (allFailed ? failures.slice(1) : failures).map((f) => f.leg);
    const marked =
      mark.length > 0 ? this.markSpans(mark, [[join.first, join.last]]) : Promise.resolve();
    void marked.then((markError) => {
      this.host.locks.releaseShared(join.first, join.last);
      if (allFailed) join.reject(failures[0].error);
      else if (markError) join.reject(markError);
      else join.resolve();
    });
  }

  // ---- the other changes ------------------------------------------------------------------

  writeZeroes(lba: number, blocks: number): Promise<void> {
    return this.mutate([this.spanOf(lba, blocks)], 'write zeroes', (leg) =>
      leg.writeZeroes(lba, blocks),
    );
  }

  deallocate(ranges: readonly LbaRange[]): Promise<void> {
    const spans = ranges.filter((r) => r.blocks > 0).map((r) => this.spanOf(r.lba, r.blocks));
    if (spans.length === 0) return Promise.resolve();
    return this.mutate(spans, 'deallocate', (leg) => leg.deallocate(ranges));
  }

  async flush(): Promise<void> {
    const targets = this.liveLegs();
    if (targets.length === 0) throw noHealthyLeg(this.host.name, 'flush');
    const results = await fanOut(targets, (leg) => this.host.legIo(leg, 'flush', (b) => b.flush()));
    const failed = results.filter((r) => !r.ok);
    for (const f of failed) this.host.legFailed(f.leg, f.error, 'flush');
    // Writes acknowledged by a leg whose flush failed may be lost there: copy it all back.
    for (const f of failed) await this.host.bitmap.markAll(f.leg);
    if (failed.length === results.length) throw (failed[0] as { error: unknown }).error;
  }

  /**
   * The common path of every change: hold the regions against resync, mark them for the legs
   * that will miss the change, send it to the others, mark for the legs that failed, and return
   * only once the marks are durable.
   */
  private async mutate(
    spans: readonly RegionSpan[],
    what: string,
    op: (leg: Bdev) => Promise<void>,
  ): Promise<void> {
    const lockFirst = Math.min(...spans.map((s) => s[0]));
    const lockLast = Math.max(...spans.map((s) => s[1]));
    const release = await this.host.locks.acquireShared(lockFirst, lockLast);
    const inflight: Promise<unknown>[] = [];
    try {
      const targets = this.liveLegs();
      if (targets.length === 0) throw noHealthyLeg(this.host.name, what);
      const missed = this.host.legs.map((_, i) => i).filter((i) => !targets.includes(i));
      // Started alongside the leg I/O; settled to a value so a failure is never unhandled.
      const marking = missed.length > 0 ? this.markSpans(missed, spans) : undefined;
      const results = await fanOut(targets, (leg) => this.host.legIo(leg, what, op, inflight));
      const failed = results.filter((r) => !r.ok).map((r) => r.leg);
      for (const r of results) if (!r.ok) this.host.legFailed(r.leg, r.error, what);
      // With every leg failed, the first stays authoritative for this unacknowledged change.
      const allFailed = failed.length === results.length;
      const markFailed = allFailed ? failed.slice(1) : failed;
      const markErrors = await Promise.all([
        marking,
        markFailed.length > 0 ? this.markSpans(markFailed, spans) : undefined,
      ]);
      if (allFailed) {
        const first = results.find((r) => !r.ok) as { error: unknown };
        throw first.error;
      }
      const markError = markErrors.find((e) => e !== undefined);
      if (markError) throw markError;
    } finally {
      // The regions stay held until every leg request has really ended, one we stopped waiting
      // for included, so that no late write lands after a resync copy of its region.
      void Promise.allSettled(inflight).then(release);
    }
  }

  /** Marks the spans for `legs`; resolves to the error instead of rejecting. */
  private markSpans(legs: readonly number[], spans: readonly RegionSpan[]): Promise<unknown> {
    const marks = spans.map(([first, last]) => this.host.bitmap.mark(legs, first, last));
    return Promise.all(marks).then(
      () => undefined,
      (err: unknown) => err,
    );
  }

  private spanOf(lba: number, blocks: number): RegionSpan {
    const { bitmap } = this.host;
    return [bitmap.regionOf(lba), bitmap.regionOf(lba + Math.max(blocks, 1) - 1)];
  }

  /** True when no leg is degraded (every leg takes changes). */
  private allLegsLive(): boolean {
    for (const s of this.states) if (s === 'degraded') return false;
    return true;
  }

  /** Legs that take changes: healthy and resyncing. */
  private liveLegs(): number[] {
    return this.host.legs.map((_, i) => i).filter((i) => this.states[i] !== 'degraded');
  }
}

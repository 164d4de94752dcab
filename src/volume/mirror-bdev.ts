/**
 * Mirroring, RAID-1 (SPDK module/bdev/raid/raid1.c, Linux md raid1 with a write-intent bitmap).
 *
 * - Writes, Write Zeroes and Deallocate go to every leg that is not degraded and complete when all
 *   of them have. A leg whose I/O fails becomes degraded; the request still succeeds when at least
 *   one leg took it. A request with no leg to go to fails (Namespace Not Ready, retryable).
 * - Every region a degraded (or just failed) leg misses is marked in the write-intent bitmap, and
 *   that mark is durable before the request is acknowledged, so a DPU restart still knows what to
 *   copy.
 * - Reads rotate over the healthy legs, one leg per event-loop turn: the reads issued in one turn
 *   go to the same leg and so leave in one batch on its connection (one send, one wake-up of one
 *   storage node) rather than one batch per leg; the next turn's go to the next leg. A failed
 *   read is retried on the next leg.
 * - A degraded leg is probed and resynced by mirror-resync.ts; a resyncing leg takes writes but
 *   serves no reads until every dirty region has been copied to it.
 * - A flush that fails on a leg leaves unknown writes volatile there: every region becomes dirty.
 *
 * Caveat (as md without a bitmap in that case): a write that fails on every leg is not
 * acknowledged and may have landed on some legs only; the first of them is taken as authoritative
 * and the region is marked dirty on the others.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import {
  BaseBdev,
  type Bdev,
  type BlockStatusExtent,
  type LbaRange,
  GenericStatus,
  NvmeStatusError,
  StatusCodeType,
  checkRange,
  type WriteOptions,
} from '../bdev/index.js';
import { checkLegs, fanOut, volumeLogger, withDeadline, type RaidOptions } from './raid-core.js';
import {
  MirrorResync,
  type LegState,
  type ResyncHost,
  type ResyncResult,
} from './mirror-resync.js';
import {
  LegJoin,
  readsWithCallback,
  writesWithCallback,
  type LegFailure,
  type LegJoinOwner,
} from './leg-join.js';
import { RegionLocks } from './region-locks.js';
import { WriteIntentBitmap } from './write-intent-bitmap.js';

export type { LegState, ResyncResult } from './mirror-resync.js';

/** Default region (bitmap granule): 1 MiB, md's usual bitmap chunk for volumes of this size. */
export const DEFAULT_REGION_BYTES = 1024 * 1024;
/** Default period of the probe of a degraded leg. */
export const DEFAULT_PROBE_INTERVAL_MS = 1000;

export interface MirrorBdevOptions extends RaidOptions {
  /** File holding the write-intent bitmap; without it the bitmap lives in memory only. */
  bitmapPath?: string;
  /** Blocks per bitmap region; default DEFAULT_REGION_BYTES worth. */
  regionBlocks?: number;
  /** Probe period of degraded legs; 0 disables probing (resync only on `resync()`). */
  probeIntervalMs?: number;
  /**
   * A leg that has not answered a request within this is treated as failed (degraded) and the
   * request completes on the others; 0 (default) waits for the leg's own error or timeout.
   */
  legTimeoutMs?: number;
}

export interface MirrorEvents {
  degraded: [{ leg: number; name: string; error: Error }];
  'resync-start': [{ leg: number; name: string; dirtyRegions: number }];
  'resync-done': [{ leg: number; name: string; copiedBlocks: number }];
}

export interface MirrorLegStatus {
  name: string;
  state: LegState;
  dirtyRegions: number;
}

/** A span of bitmap regions, first..last inclusive. */
type RegionSpan = [first: number, last: number];

/** Write options handed to the legs, shared by every write rather than one object per write. */
const FUA: WriteOptions = Object.freeze({ fua: true });
const NO_FUA: WriteOptions = Object.freeze({ fua: false });
/** The read fast path's first pick has tried no leg yet. */
const NONE_TRIED: ReadonlySet<number> = new Set();

export class MirrorBdev extends BaseBdev implements ResyncHost, LegJoinOwner {
  readonly legs: readonly Bdev[];
  readonly regionBlocks: number;
  readonly blockStatus?: (lba: number, blocks: number) => Promise<BlockStatusExtent[]>;
  readonly log: Logger;
  readonly locks = new RegionLocks();
  private readonly states: LegState[];
  private readonly events = new EventEmitter();
  private readonly resyncer: MirrorResync;
  private readonly closeLegs: boolean;
  private readonly legTimeoutMs: number;
  /** The leg this turn's reads start from; advanced once per event-loop turn that read. */
  private readLeg = 0;
  private readTurnScheduled = false;

  private constructor(
    opts: MirrorBdevOptions,
    blockSize: number,
    blockCount: number,
    readonly bitmap: WriteIntentBitmap,
  ) {
    super({ name: opts.name, blockSize, blockCount });
    this.legs = [...opts.legs];
    this.regionBlocks = bitmap.geometry.regionBlocks;
    this.closeLegs = opts.closeLegs ?? true;
    this.legTimeoutMs = opts.legTimeoutMs ?? 0;
    this.log = volumeLogger(opts.logger, opts.name, 'mirror');
    if (this.legs.every((l) => l.blockStatus)) {
      this.blockStatus = (lba, blocks) => this.statusFromHealthyLeg(lba, blocks);
    }
    // A leg with bits set missed writes before a restart: it starts degraded and is resynced.
    this.states = this.legs.map((_, i) => (bitmap.dirtyRegions(i) > 0 ? 'degraded' : 'healthy'));
    this.resyncer = new MirrorResync(this, opts.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS);
    this.log.info(
      {
        legs: this.legs.map((l) => l.name),
        states: this.states,
        blockCount,
        regionBlocks: this.regionBlocks,
      },
      'volume assembled',
    );
    if (!this.states.includes('healthy')) {
      this.log.error(
        { dirtyRegions: this.legs.map((_, i) => bitmap.dirtyRegions(i)) },
        'every leg missed writes: no leg holds all acknowledged data, the volume stays unavailable',
      );
    }
    if (this.states.includes('degraded')) this.resyncer.watch();
  }

  /** Assembles a mirror over `legs`, loading (or creating) its write-intent bitmap. */
  static async open(opts: MirrorBdevOptions): Promise<MirrorBdev> {
    const blockSize = checkLegs(opts.name, opts.legs, 2);
    const blockCount = Math.min(...opts.legs.map((l) => l.blockCount));
    const regionBlocks = opts.regionBlocks ?? Math.max(1, DEFAULT_REGION_BYTES / blockSize);
    if (!Number.isSafeInteger(regionBlocks) || regionBlocks < 1) {
      throw new RangeError(
        `${opts.name}: region size ${regionBlocks} blocks is not a positive whole number`,
      );
    }
    const geometry = { legCount: opts.legs.length, regionBlocks, blockSize, blockCount };
    const bitmap = opts.bitmapPath
      ? await WriteIntentBitmap.open(opts.bitmapPath, geometry)
      : WriteIntentBitmap.inMemory(geometry);
    return new MirrorBdev(opts, blockSize, blockCount, bitmap);
  }

  legState(leg: number): LegState {
    const s = this.states[leg];
    if (s === undefined) throw new RangeError(`${this.name} has no leg ${leg}`);
    return s;
  }

  legStatus(): MirrorLegStatus[] {
    return this.legs.map((l, i) => ({
      name: l.name,
      state: this.states[i],
      dirtyRegions: this.bitmap.dirtyRegions(i),
    }));
  }

  on<E extends keyof MirrorEvents>(event: E, listener: (...args: MirrorEvents[E]) => void): this {
    this.events.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<E extends keyof MirrorEvents>(event: E, listener: (...args: MirrorEvents[E]) => void): this {
    this.events.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<E extends keyof MirrorEvents>(event: E, listener: (...args: MirrorEvents[E]) => void): this {
    this.events.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Probes every degraded leg now and resyncs those that answer; joins a pass in progress. */
  resync(): Promise<ResyncResult> {
    return this.resyncer.run();
  }

  // ---- ResyncHost -------------------------------------------------------------------------

  setLegState(leg: number, state: LegState, why: string): void {
    const from = this.states[leg];
    if (from === state) return;
    this.states[leg] = state;
    this.log.info({ leg, legName: this.legs[leg].name, from, to: state, why }, 'leg state');
    if (state === 'resyncing') {
      this.events.emit('resync-start', {
        leg,
        name: this.legs[leg].name,
        dirtyRegions: this.bitmap.dirtyRegions(leg),
      });
    }
  }

  legFailed(leg: number, err: unknown, what: string): void {
    if (this.states[leg] === 'degraded') return;
    const error = err instanceof Error ? err : new Error(String(err));
    this.log.warn({ leg, legName: this.legs[leg].name, what, err: error.message }, 'leg failed');
    this.setLegState(leg, 'degraded', `${what} failed`);
    this.events.emit('degraded', { leg, name: this.legs[leg].name, error });
    this.resyncer.watch();
  }

  /**
   * Runs one request on a leg, bounded by legTimeoutMs. The unbounded request is pushed on
   * `inflight` when given, for callers that must hold ordering until it has really ended.
   */
  legIo<T>(
    leg: number,
    what: string,
    run: (bdev: Bdev) => Promise<T>,
    inflight?: Promise<unknown>[],
  ): Promise<T> {
    const p = run(this.legs[leg]);
    inflight?.push(p);
    return withDeadline(p, this.legTimeoutMs, `${this.legs[leg].name}: ${what}`);
  }

  resyncDone(leg: number, copiedBlocks: number): void {
    this.log.info({ leg, legName: this.legs[leg].name, copiedBlocks }, 'resync done');
    this.events.emit('resync-done', { leg, name: this.legs[leg].name, copiedBlocks });
  }

  // ---- block operations -------------------------------------------------------------------

  /**
   * The data path: one leg's read (through its callback form when it has one, so the caller's
   * promise is the only one), with a retry on the other healthy legs only once it has failed (no
   * per-read set of tried legs, no async state, until then).
   */
  protected readBlocks(lba: number, blocks: number): Promise<Buffer> {
    if (this.legTimeoutMs > 0) return this.readFrom(lba, blocks, new Set(), undefined);
    const leg = this.pickReadLeg(NONE_TRIED);
    if (leg < 0) return Promise.reject(this.noLeg('read'));
    const bdev = this.legs[leg];
    if (readsWithCallback(bdev)) {
      return new Promise<Buffer>((resolve, reject) => {
        bdev.readWithCallback(lba, blocks, (err, data) => {
          if (!err) return resolve(data!);
          this.legFailed(leg, err, 'read');
          this.readFrom(lba, blocks, new Set([leg]), err).then(resolve, reject);
        });
      });
    }
    return bdev.read(lba, blocks).catch((err: unknown) => {
      this.legFailed(leg, err, 'read');
      return this.readFrom(lba, blocks, new Set([leg]), err);
    });
  }

  /** Reads from the healthy legs not in `tried`, one after another, until one answers. */
  private async readFrom(
    lba: number,
    blocks: number,
    tried: Set<number>,
    lastError: unknown,
  ): Promise<Buffer> {
    for (;;) {
      const leg = this.pickReadLeg(tried);
      if (leg < 0) throw lastError ?? this.noLeg('read');
      tried.add(leg);
      try {
        return await this.legIo(leg, 'read', (b) => b.read(lba, blocks));
      } catch (err) {
        lastError = err;
        this.legFailed(leg, err, 'read');
      }
    }
  }

  /**
   * Every leg live, no leg deadline and the regions free of resync: the write goes to every
   * leg with a counter-based join (LegJoin), its lock taken without a promise. Anything else
   * takes mutate(), the general path.
   */
  protected writeBlocks(lba: number, data: Buffer, fua: boolean): Promise<void> {
    const first = this.bitmap.regionOf(lba);
    const last = this.bitmap.regionOf(lba + Math.max(data.length / this.blockSize, 1) - 1);
    const opts = fua ? FUA : NO_FUA;
    if (!this.allLegsLive() || this.legTimeoutMs > 0 || !this.locks.tryAcquireShared(first, last)) {
      return this.mutate([[first, last]], 'write', (leg) => leg.write(lba, data, opts));
    }
    return new Promise<void>((resolve, reject) => {
      const n = this.legs.length;
      const join = new LegJoin(this, n, first, last, resolve, reject);
      for (let i = 0; i < n; i++) {
        const leg = this.legs[i];
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
    this.locks.releaseShared(join.first, join.last);
    join.resolve();
  }

  /**
   * As mutate() after its fan-out: failed legs become degraded and their regions are marked
   * (durably) before the answer; with every leg failed the first stays authoritative.
   */
  joinedWithErrors(join: LegJoin, failures: readonly LegFailure[]): void {
    for (const f of failures) this.legFailed(f.leg, f.error, 'write');
    const allFailed = failures.length === this.legs.length;
    const mark = (allFailed ? failures.slice(1) : failures).map((f) => f.leg);
    const marked =
      mark.length > 0 ? this.markSpans(mark, [[join.first, join.last]]) : Promise.resolve();
    void marked.then((markError) => {
      this.locks.releaseShared(join.first, join.last);
      if (allFailed) join.reject(failures[0].error);
      else if (markError) join.reject(markError);
      else join.resolve();
    });
  }

  protected zeroBlocks(lba: number, blocks: number): Promise<void> {
    return this.mutate([this.spanOf(lba, blocks)], 'write zeroes', (leg) =>
      leg.writeZeroes(lba, blocks),
    );
  }

  protected deallocateRanges(ranges: readonly LbaRange[]): Promise<void> {
    const spans = ranges.filter((r) => r.blocks > 0).map((r) => this.spanOf(r.lba, r.blocks));
    if (spans.length === 0) return Promise.resolve();
    return this.mutate(spans, 'deallocate', (leg) => leg.deallocate(ranges));
  }

  protected async flushAll(): Promise<void> {
    const targets = this.liveLegs();
    if (targets.length === 0) throw this.noLeg('flush');
    const results = await fanOut(targets, (leg) => this.legIo(leg, 'flush', (b) => b.flush()));
    const failed = results.filter((r) => !r.ok);
    for (const f of failed) this.legFailed(f.leg, f.error, 'flush');
    // Writes acknowledged by a leg whose flush failed may be lost there: copy it all back.
    for (const f of failed) await this.bitmap.markAll(f.leg);
    if (failed.length === results.length) throw (failed[0] as { error: unknown }).error;
  }

  protected async closeBdev(): Promise<void> {
    await this.resyncer.stop();
    try {
      await this.bitmap.close();
    } finally {
      if (this.closeLegs) await Promise.allSettled(this.legs.map((l) => l.close()));
      this.log.info('volume closed');
    }
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
    const release = await this.locks.acquireShared(lockFirst, lockLast);
    const inflight: Promise<unknown>[] = [];
    try {
      const targets = this.liveLegs();
      if (targets.length === 0) throw this.noLeg(what);
      const missed = this.legs.map((_, i) => i).filter((i) => !targets.includes(i));
      // Started alongside the leg I/O; settled to a value so a failure is never unhandled.
      const marking = missed.length > 0 ? this.markSpans(missed, spans) : undefined;
      const results = await fanOut(targets, (leg) => this.legIo(leg, what, op, inflight));
      const failed = results.filter((r) => !r.ok).map((r) => r.leg);
      for (const r of results) if (!r.ok) this.legFailed(r.leg, r.error, what);
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
    const marks = spans.map(([first, last]) => this.bitmap.mark(legs, first, last));
    return Promise.all(marks).then(
      () => undefined,
      (err: unknown) => err,
    );
  }

  private spanOf(lba: number, blocks: number): RegionSpan {
    return [this.bitmap.regionOf(lba), this.bitmap.regionOf(lba + Math.max(blocks, 1) - 1)];
  }

  /** True when no leg is degraded (every leg takes changes). */
  private allLegsLive(): boolean {
    for (const s of this.states) if (s === 'degraded') return false;
    return true;
  }

  /** Legs that take changes: healthy and resyncing. */
  private liveLegs(): number[] {
    return this.legs.map((_, i) => i).filter((i) => this.states[i] !== 'degraded');
  }

  /**
   * The first healthy leg from this turn's read leg on that this request has not tried yet, or
   * -1. The rotation moves on once per turn (setImmediate runs after the turn's I/O callbacks,
   * where the transports flush their batches), so a turn's reads share one leg.
   */
  private pickReadLeg(tried: ReadonlySet<number>): number {
    const n = this.legs.length;
    for (let k = 0; k < n; k++) {
      const leg = (this.readLeg + k) % n;
      if (this.states[leg] === 'healthy' && !tried.has(leg)) {
        if (!this.readTurnScheduled) {
          this.readTurnScheduled = true;
          setImmediate(this.nextReadTurn, leg);
        }
        return leg;
      }
    }
    return -1;
  }

  private readonly nextReadTurn = (leg: number): void => {
    this.readTurnScheduled = false;
    this.readLeg = (leg + 1) % this.legs.length;
  };

  /** Namespace Not Ready with DNR clear (NVM CS 1.0, Figure 15): a leg may come back. */
  private noLeg(what: string): NvmeStatusError {
    return new NvmeStatusError(
      StatusCodeType.Generic,
      GenericStatus.NamespaceNotReady,
      `${this.name}: ${what} has no healthy leg to go to`,
      false,
    );
  }

  private async statusFromHealthyLeg(lba: number, blocks: number): Promise<BlockStatusExtent[]> {
    return this.run('block status', async () => {
      checkRange(this, lba, blocks);
      return this.queryHealthyLeg((leg) => leg.blockStatus!(lba, blocks), 'block status');
    });
  }

  /** Runs a read-only query on healthy legs in order until one answers. */
  private async queryHealthyLeg<T>(query: (leg: Bdev) => Promise<T>, what: string): Promise<T> {
    let lastError: unknown;
    for (let leg = 0; leg < this.legs.length; leg++) {
      if (this.states[leg] !== 'healthy') continue;
      try {
        return await this.legIo(leg, what, query);
      } catch (err) {
        lastError = err;
        this.legFailed(leg, err, what);
      }
    }
    throw lastError ?? this.noLeg(what);
  }
}

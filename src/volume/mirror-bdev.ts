/**
 * Mirroring, RAID-1 (SPDK module/bdev/raid/raid1.c, Linux md raid1 with a write-intent bitmap):
 * the volume itself, its legs' states and its events. Each path has its own file:
 *
 * - mirror-writer.ts: Writes, Write Zeroes, Deallocate and Flush go to every leg that is not
 *   degraded; the regions a leg misses are marked durably in the write-intent bitmap before the
 *   request is acknowledged.
 * - mirror-reader.ts: reads rotate over the healthy legs, one leg per event-loop turn, and a
 *   failed read is retried on the next leg.
 * - mirror-resync.ts: a degraded leg is probed and resynced; a resyncing leg takes writes but
 *   serves no reads until every dirty region has been copied to it.
 *
 * A leg whose I/O fails becomes degraded (legFailed). A leg with bits set in the bitmap when the
 * volume is assembled missed writes before a restart: it starts degraded and is resynced.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import {
  BaseBdev,
  type Bdev,
  type BlockStatusExtent,
  type LbaRange,
  checkRange,
} from '../bdev/index.js';
import { checkLegs, volumeLogger, withDeadline, type RaidOptions } from './raid-core.js';
import {
  MirrorResync,
  type LegState,
  type ResyncHost,
  type ResyncResult,
} from './mirror-resync.js';
import { MirrorReader } from './mirror-reader.js';
import { MirrorWriter } from './mirror-writer.js';
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

export class MirrorBdev extends BaseBdev implements ResyncHost {
  readonly legs: readonly Bdev[];
  readonly regionBlocks: number;
  readonly blockStatus?: (lba: number, blocks: number) => Promise<BlockStatusExtent[]>;
  readonly log: Logger;
  readonly locks = new RegionLocks();
  private readonly states: LegState[];
  private readonly events = new EventEmitter();
  private readonly resyncer: MirrorResync;
  private readonly reader: MirrorReader;
  private readonly writer: MirrorWriter;
  private readonly closeLegs: boolean;
  private readonly legTimeoutMs: number;

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
    this.reader = new MirrorReader(this, this.states, this.legTimeoutMs);
    this.writer = new MirrorWriter(this, this.states, this.legTimeoutMs);
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

  // ---- block operations: reads in mirror-reader.ts, changes in mirror-writer.ts ------------

  protected readBlocks(lba: number, blocks: number): Promise<Buffer> {
    return this.reader.read(lba, blocks);
  }

  protected writeBlocks(lba: number, data: Buffer, fua: boolean): Promise<void> {
    return this.writer.write(lba, data, fua);
  }

  protected zeroBlocks(lba: number, blocks: number): Promise<void> {
    return this.writer.writeZeroes(lba, blocks);
  }

  protected deallocateRanges(ranges: readonly LbaRange[]): Promise<void> {
    return this.writer.deallocate(ranges);
  }

  protected flushAll(): Promise<void> {
    return this.writer.flush();
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

  private async statusFromHealthyLeg(lba: number, blocks: number): Promise<BlockStatusExtent[]> {
    return this.run('block status', async () => {
      checkRange(this, lba, blocks);
      return this.reader.queryHealthyLeg((leg) => leg.blockStatus!(lba, blocks), 'block status');
    });
  }
}

/**
 * Bringing a mirror leg back (md's bitmap-based recovery): a degraded leg is probed with a cheap
 * one-block read; when it answers, each region its write-intent bits mark is copied from a healthy
 * leg under that region's exclusive lock (region-locks.ts), the bit is cleared, and when none is
 * left the leg is healthy again. Writes go on meanwhile and reach the resyncing leg too, so only
 * the regions written while it was away are copied.
 */
import type { Logger } from 'pino';
import type { Bdev, BlockStatusExtent, LbaRange } from '../bdev/index.js';
import type { RegionLocks } from './region-locks.js';
import type { WriteIntentBitmap } from './write-intent-bitmap.js';

export type LegState = 'healthy' | 'degraded' | 'resyncing';

export interface ResyncResult {
  copiedBlocks: number;
}

/** What resync needs from its mirror. */
export interface ResyncHost {
  readonly name: string;
  readonly legs: readonly Bdev[];
  readonly blockCount: number;
  readonly regionBlocks: number;
  readonly bitmap: WriteIntentBitmap;
  readonly locks: RegionLocks;
  readonly log: Logger;
  legState(leg: number): LegState;
  setLegState(leg: number, state: LegState, why: string): void;
  /** One request on a leg, bounded by the mirror's leg timeout (see MirrorBdev.legIo). */
  legIo<T>(
    leg: number,
    what: string,
    run: (bdev: Bdev) => Promise<T>,
    inflight?: Promise<unknown>[],
  ): Promise<T>;
  /** A leg's I/O failed: it becomes degraded. */
  legFailed(leg: number, err: unknown, what: string): void;
  resyncDone(leg: number, copiedBlocks: number): void;
}

/** The probe reads one block at LBA 0: cheap, and any live namespace has it. */
const PROBE_LBA = 0;
const PROBE_BLOCKS = 1;

/** Thrown inside a leg's resync to stop it; never escapes this file. */
class ResyncAborted extends Error {}

export class MirrorResync {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ResyncResult> | undefined;
  private stopped = false;

  constructor(
    private readonly host: ResyncHost,
    private readonly probeIntervalMs: number,
  ) {}

  /** Starts the periodic probe when a leg is degraded (and probing is enabled). */
  watch(): void {
    if (this.stopped || this.probeIntervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      this.run().catch((err: unknown) =>
        this.host.log.error({ err: (err as Error).message }, 'resync pass failed'),
      );
    }, this.probeIntervalMs);
    // A probe timer alone must not keep the process alive.
    this.timer.unref();
  }

  /** One pass over the degraded legs: probe each, resync those that answer. Joins a pass in progress. */
  run(): Promise<ResyncResult> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private async pass(): Promise<ResyncResult> {
    const h = this.host;
    let copiedBlocks = 0;
    for (let leg = 0; leg < h.legs.length && !this.stopped; leg++) {
      if (h.legState(leg) !== 'degraded' || !(await this.probe(leg))) continue;
      copiedBlocks += await this.resyncLeg(leg);
    }
    if (h.legs.every((_, leg) => h.legState(leg) === 'healthy') && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    return { copiedBlocks };
  }

  private async probe(leg: number): Promise<boolean> {
    try {
      await this.host.legIo(leg, 'probe', (b) => b.read(PROBE_LBA, PROBE_BLOCKS));
      return true;
    } catch (err) {
      this.host.log.debug({ leg, err: (err as Error).message }, 'degraded leg still not answering');
      return false;
    }
  }

  private healthySource(except: number): number {
    const h = this.host;
    return h.legs.findIndex((_, i) => i !== except && h.legState(i) === 'healthy');
  }

  /** Resyncs one answering leg; returns the blocks copied to it. */
  private async resyncLeg(leg: number): Promise<number> {
    const h = this.host;
    if (this.healthySource(leg) < 0) {
      // No copy to take: a leg that missed no acknowledged write holds the newest data.
      if (h.bitmap.dirtyRegions(leg) === 0) {
        h.setLegState(leg, 'healthy', 'answers and missed no write; no healthy leg to copy from');
        h.resyncDone(leg, 0);
      } else {
        h.log.error(
          { leg, dirtyRegions: h.bitmap.dirtyRegions(leg) },
          'leg answers but missed writes and no healthy leg holds them',
        );
      }
      return 0;
    }
    h.setLegState(leg, 'resyncing', 'answers again');
    let copied = 0;
    try {
      // Writes now reach this leg, so no bit appears behind the cursor unless the leg fails
      // again (which stops the copy); the outer loop only guards against leaving one behind.
      while (h.bitmap.dirtyRegions(leg) > 0) {
        for (let r = h.bitmap.nextDirty(leg); r >= 0; r = h.bitmap.nextDirty(leg, r)) {
          copied += await this.copyRegion(leg, r);
        }
      }
      await h.bitmap.persist();
    } catch (err) {
      if (!(err instanceof ResyncAborted)) throw err;
      h.log.warn({ leg, copiedBlocks: copied, why: err.message }, 'resync stopped');
      if (h.legState(leg) === 'resyncing') h.setLegState(leg, 'degraded', err.message);
      await h.bitmap.persist().catch(() => undefined);
      return copied;
    }
    if (h.legState(leg) === 'resyncing' && h.bitmap.dirtyRegions(leg) === 0) {
      h.setLegState(leg, 'healthy', 'resync done');
      h.resyncDone(leg, copied);
    }
    return copied;
  }

  /** Copies region `r` to `leg` from a healthy leg, holes as deallocations; returns its blocks. */
  private async copyRegion(leg: number, r: number): Promise<number> {
    const h = this.host;
    const release = await h.locks.acquireExclusive(r);
    const inflight: Promise<unknown>[] = [];
    try {
      if (this.stopped) throw new ResyncAborted('mirror closing');
      if (h.legState(leg) !== 'resyncing') throw new ResyncAborted('leg failed during resync');
      const first = r * h.regionBlocks;
      const blocks = Math.min(h.regionBlocks, h.blockCount - first);
      const { data, extents } = await this.readSource(leg, first, blocks);
      const bs = h.legs[leg].blockSize;
      try {
        const holes: LbaRange[] = [];
        let at = 0;
        for (const e of extents) {
          const piece = data.subarray(at * bs, (at + e.blocks) * bs);
          if (e.state === 'hole') holes.push({ lba: first + at, blocks: e.blocks });
          else {
            await h.legIo(
              leg,
              'resync write',
              (b) => b.write(first + at, piece, { fua: true }),
              inflight,
            );
          }
          at += e.blocks;
        }
        if (holes.length > 0) {
          await h.legIo(leg, 'resync deallocate', (b) => b.deallocate(holes), inflight);
        }
      } catch (err) {
        h.legFailed(leg, err, 'resync write');
        throw new ResyncAborted(`leg failed during resync: ${(err as Error).message}`);
      }
      h.bitmap.clear(leg, r);
      return blocks;
    } finally {
      // Held until a copy we stopped waiting for has really ended: a write after it must win.
      void Promise.allSettled(inflight).then(release);
    }
  }

  /**
   * Reads a region from some healthy leg, falling back to the next when one fails, with its
   * allocation map when the source keeps one (holes are copied as deallocations, keeping the
   * returning leg thin), else as one data extent.
   */
  private async readSource(
    leg: number,
    first: number,
    blocks: number,
  ): Promise<{ data: Buffer; extents: BlockStatusExtent[] }> {
    const h = this.host;
    for (;;) {
      const src = this.healthySource(leg);
      if (src < 0) throw new ResyncAborted('no healthy leg to copy from');
      const source = h.legs[src];
      try {
        const data = await h.legIo(src, 'resync read', (b) => b.read(first, blocks));
        const extents = source.blockStatus
          ? await h.legIo(src, 'resync map', (b) => b.blockStatus!(first, blocks))
          : [{ state: 'data' as const, blocks }];
        return { data, extents };
      } catch (err) {
        h.legFailed(src, err, 'resync read');
      }
    }
  }
}

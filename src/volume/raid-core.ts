/**
 * The RAID core every layout shares (SPDK module/bdev/raid/bdev_raid.c): leg validation, cutting
 * an LBA range into per-leg segments by a layout's map, fanning the pieces out, and gathering the
 * results back into request order. Layout files (concat, stripe) only say where a block lives;
 * mirror uses the validation and fan-out helpers over whole ranges.
 */
import pino, { type Logger } from 'pino';
import {
  BaseBdev,
  type Bdev,
  type BlockStatusExtent,
  type LbaRange,
  NvmeStatusError,
  PathStatus,
  StatusCodeType,
  checkRange,
} from '../bdev/index.js';

/** One piece of a volume request: `blocks` blocks at `legLba` of leg `leg`. */
export interface LegSegment {
  leg: number;
  legLba: number;
  blocks: number;
  /** Block offset of this piece within the volume request. */
  offset: number;
}

export interface RaidOptions {
  name: string;
  legs: readonly Bdev[];
  logger?: Logger;
  /** close() closes the legs too (default true: a volume owns the bdevs it is built on). */
  closeLegs?: boolean;
}

/** Checks legs once at construction: at least `min`, one block size; returns that block size. */
export function checkLegs(name: string, legs: readonly Bdev[], min: number): number {
  if (legs.length < min) {
    throw new RangeError(`${name}: needs at least ${min} legs, got ${legs.length}`);
  }
  const blockSize = legs[0].blockSize;
  const odd = legs.find((l) => l.blockSize !== blockSize);
  if (odd) {
    throw new RangeError(
      `${name}: leg ${odd.name} has ${odd.blockSize}-byte blocks but ${legs[0].name} has ${blockSize}; all legs must share one block size`,
    );
  }
  return blockSize;
}

/** Outcome of one leg's part of a fan-out. */
export type LegResult<T> =
  { leg: number; ok: true; value: T } | { leg: number; ok: false; error: unknown };

/** Runs `op` on each listed leg at once and waits for all of them, failures included. */
export async function fanOut<T>(
  legs: readonly number[],
  op: (leg: number) => Promise<T>,
): Promise<LegResult<T>[]> {
  return Promise.all(
    legs.map((leg) =>
      op(leg).then(
        (value): LegResult<T> => ({ leg, ok: true, value }),
        (error: unknown): LegResult<T> => ({ leg, ok: false, error }),
      ),
    ),
  );
}

/**
 * Gives up waiting for `p` after `ms` (0: waits as long as it takes) with a retryable Internal
 * Path Error (NVMe Base 2.0, Figure 105): the leg is treated as failed. `p` itself runs on; a
 * caller that must not be overtaken by it (a late write) keeps waiting on `p` for its ordering.
 */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  if (ms <= 0) return p;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new NvmeStatusError(
            StatusCodeType.PathRelated,
            PathStatus.InternalPathError,
            `${what}: no answer within ${ms} ms`,
            false,
          ),
        ),
      ms,
    );
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Joins read pieces already in request order; a single piece is handed on without a copy. */
export function gather(pieces: readonly Buffer[]): Buffer {
  return pieces.length === 1 ? pieces[0] : Buffer.concat(pieces);
}

/** Appends extents, merging a run that continues the previous extent's state. */
export function appendExtents(into: BlockStatusExtent[], more: readonly BlockStatusExtent[]): void {
  for (const e of more) {
    if (e.blocks === 0) continue;
    const last = into[into.length - 1];
    if (last && last.state === e.state) last.blocks += e.blocks;
    else into.push({ ...e });
  }
}

export function volumeLogger(logger: Logger | undefined, name: string, layout: string): Logger {
  return (logger ?? pino({ level: 'silent' })).child({ volume: name, layout });
}

/**
 * A volume whose blocks each live on exactly one leg (concat, stripe). A leg failure fails the
 * request: these layouts hold one copy, so there is nothing to fall back on.
 */
export abstract class SegmentedRaidBdev extends BaseBdev {
  readonly legs: readonly Bdev[];
  /** Present when every leg can report its allocation map. */
  readonly blockStatus?: (lba: number, blocks: number) => Promise<BlockStatusExtent[]>;
  protected readonly log: Logger;
  private readonly closeLegs: boolean;

  protected constructor(opts: RaidOptions, blockSize: number, blockCount: number, layout: string) {
    super({ name: opts.name, blockSize, blockCount });
    this.legs = [...opts.legs];
    this.closeLegs = opts.closeLegs ?? true;
    this.log = volumeLogger(opts.logger, opts.name, layout);
    if (this.legs.every((l) => l.blockStatus)) {
      this.blockStatus = (lba, blocks) => this.segmentStatus(lba, blocks);
    }
    this.log.info({ legs: this.legs.map((l) => l.name), blockCount }, 'volume assembled');
  }

  /** Where the blocks [lba, lba+blocks) of the volume live, in request order. */
  abstract map(lba: number, blocks: number): LegSegment[];

  protected async readBlocks(lba: number, blocks: number): Promise<Buffer> {
    const segs = this.map(lba, blocks);
    const pieces = await Promise.all(segs.map((s) => this.legs[s.leg].read(s.legLba, s.blocks)));
    return gather(pieces);
  }

  protected async writeBlocks(lba: number, data: Buffer, fua: boolean): Promise<void> {
    const bs = this.blockSize;
    const segs = this.map(lba, data.length / bs);
    await this.settleAll(
      segs.map((s) =>
        this.legs[s.leg].write(s.legLba, data.subarray(s.offset * bs, (s.offset + s.blocks) * bs), {
          fua,
        }),
      ),
    );
  }

  protected async flushAll(): Promise<void> {
    await this.settleAll(this.legs.map((l) => l.flush()));
  }

  protected async zeroBlocks(lba: number, blocks: number): Promise<void> {
    const segs = this.map(lba, blocks);
    await this.settleAll(segs.map((s) => this.legs[s.leg].writeZeroes(s.legLba, s.blocks)));
  }

  /** Each leg gets one deallocate carrying all of its pieces. */
  protected async deallocateRanges(ranges: readonly LbaRange[]): Promise<void> {
    const perLeg = this.legs.map((): LbaRange[] => []);
    for (const r of ranges) {
      for (const s of this.map(r.lba, r.blocks))
        perLeg[s.leg].push({ lba: s.legLba, blocks: s.blocks });
    }
    await this.settleAll(
      perLeg.flatMap((legRanges, leg) =>
        legRanges.length > 0 ? [this.legs[leg].deallocate(legRanges)] : [],
      ),
    );
  }

  protected async closeBdev(): Promise<void> {
    if (this.closeLegs) await this.settleAll(this.legs.map((l) => l.close()));
    this.log.info('volume closed');
  }

  private async segmentStatus(lba: number, blocks: number): Promise<BlockStatusExtent[]> {
    return this.run('block status', async () => {
      checkRange(this, lba, blocks);
      const segs = this.map(lba, blocks);
      const parts = await Promise.all(
        segs.map((s) => this.legs[s.leg].blockStatus!(s.legLba, s.blocks)),
      );
      const out: BlockStatusExtent[] = [];
      for (const p of parts) appendExtents(out, p);
      return out;
    });
  }

  /**
   * Waits for every piece (none is left running behind the caller's back), then fails with the
   * first leg error, logged with the leg it came from.
   */
  private async settleAll(ops: readonly Promise<unknown>[]): Promise<void> {
    const results = await Promise.allSettled(ops);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      this.log.warn({ err: (failed.reason as Error).message }, 'leg I/O failed');
      throw failed.reason;
    }
  }
}

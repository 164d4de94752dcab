/**
 * Concatenation (SPDK raid "concat", device-mapper linear tables): the legs one after another,
 * capacity the sum of theirs. Block `lba` lives on the leg whose span holds it.
 */
import { SegmentedRaidBdev, checkLegs, type LegSegment, type RaidOptions } from './raid-core.js';

export type ConcatBdevOptions = RaidOptions;

export class ConcatBdev extends SegmentedRaidBdev {
  /** starts[i] = first volume LBA of leg i; starts[legs] = capacity. */
  private readonly starts: number[];

  constructor(opts: ConcatBdevOptions) {
    const blockSize = checkLegs(opts.name, opts.legs, 1);
    const starts = [0];
    for (const leg of opts.legs) starts.push(starts[starts.length - 1] + leg.blockCount);
    super(opts, blockSize, starts[starts.length - 1], 'concat');
    this.starts = starts;
  }

  map(lba: number, blocks: number): LegSegment[] {
    const segs: LegSegment[] = [];
    let leg = this.legAt(lba);
    let done = 0;
    while (done < blocks) {
      const at = lba + done;
      while (at >= this.starts[leg + 1]) leg++;
      const n = Math.min(blocks - done, this.starts[leg + 1] - at);
      segs.push({ leg, legLba: at - this.starts[leg], blocks: n, offset: done });
      done += n;
    }
    return segs;
  }

  /** Binary search for the leg whose span holds `lba`. */
  private legAt(lba: number): number {
    let lo = 0;
    let hi = this.legs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= lba) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/**
 * Striping, RAID-0 (SPDK module/bdev/raid/raid0.c): the volume is cut into stripe units of
 * `stripeBlocks` blocks dealt round-robin over the legs, so unit u lives on leg u mod N at unit
 * floor(u / N) of that leg. Every leg contributes the same whole number of units, as many as the
 * smallest leg holds; capacity is that times the number of legs.
 */
import { SegmentedRaidBdev, checkLegs, type LegSegment, type RaidOptions } from './raid-core.js';

export interface StripeBdevOptions extends RaidOptions {
  /** Stripe unit (SPDK "strip size") in blocks. */
  stripeBlocks: number;
}

export class StripeBdev extends SegmentedRaidBdev {
  readonly stripeBlocks: number;

  constructor(opts: StripeBdevOptions) {
    const blockSize = checkLegs(opts.name, opts.legs, 1);
    const unit = opts.stripeBlocks;
    if (!Number.isSafeInteger(unit) || unit < 1) {
      throw new RangeError(
        `${opts.name}: stripe size ${unit} blocks is not a positive whole number`,
      );
    }
    const unitsPerLeg = Math.floor(Math.min(...opts.legs.map((l) => l.blockCount)) / unit);
    if (unitsPerLeg === 0) {
      throw new RangeError(
        `${opts.name}: the smallest leg is shorter than one ${unit}-block stripe unit`,
      );
    }
    super(opts, blockSize, unitsPerLeg * unit * opts.legs.length, 'stripe');
    this.stripeBlocks = unit;
  }

  map(lba: number, blocks: number): LegSegment[] {
    const n = this.legs.length;
    const segs: LegSegment[] = [];
    let done = 0;
    while (done < blocks) {
      const at = lba + done;
      const unit = Math.floor(at / this.stripeBlocks);
      const within = at % this.stripeBlocks;
      const count = Math.min(blocks - done, this.stripeBlocks - within);
      segs.push({
        leg: unit % n,
        legLba: Math.floor(unit / n) * this.stripeBlocks + within,
        blocks: count,
        offset: done,
      });
      done += count;
    }
    return segs;
  }
}

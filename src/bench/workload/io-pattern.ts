/**
 * The sequence of I/Os a job issues: direction (rw, rwmixread), length (bs/bsrange/bssplit) and
 * offset (sequential per direction, or random through a distribution and fio's random map), until
 * the job's I/O budget (size) is spent. Deterministic for a given job, as fio's randrepeat=1
 * default makes it, so verify_only replays exactly the offsets and seeds a write run used.
 */
import { BenchUsageError } from '../errors.js';
import { maxBlockSize, minBlockSize, type BlockSizeSpec } from '../options/block-size-spec.js';
import {
  DDIRS,
  READ,
  WRITE,
  hasReads,
  hasWrites,
  type Ddir,
  type JobSpec,
} from '../options/job-spec.js';
import { createDistribution, type OffsetDistribution } from './distributions.js';
import { Prng, streamSeed } from './prng.js';
import { RandomMap } from './random-map.js';

export interface IoUnit {
  ddir: Ddir;
  /** Byte offset on the device. */
  offset: number;
  length: number;
  /** fio's per-I/O verify seed (verify_header.rand_seed), drawn in issue order. */
  seedLo: number;
  seedHi: number;
}

/** The byte range of the device a job works on. */
export interface Region {
  start: number;
  size: number;
}

/** Independent PRNG streams of one job. */
const STREAM_DIRECTION = 0;
const STREAM_BLOCK_SIZE = 1;
const STREAM_OFFSET = 2;
const STREAM_VERIFY_SEED = 3;
const PERCENT = 100;

class BlockSizePicker {
  private readonly cumulative: number[] = [];

  constructor(
    private readonly spec: BlockSizeSpec,
    private readonly prng: Prng,
  ) {
    if (spec.kind === 'split') {
      let sum = 0;
      for (const e of spec.entries) this.cumulative.push((sum += e.percent));
    }
  }

  next(): number {
    const s = this.spec;
    switch (s.kind) {
      case 'fixed':
        return s.size;
      case 'range': {
        // Uniform over the multiples of the minimum in [min, max] (fio aligns buflen to min bs).
        const steps = Math.floor((s.max - s.min) / s.min) + 1;
        return s.min * (1 + this.prng.below(steps));
      }
      case 'split': {
        const r = this.prng.nextFloat() * this.cumulative[this.cumulative.length - 1];
        const i = this.cumulative.findIndex((c) => r < c);
        return s.entries[i < 0 ? s.entries.length - 1 : i].size;
      }
    }
  }
}

export class IoPattern {
  /** Bytes of I/O left in this pass; Infinity when time based. */
  private budget: number;
  private readonly seq: [number, number] = [0, 0];
  private readonly dirPrng: Prng;
  private readonly offPrng: Prng;
  private readonly seedPrng: Prng;
  private readonly sizes: [BlockSizePicker, BlockSizePicker];
  private readonly dist: OffsetDistribution | undefined;
  private readonly map: RandomMap | undefined;
  /** Granularity of random offsets and of the random map: the smallest block size in use. */
  readonly minBs: number;
  readonly maxBs: number;
  readonly nranges: number;

  constructor(
    private readonly job: JobSpec,
    private readonly region: Region,
    deviceBlockSize: number,
  ) {
    const seed = job.number;
    this.dirPrng = new Prng(streamSeed(seed, STREAM_DIRECTION));
    this.offPrng = new Prng(streamSeed(seed, STREAM_OFFSET));
    this.seedPrng = new Prng(streamSeed(seed, STREAM_VERIFY_SEED));
    const bsPrng = new Prng(streamSeed(seed, STREAM_BLOCK_SIZE));
    this.sizes = [
      new BlockSizePicker(job.bs[READ], bsPrng),
      new BlockSizePicker(job.bs[WRITE], bsPrng),
    ];
    const used = DDIRS.filter((d) => (d === READ ? hasReads(job) : hasWrites(job)));
    this.minBs = Math.min(...used.map((d) => minBlockSize(job.bs[d])));
    this.maxBs = Math.max(...used.map((d) => maxBlockSize(job.bs[d])));
    checkAlignment(job, region, deviceBlockSize, used);
    if (region.size < this.maxBs) {
      throw new BenchUsageError(
        `job "${job.name}": the region of ${region.size} bytes is smaller than the block size ${this.maxBs}`,
      );
    }
    this.nranges = Math.floor(region.size / this.minBs);
    if (job.random) {
      this.dist = createDistribution(job.distribution, this.nranges, this.offPrng);
      // fio disables the random map for non-uniform distributions (HOWTO random_distribution).
      if (!job.norandommap && job.distribution.kind === 'random')
        this.map = new RandomMap(this.nranges);
    }
    this.budget = job.timeBased ? Infinity : region.size;
  }

  /** Starts a new pass over the region with a fresh budget (time-based wrap or a new phase). */
  restart(): void {
    this.budget = this.job.timeBased ? Infinity : this.region.size;
    this.seq[READ] = 0;
    this.seq[WRITE] = 0;
    this.map?.reset();
  }

  /**
   * The next I/O, or undefined when this pass's budget is spent. Written into `reuse` when given
   * (a queue slot's own unit, so that an I/O allocates no object), else a new object. Its
   * direction is `ddir` when given (drawn by direction() and then changed by rate_iops' pacing,
   * RateGate), else drawn here.
   */
  next(reuse?: IoUnit, ddir: Ddir = this.direction()): IoUnit | undefined {
    if (this.budget <= 0) return undefined;
    let length = this.sizes[ddir].next();
    if (length > this.budget) {
      length = Math.floor(this.budget / this.minBs) * this.minBs;
      if (length === 0) {
        this.budget = 0;
        return undefined;
      }
    }
    const rel = this.job.random ? this.randomOffset(length) : this.sequentialOffset(ddir, length);
    if (rel < 0) {
      this.budget = 0;
      return undefined;
    }
    this.budget -= length;
    const offset = this.region.start + rel;
    const seedLo = this.seedPrng.nextU32();
    const seedHi = this.seedPrng.nextU32();
    if (!reuse) return { ddir, offset, length, seedLo, seedHi };
    reuse.ddir = ddir;
    reuse.offset = offset;
    reuse.length = length;
    reuse.seedLo = seedLo;
    reuse.seedHi = seedHi;
    return reuse;
  }

  /** The direction of the next I/O: rw's, or drawn by rwmixread for a mixed job. */
  direction(): Ddir {
    switch (this.job.rw) {
      case 'read':
      case 'randread':
        return READ;
      case 'write':
      case 'randwrite':
        return WRITE;
      default:
        return this.dirPrng.nextFloat() * PERCENT < this.job.rwmixread ? READ : WRITE;
    }
  }

  private sequentialOffset(ddir: Ddir, length: number): number {
    if (this.seq[ddir] + length > this.region.size) this.seq[ddir] = 0; // wrap, as fio does
    const off = this.seq[ddir];
    this.seq[ddir] += length;
    return off;
  }

  /** A random offset relative to the region, aligned to minBs; -1 when the random map is full. */
  private randomOffset(length: number): number {
    const lastFit = Math.floor((this.region.size - length) / this.minBs);
    let block = Math.min(this.dist!.next(), lastFit);
    if (this.map) {
      if (!this.map.isFree(block)) {
        block = this.map.nextFree(block);
        if (block < 0) {
          if (!this.job.timeBased) return -1;
          this.map.reset(); // a time-based job starts another pass over the region
          block = Math.min(this.dist!.next(), lastFit);
        }
        block = Math.min(block, lastFit);
      }
      this.map.mark(block, Math.ceil(length / this.minBs));
    }
    return block * this.minBs;
  }
}

function checkAlignment(
  job: JobSpec,
  region: Region,
  blockSize: number,
  used: readonly Ddir[],
): void {
  const sizes = used.flatMap((d) => {
    const s = job.bs[d];
    return s.kind === 'split'
      ? s.entries.map((e) => e.size)
      : s.kind === 'range'
        ? [s.min, s.max]
        : [s.size];
  });
  for (const size of sizes) {
    if (size % blockSize !== 0) {
      throw new BenchUsageError(
        `job "${job.name}": block size ${size} is not a multiple of the device's ${blockSize}-byte blocks`,
      );
    }
  }
  if (region.start % blockSize !== 0) {
    throw new BenchUsageError(
      `job "${job.name}": offset ${region.start} is not a multiple of the device's ${blockSize}-byte blocks`,
    );
  }
}

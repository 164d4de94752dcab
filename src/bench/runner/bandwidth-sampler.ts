/**
 * A job's bandwidth and IOPS samples, one per window (fio's bw_avg_time / iops_avg_time), each
 * over the I/O counted since the previous one (fio stat.c add_bw_samples), plus the timeline the
 * report plots.
 */
import { READ, WRITE, hasWrites, type Ddir, type JobSpec } from '../options/job-spec.js';
import type { JobStats } from '../stats/job-stats.js';

/** fio's bw_avg_time / iops_avg_time default: one bandwidth and IOPS sample per 500 ms. */
export const SAMPLE_WINDOW_MS = 500;
const MS_PER_SEC = 1000;
const BYTES_PER_KIB = 1024;

export class BandwidthSampler {
  /** performance.now() when the next sample is due; read per I/O, so a plain field. */
  nextSampleAt = Infinity;
  private lastSampleAt = 0;
  /** performance.now() when measuring began: timeline times are relative to it. */
  private measureStart = 0;
  private readonly lastIos: [number, number] = [0, 0];
  private readonly lastBytes: [number, number] = [0, 0];

  constructor(
    private readonly job: JobSpec,
    private readonly stats: JobStats,
  ) {}

  /** Measuring begins at `now`: the first window starts. */
  start(now: number): void {
    this.measureStart = now;
    this.lastSampleAt = now;
    this.nextSampleAt = now + SAMPLE_WINDOW_MS;
  }

  /** One bandwidth/IOPS sample over the time since the last (fio stat.c add_bw_samples). */
  sample(now: number): void {
    const spanMs = now - this.lastSampleAt;
    const rates: [number, number] = [0, 0];
    for (const ddir of [READ, WRITE] as Ddir[]) {
      const d = this.stats.dirs[ddir];
      const ios = d.ios - this.lastIos[ddir];
      const bytes = d.bytes - this.lastBytes[ddir];
      this.lastIos[ddir] = d.ios;
      this.lastBytes[ddir] = d.bytes;
      rates[ddir] = (ios * MS_PER_SEC) / spanMs;
      if (
        ddir === READ
          ? this.job.rw === 'write' || this.job.rw === 'randwrite'
          : !hasWrites(this.job)
      )
        continue;
      d.iops.add(rates[ddir]);
      d.bw.add((bytes * MS_PER_SEC) / spanMs / BYTES_PER_KIB);
    }
    this.stats.timeline.push({
      tMs: now - this.measureStart,
      readIops: rates[READ],
      writeIops: rates[WRITE],
    });
    this.lastSampleAt = now;
    this.nextSampleAt = now + SAMPLE_WINDOW_MS;
  }
}

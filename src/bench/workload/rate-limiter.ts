/**
 * rate_iops (fio HOWTO rate_iops, rate_process=linear): I/Os of a direction are spaced 1/rate
 * apart on a fixed schedule from the start. A timer that fires late is caught up by issuing the
 * missed slots at once, so the average rate holds even though Node timers have 1 ms granularity.
 */
import type { Ddir } from '../options/job-spec.js';

const MS_PER_SEC = 1000;
/** Falling this far behind (a stalled device) restarts the schedule instead of bursting. */
const MAX_CATCH_UP_MS = 1000;

export class RateLimiter {
  private readonly next: [number, number];
  private readonly interval: [number, number];

  constructor(rateIops: readonly [number | undefined, number | undefined], startMs: number) {
    this.interval = [
      rateIops[0] ? MS_PER_SEC / rateIops[0] : 0,
      rateIops[1] ? MS_PER_SEC / rateIops[1] : 0,
    ];
    this.next = [startMs, startMs];
  }

  get active(): boolean {
    return this.interval[0] > 0 || this.interval[1] > 0;
  }

  /** Reserves the next slot of `ddir`; returns how many ms to wait before issuing (0 = now). */
  reserve(ddir: Ddir, nowMs: number): number {
    const step = this.interval[ddir];
    if (step === 0) return 0;
    if (this.next[ddir] < nowMs - MAX_CATCH_UP_MS) this.next[ddir] = nowMs;
    const at = this.next[ddir];
    this.next[ddir] = at + step;
    return Math.max(0, at - nowMs);
  }
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

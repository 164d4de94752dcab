/**
 * rate_iops's schedule (fio HOWTO rate_iops, rate_process=linear): the I/Os of a direction are due
 * 1/rate apart on a fixed schedule from the start, so the average rate holds whatever the timing
 * of single I/Os. How a job waits for its due times is RateGate's (runner/rate-gate.ts).
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

  /** Whether I/O of `ddir` is paced at all. */
  limits(ddir: Ddir): boolean {
    return this.interval[ddir] > 0;
  }

  /**
   * When the next I/O of `ddir` is due (ms, the clock of `nowMs`); earlier than `nowMs` when the
   * job is behind, unless by more than MAX_CATCH_UP_MS: then the schedule restarts at `nowMs`.
   */
  dueAt(ddir: Ddir, nowMs: number): number {
    if (this.next[ddir] < nowMs - MAX_CATCH_UP_MS) this.next[ddir] = nowMs;
    return this.next[ddir];
  }

  /**
   * A new phase starts at `nowMs`: time spent between phases (the last one's I/O draining) is not
   * owed, so a schedule left behind resumes at `nowMs` instead of bursting to catch up.
   */
  resume(nowMs: number): void {
    for (let d = 0; d < this.next.length; d++) this.next[d] = Math.max(this.next[d], nowMs);
  }

  /** The I/O due at dueAt() goes now: the next one is due an interval later. */
  take(ddir: Ddir): void {
    this.next[ddir] += this.interval[ddir];
  }
}

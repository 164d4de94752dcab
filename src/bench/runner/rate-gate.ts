/**
 * How a job paces its I/O under rate_iops, as fio does (io_u.c rate_ddir): an I/O that is due, or
 * overdue (the schedule catches up), goes at once; one that is not due yet first waits until every
 * I/O the job has in flight has completed (fio's io_u_quiesce: sleeping with I/O in flight would
 * add the sleep to its latency), then sleeps until it is due. The job's slots pass one at a time,
 * in order, so at a rate the device sustains easily a job runs at an effective depth of one with
 * the device's unloaded latency, as fio's does — not in bursts of every slot whose due time came
 * within one millisecond timer tick, which queue behind each other (20 000 IOPS at iodepth 32 on
 * nbdkit: fio's p50 42 µs, nvmf-bench's 450–540 µs before this gate).
 */
import type { Ddir } from '../options/job-spec.js';
import type { RateLimiter } from '../workload/rate-limiter.js';

/** What the gate needs of its job. */
export interface RateGateHost {
  /** No new I/O is to be issued (the job stopped or its time is up). */
  ended(): boolean;
}

export class RateGate {
  /** I/O let through that has not completed yet (in flight, or about to be issued). */
  private outstanding = 0;
  /** Slots queued at the gate. */
  private waiting = 0;
  /** The last queued slot's turn: the next one waits for it. */
  private turn: Promise<void> = Promise.resolve();
  /** Wakes the slot waiting for the job to go quiet (or to end). */
  private wake: (() => void) | undefined;

  constructor(
    private readonly limiter: RateLimiter,
    private readonly host: RateGateHost,
    private readonly sleep: (ms: number) => Promise<void>,
    private readonly now: () => number,
  ) {}

  /**
   * Lets an I/O of `ddir` through: undefined when it may go now, otherwise a promise that
   * resolves when it may (or when the job ended: the caller checks before issuing).
   */
  pass(ddir: Ddir): Promise<void> | undefined {
    if (!this.limiter.limits(ddir)) {
      this.outstanding++;
      return undefined;
    }
    if (this.waiting === 0) {
      const now = this.now();
      if (this.limiter.dueAt(ddir, now) <= now) {
        this.grant(ddir);
        return undefined;
      }
    }
    this.waiting++;
    const passed = this.turn.then(() => this.await(ddir));
    this.turn = passed.then(() => {
      this.waiting--;
    });
    return passed;
  }

  /** An I/O let through has completed or failed. */
  done(): void {
    this.outstanding--;
    if (this.outstanding === 0) this.alarm();
  }

  /** The job ended: a slot waiting at the gate goes on (and finds the job ended). */
  ended(): void {
    this.alarm();
  }

  /** A new phase: nothing is in flight, and the schedule resumes now (RateLimiter.resume). */
  reset(): void {
    this.outstanding = 0;
    this.limiter.resume(this.now());
  }

  private async await(ddir: Ddir): Promise<void> {
    for (;;) {
      if (this.host.ended()) return;
      const now = this.now();
      const wait = this.limiter.dueAt(ddir, now) - now;
      if (wait <= 0) break;
      if (this.outstanding > 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
      } else {
        await this.sleep(wait);
      }
    }
    this.grant(ddir);
  }

  private grant(ddir: Ddir): void {
    this.limiter.take(ddir);
    this.outstanding++;
  }

  private alarm(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

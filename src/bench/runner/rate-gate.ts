/**
 * How a job paces its I/O under rate_iops, as fio does (io_u.c rate_ddir): an I/O that is due, or
 * overdue (the schedule catches up), goes at once; one that is not due yet first waits until every
 * I/O the job has in flight has completed (fio's io_u_quiesce: sleeping with I/O in flight would
 * add the sleep to its latency), then sleeps until it is due. The job's slots pass one at a time,
 * in order, so at a rate the device sustains easily a job runs at an effective depth of one with
 * the device's unloaded latency, as fio's does — not in bursts of every slot whose due time came
 * within one millisecond timer tick, which queue behind each other (20 000 IOPS at iodepth 32 on
 * nbdkit: fio's p50 42 µs, nvmf-bench's 450–540 µs before this gate).
 *
 * In a mixed job (rw, randrw) the gate may also change an I/O's direction, as fio's rate_ddir
 * does: when the direction drawn is not due yet and the other one is (or is not paced at all)
 * and has a share of the mix, the I/O goes in the other direction at once; when neither is due,
 * the slot waits for whichever is due first and goes in that one. So `rate_iops=,500` on a randrw
 * job paces the writes and lets the reads fill the time between them, instead of stalling the
 * whole job until the next write is due. The slot draws the I/O's offset and length after the
 * gate has chosen its direction, as fio fills an io_u after get_rw_ddir.
 */
import type { Ddir } from '../options/job-spec.js';
import type { RateLimiter } from '../workload/rate-limiter.js';

/** What the gate needs of its job. */
export interface RateGateHost {
  /** No new I/O is to be issued (the job stopped or its time is up). */
  ended(): boolean;
}

const other = (d: Ddir): Ddir => (d ^ 1) as Ddir;

export class RateGate {
  /** I/O let through that has not completed yet (in flight, or about to be issued). */
  private outstanding = 0;
  /** Slots queued at the gate. */
  private waiting = 0;
  /** The last queued slot's turn: the next one waits for it. */
  private turn: Promise<unknown> = Promise.resolve();
  /** Wakes the slot waiting for the job to go quiet (or to end). */
  private wake: (() => void) | undefined;

  constructor(
    private readonly limiter: RateLimiter,
    private readonly host: RateGateHost,
    private readonly sleep: (ms: number) => Promise<void>,
    private readonly now: () => number,
    /**
     * Per direction, whether an I/O drawn in the other direction may be switched to it: the job
     * mixes both (rw, randrw) and this one has a share of the mix (fio: td_rw && rwmix[odir]).
     */
    private readonly switchable: readonly [boolean, boolean] = [false, false],
  ) {}

  /**
   * Lets an I/O through that the job's pattern drew in direction `want`: the direction it goes
   * in when it may go now, otherwise a promise of that direction, settled when it may (or when
   * the job ended: the caller checks before issuing, and then nothing was let through).
   */
  pass(want: Ddir): Ddir | Promise<Ddir> {
    const go = this.waiting === 0 ? this.dueNow(want, this.now()) : this.unpaced(want);
    if (go !== undefined) return this.grant(go);
    this.waiting++;
    const passed = this.turn.then(() => this.await(want));
    this.turn = passed.then(() => {
      this.waiting--;
    });
    return passed;
  }

  /** An I/O let through has completed or failed, or was not issued after all. */
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

  private async await(want: Ddir): Promise<Ddir> {
    for (;;) {
      if (this.host.ended()) return want;
      const now = this.now();
      const go = this.dueNow(want, now);
      if (go !== undefined) return this.grant(go);
      if (this.outstanding > 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
      } else {
        await this.sleep(this.firstDue(want, now) - now);
      }
    }
  }

  /** `want` or the direction it may switch to, when that one is not paced at all. */
  private unpaced(want: Ddir): Ddir | undefined {
    if (!this.limiter.limits(want)) return want;
    const alt = other(want);
    return this.switchable[alt] && !this.limiter.limits(alt) ? alt : undefined;
  }

  /** `want` when it is due (or not paced), else the other direction when that one is. */
  private dueNow(want: Ddir, now: number): Ddir | undefined {
    if (this.isDue(want, now)) return want;
    const alt = other(want);
    return this.switchable[alt] && this.isDue(alt, now) ? alt : undefined;
  }

  private isDue(d: Ddir, now: number): boolean {
    return !this.limiter.limits(d) || this.limiter.dueAt(d, now) <= now;
  }

  /** When the first of the directions `want` may go in is due (both are paced and early). */
  private firstDue(want: Ddir, now: number): number {
    const due = this.limiter.dueAt(want, now);
    const alt = other(want);
    return this.switchable[alt] ? Math.min(due, this.limiter.dueAt(alt, now)) : due;
  }

  private grant(d: Ddir): Ddir {
    if (this.limiter.limits(d)) this.limiter.take(d);
    this.outstanding++;
    return d;
  }

  private alarm(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

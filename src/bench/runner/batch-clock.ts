/**
 * The completion time of a batch of I/Os, as fio stamps each batch of completions it reaps once
 * (io_u.c init_icd: icd->time): handling and resubmitting one completion must not count in the
 * latency of the next one of the same batch. One clock is shared by all promise slots of a job.
 */

/** Queues a microtask per completion batch: cheaper than queueMicrotask (no AsyncResource). */
const RESOLVED = Promise.resolve();

export class BatchClock {
  /** The completion time of the batch being handled, 0 between batches. */
  private batchTime = 0;
  private readonly endBatch = (): void => {
    this.batchTime = 0;
  };

  /**
   * When an I/O completed, fio-style: the first completion handled takes the time, and every
   * completion already resolved by then (its continuation queued ahead of `endBatch`) shares it;
   * a completion resolved later starts a new batch.
   */
  completedAt(): number {
    if (this.batchTime === 0) {
      this.batchTime = performance.now();
      void RESOLVED.then(this.endBatch);
    }
    return this.batchTime;
  }
}

/**
 * Where I/O waits while its controller reconnects, as Linux's fast_io_fail_tmo lets it
 * (drivers/nvme/host/fabrics.c nvmf_fail_nonready_command: requests are requeued until the
 * controller is live again, the fast-I/O-fail time after the loss has passed, or the controller
 * is deleted). Each waiter ends exactly once: resumed by `open()`, or rejected by its deadline or
 * `fail()`.
 */
interface Waiter {
  resolve(): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | undefined;
}

export class RequeueGate {
  private readonly waiters = new Set<Waiter>();

  /** Commands waiting for the controller. */
  get size(): number {
    return this.waiters.size;
  }

  /**
   * Resolves when `open()` is called; rejects with `expired()` at `deadline` (epoch ms, Infinity =
   * none) or with the error given to `fail()`.
   */
  wait(deadline: number, expired: () => Error): Promise<void> {
    const left = deadline - Date.now();
    if (left <= 0) return Promise.reject(expired());
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { resolve, reject, timer: undefined };
      if (Number.isFinite(left)) {
        w.timer = setTimeout(() => {
          if (this.waiters.delete(w)) reject(expired());
        }, left);
      }
      this.waiters.add(w);
    });
  }

  /** Lets every waiter go on (the controller is live again). */
  open(): void {
    for (const w of this.take()) w.resolve();
  }

  /** Rejects every waiter with `err` (the controller was deleted). */
  fail(err: () => Error): void {
    for (const w of this.take()) w.reject(err());
  }

  private take(): Waiter[] {
    const all = [...this.waiters];
    this.waiters.clear();
    for (const w of all) if (w.timer) clearTimeout(w.timer);
    return all;
  }
}

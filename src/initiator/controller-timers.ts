/**
 * The two clocks of a host controller: the Keep Alive sender and the command deadline sweep.
 * Both are unref'd so that an idle controller does not keep the process alive.
 */
import type { Logger } from 'pino';
import type { QueuePair } from './queue-pair.js';

/**
 * NVMe Base 2.0, 3.9.4: the host sends Keep Alive often enough that the controller hears from it
 * within KATO; Linux sends one every KATO/2 and never two at once.
 */
const KEEP_ALIVES_PER_KATO = 2;

export class KeepAliveTimer {
  private timer: NodeJS.Timeout | undefined;
  private outstanding = false;

  /** `send(timeoutMs)` issues one Keep Alive bounded by KATO. */
  constructor(
    private readonly katoMs: number,
    private readonly send: (timeoutMs: number) => Promise<unknown>,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.katoMs <= 0 || this.timer) return;
    this.timer = setInterval(() => this.tick(), this.katoMs / KEEP_ALIVES_PER_KATO);
    this.timer.unref();
  }

  private tick(): void {
    if (this.outstanding) return;
    this.outstanding = true;
    this.send(this.katoMs)
      .catch((err: Error) => this.log.warn({ err: err.message }, 'keep alive failed'))
      .finally(() => {
        this.outstanding = false;
      });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** About four looks per timeout, between 10 ms and 1 s apart. */
const SWEEPS_PER_TIMEOUT = 4;
const SWEEP_MIN_MS = 10;
const SWEEP_MAX_MS = 1000;

/** Looks at every queue pair's command deadlines (QueuePair.checkTimeouts) on a fixed period. */
export class DeadlineSweep {
  private timer: NodeJS.Timeout | undefined;
  private readonly everyMs: number;

  /** `timeoutsMs`: the timeouts in use (0 = none); no timer runs when all are 0. */
  constructor(
    timeoutsMs: readonly number[],
    private readonly pairs: () => Iterable<QueuePair>,
  ) {
    const bounds = timeoutsMs.filter((ms) => ms > 0);
    this.everyMs =
      bounds.length === 0
        ? 0
        : Math.max(SWEEP_MIN_MS, Math.min(SWEEP_MAX_MS, Math.min(...bounds) / SWEEPS_PER_TIMEOUT));
  }

  start(): void {
    if (this.everyMs === 0 || this.timer) return;
    this.timer = setInterval(() => {
      const now = Date.now();
      for (const pair of this.pairs()) pair.checkTimeouts(now);
    }, this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

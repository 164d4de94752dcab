/**
 * Brings degraded mirror legs back. A leg is degraded by the mirror when a write to it fails; its
 * host controller meanwhile reconnects with backoff. When the controller is live again (its
 * 'state' event, or the periodic check for legs degraded without a lost connection), a resync
 * copies the dirty regions of the write-intent bitmap to it. One resync runs at a time; a request
 * during one runs once more after it, so a leg that returns mid-resync is not forgotten.
 */
import type { Logger } from 'pino';
import type { MirrorBdev } from '../volume/index.js';
import type { Leg } from './virtual-namespace.js';

/** How often degraded legs with a live controller are looked for (a missed event is caught here). */
export const RESYNC_CHECK_INTERVAL_MS = 2000;
const BYTES_PER_MIB = 1024 * 1024;

export class MirrorRecovery {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private again = false;
  private stopped = false;
  private readonly detach: (() => void)[] = [];

  constructor(
    private readonly mirror: MirrorBdev,
    private readonly legs: readonly Leg[],
    private readonly log: Logger,
  ) {}

  start(): void {
    this.legs.forEach((leg, i) => {
      const onState = (state: string) => {
        this.log.info({ leg: leg.uri, state }, 'leg controller state');
        if (state === 'live' && this.isDegraded(i)) void this.resyncNow(`${leg.uri} returned`);
      };
      leg.controller.on('state', onState);
      this.detach.push(() => leg.controller.off('state', onState));
    });
    const onDegraded = (...args: unknown[]) => {
      this.log.warn({ detail: describeEventArgs(args, this.legs) }, 'mirror leg degraded');
    };
    this.mirror.on('degraded', onDegraded);
    this.detach.push(() => this.mirror.off('degraded', onDegraded));
    this.timer = setInterval(() => this.check(), RESYNC_CHECK_INTERVAL_MS);
    this.timer.unref();
    // A bitmap persisted by an earlier run may already hold dirty regions.
    this.check();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const off of this.detach.splice(0)) off();
    await this.running?.catch(() => undefined);
  }

  private isDegraded(i: number): boolean {
    return this.mirror.legState(i) !== 'healthy';
  }

  private check(): void {
    if (this.stopped || this.running) return;
    const ready = this.legs.some((leg, i) => this.isDegraded(i) && leg.controller.state === 'live');
    if (ready) void this.resyncNow('degraded leg is reachable');
  }

  /** Runs (or joins) a resync; resolves to the blocks it copied, 0 when it failed. */
  resyncNow(reason: string): Promise<number> {
    if (this.stopped) return Promise.resolve(0);
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.run(reason).finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.resyncNow('requested during the previous resync');
      }
    });
    return this.running;
  }

  private async run(reason: string): Promise<number> {
    const legs = this.legs.filter((_, i) => this.isDegraded(i)).map((l) => l.uri);
    const volumeBlocks = this.mirror.blockCount;
    this.log.info({ reason, legs }, 'mirror resync started');
    try {
      const { copiedBlocks } = await this.mirror.resync();
      const mib = (copiedBlocks * this.mirror.blockSize) / BYTES_PER_MIB;
      this.log.info(
        { legs, copiedBlocks, volumeBlocks, copiedMiB: Number(mib.toFixed(2)) },
        `mirror resync done: copied ${copiedBlocks} of ${volumeBlocks} blocks`,
      );
      return copiedBlocks;
    } catch (err) {
      this.log.warn({ legs, err: (err as Error).message }, 'mirror resync failed; will retry');
      return 0;
    }
  }
}

/** Leg names for a mirror event's arguments (an index, an error), for the log. */
function describeEventArgs(args: unknown[], legs: readonly Leg[]): unknown[] {
  return args.map((a) =>
    typeof a === 'number' && legs[a] ? legs[a].uri : a instanceof Error ? a.message : a,
  );
}

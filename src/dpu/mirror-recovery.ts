/**
 * The DPU's side of bringing a mirror leg back. The mirror degrades a leg whose I/O fails and
 * probes it on its own (src/volume/mirror-resync.ts); the DPU knows sooner, because the leg's host
 * controller reports when its connection is live again, and asks for a resync at that moment.
 * It also makes recovery observable: a degraded leg, the start of a resync with its dirty regions,
 * progress while it copies, and the blocks it copied when the leg is healthy again.
 */
import type { Logger } from 'pino';
import type { MirrorBdev } from '../volume/index.js';
import type { Leg } from './virtual-namespace.js';

/** How often the regions left to copy are logged while a resync runs. */
export const RESYNC_PROGRESS_INTERVAL_MS = 1000;
const BYTES_PER_MIB = 1024 * 1024;

export class MirrorRecovery {
  private progressTimer: NodeJS.Timeout | undefined;
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
        if (state === 'live' && this.mirror.legState(i) === 'degraded') {
          void this.resyncNow(`${leg.uri} is reachable again`);
        }
      };
      leg.controller.on('state', onState);
      this.detach.push(() => leg.controller.off('state', onState));
    });
    const onDegraded = (e: { leg: number; error: Error }) => {
      this.log.warn({ leg: this.uriOf(e.leg), err: e.error.message }, 'mirror leg degraded');
    };
    const onStart = (e: { leg: number; dirtyRegions: number }) => {
      this.log.info(
        {
          leg: this.uriOf(e.leg),
          dirtyRegions: e.dirtyRegions,
          regionBlocks: this.mirror.regionBlocks,
        },
        `mirror resync started: ${e.dirtyRegions} dirty regions to copy`,
      );
      this.watchProgress();
    };
    const onDone = (e: { leg: number; copiedBlocks: number }) => {
      const volumeBlocks = this.mirror.blockCount;
      const mib = (e.copiedBlocks * this.mirror.blockSize) / BYTES_PER_MIB;
      this.log.info(
        {
          leg: this.uriOf(e.leg),
          copiedBlocks: e.copiedBlocks,
          volumeBlocks,
          copiedMiB: Number(mib.toFixed(2)),
        },
        `mirror resync done: copied ${e.copiedBlocks} of ${volumeBlocks} blocks`,
      );
    };
    this.mirror.on('degraded', onDegraded);
    this.mirror.on('resync-start', onStart);
    this.mirror.on('resync-done', onDone);
    this.detach.push(() => {
      this.mirror.off('degraded', onDegraded);
      this.mirror.off('resync-start', onStart);
      this.mirror.off('resync-done', onDone);
    });
    const degraded = this.mirror.legStatus().filter((s) => s.state !== 'healthy');
    if (degraded.length > 0) {
      // The persisted bitmap says a leg missed writes before this DPU started: resync it now.
      this.log.warn(
        { legs: degraded.map((s) => ({ name: s.name, dirtyRegions: s.dirtyRegions })) },
        'the write-intent bitmap holds dirty regions from an earlier run',
      );
      void this.resyncNow('dirty regions from an earlier run');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopProgress();
    for (const off of this.detach.splice(0)) off();
  }

  /** Asks the mirror for a resync pass now; resolves to the blocks it copied (0 on failure). */
  async resyncNow(reason: string): Promise<number> {
    if (this.stopped) return 0;
    this.log.info({ reason }, 'mirror resync requested');
    try {
      return (await this.mirror.resync()).copiedBlocks;
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message },
        'mirror resync pass failed; the mirror retries',
      );
      return 0;
    }
  }

  private uriOf(leg: number): string {
    return this.legs[leg]?.uri ?? String(leg);
  }

  private watchProgress(): void {
    if (this.progressTimer || this.stopped) return;
    this.progressTimer = setInterval(() => {
      const resyncing = this.mirror.legStatus().filter((s) => s.state === 'resyncing');
      if (resyncing.length === 0) return this.stopProgress();
      for (const s of resyncing) {
        this.log.info(
          { leg: s.name, regionsLeft: s.dirtyRegions },
          `mirror resync progress: ${s.dirtyRegions} regions left`,
        );
      }
    }, RESYNC_PROGRESS_INTERVAL_MS);
    this.progressTimer.unref();
  }

  private stopProgress(): void {
    if (this.progressTimer) clearInterval(this.progressTimer);
    this.progressTimer = undefined;
  }
}

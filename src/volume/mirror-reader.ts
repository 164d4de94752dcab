/**
 * The mirror's read path. Reads rotate over the healthy legs, one leg per event-loop turn: the
 * reads issued in one turn go to the same leg and so leave in one batch on its connection (one
 * send, one wake-up of one storage node) rather than one batch per leg; the next turn's go to the
 * next leg. A failed read is retried on the next leg. Only healthy legs serve reads: a resyncing
 * leg may still miss regions (mirror-resync.ts).
 */
import type { Bdev } from '../bdev/index.js';
import { readsWithCallback } from './leg-join.js';
import type { LegState, ResyncHost } from './mirror-resync.js';
import { noHealthyLeg } from './no-healthy-leg.js';

/** What the read path needs from its mirror (MirrorBdev). */
export type MirrorReadHost = Pick<ResyncHost, 'name' | 'legs' | 'legIo' | 'legFailed'>;

/** The read fast path's first pick has tried no leg yet. */
const NONE_TRIED: ReadonlySet<number> = new Set();

export class MirrorReader {
  /** The leg this turn's reads start from; advanced once per event-loop turn that read. */
  private readLeg = 0;
  private readTurnScheduled = false;

  /**
   * `states` is the mirror's own per-leg state array, read in place (never written here) so
   * that every pick sees the current states. `legTimeoutMs` is the mirror's leg deadline: with
   * one set, every read goes through legIo (which bounds it) instead of the direct fast path.
   */
  constructor(
    private readonly host: MirrorReadHost,
    private readonly states: readonly LegState[],
    private readonly legTimeoutMs: number,
  ) {}

  /**
   * The data path: one leg's read (through its callback form when it has one, so the caller's
   * promise is the only one), with a retry on the other healthy legs only once it has failed (no
   * per-read set of tried legs, no async state, until then).
   */
  read(lba: number, blocks: number): Promise<Buffer> {
    if (this.legTimeoutMs > 0) return this.readFrom(lba, blocks, new Set(), undefined);
    const leg = this.pickReadLeg(NONE_TRIED);
    if (leg < 0) return Promise.reject(noHealthyLeg(this.host.name, 'read'));
    const bdev = this.host.legs[leg];
    if (readsWithCallback(bdev)) {
      return new Promise<Buffer>((resolve, reject) => {
        bdev.readWithCallback(lba, blocks, (err, data) => {
          if (!err) return resolve(data!);
          this.host.legFailed(leg, err, 'read');
          this.readFrom(lba, blocks, new Set([leg]), err).then(resolve, reject);
        });
      });
    }
    return bdev.read(lba, blocks).catch((err: unknown) => {
      this.host.legFailed(leg, err, 'read');
      return this.readFrom(lba, blocks, new Set([leg]), err);
    });
  }

  /** Runs a read-only query on healthy legs in order until one answers. */
  async queryHealthyLeg<T>(query: (leg: Bdev) => Promise<T>, what: string): Promise<T> {
    let lastError: unknown;
    for (let leg = 0; leg < this.host.legs.length; leg++) {
      if (this.states[leg] !== 'healthy') continue;
      try {
        return await this.host.legIo(leg, what, query);
      } catch (err) {
        lastError = err;
        this.host.legFailed(leg, err, what);
      }
    }
    throw lastError ?? noHealthyLeg(this.host.name, what);
  }

  /** Reads from the healthy legs not in `tried`, one after another, until one answers. */
  private async readFrom(
    lba: number,
    blocks: number,
    tried: Set<number>,
    lastError: unknown,
  ): Promise<Buffer> {
    for (;;) {
      const leg = this.pickReadLeg(tried);
      if (leg < 0) throw lastError ?? noHealthyLeg(this.host.name, 'read');
      tried.add(leg);
      try {
        return await this.host.legIo(leg, 'read', (b) => b.read(lba, blocks));
      } catch (err) {
        lastError = err;
        this.host.legFailed(leg, err, 'read');
      }
    }
  }

  /**
   * The first healthy leg from this turn's read leg on that this request has not tried yet, or
   * -1. The rotation moves on once per turn (setImmediate runs after the turn's I/O callbacks,
   * where the transports flush their batches), so a turn's reads share one leg.
   */
  private pickReadLeg(tried: ReadonlySet<number>): number {
    const n = this.host.legs.length;
    for (let k = 0; k < n; k++) {
      const leg = (this.readLeg + k) % n;
      if (this.states[leg] === 'healthy' && !tried.has(leg)) {
        if (!this.readTurnScheduled) {
          this.readTurnScheduled = true;
          setImmediate(this.nextReadTurn, leg);
        }
        return leg;
      }
    }
    return -1;
  }

  private readonly nextReadTurn = (leg: number): void => {
    this.readTurnScheduled = false;
    this.readLeg = (leg + 1) % this.host.legs.length;
  };
}

/**
 * The mirror's data-path join: one change sent to every leg, completed when the last leg has
 * answered. A counter and one promise per change, instead of an array of per-leg result objects,
 * Promise.all and an async function's state (SPDK raid1's `base_bdev_io_remaining` counter does
 * the same). Leg outcomes are recorded by position; the owner decides what a failure means once
 * every leg has answered, so the join itself holds no mirror policy.
 */
import type { WriteOptions } from '../bdev/index.js';

/**
 * A leg that takes a write with a callback instead of returning a promise (RemoteBdev): the
 * mirror's fast path then joins the legs with no promise per leg.
 */
export interface CallbackWriteLeg {
  writeWithCallback(
    lba: number,
    data: Buffer,
    opts: WriteOptions,
    done: (err: Error | null) => void,
  ): void;
}

export const writesWithCallback = (leg: object): leg is CallbackWriteLeg =>
  typeof (leg as Partial<CallbackWriteLeg>).writeWithCallback === 'function';

/**
 * A leg that takes a read with a callback (RemoteBdev): the mirror's read fast path then costs
 * the caller's promise only, none per leg.
 */
export interface CallbackReadLeg {
  readWithCallback(
    lba: number,
    blocks: number,
    done: (err: Error | null, data?: Buffer) => void,
  ): void;
}

export const readsWithCallback = (leg: object): leg is CallbackReadLeg =>
  typeof (leg as Partial<CallbackReadLeg>).readWithCallback === 'function';

/** One leg's failed part of a change. */
export interface LegFailure {
  leg: number;
  error: unknown;
}

/** What the owner does once every leg has answered (exactly once). */
export interface LegJoinOwner {
  /** Every leg succeeded. */
  joined(join: LegJoin): void;
  /** At least one leg failed; `failures` lists those legs in leg order. */
  joinedWithErrors(join: LegJoin, failures: readonly LegFailure[]): void;
}

export class LegJoin {
  private remaining: number;
  /** Allocated on the first failure only. */
  private failures: LegFailure[] | undefined;
  /** Shared by every leg: success needs no leg index. */
  readonly ok = (): void => {
    if (--this.remaining === 0) this.settle();
  };

  /**
   * `legs` answers are awaited; `first`/`last` are the owner's region span, kept here so that
   * one object carries the whole change. `resolve`/`reject` settle the caller's promise.
   */
  constructor(
    private readonly owner: LegJoinOwner,
    legs: number,
    readonly first: number,
    readonly last: number,
    readonly resolve: () => void,
    readonly reject: (err: unknown) => void,
  ) {
    this.remaining = legs;
  }

  /** The callback of leg `leg`'s request (CallbackWriteLeg): null is success. */
  doneOf(leg: number): (err: Error | null) => void {
    return (err: Error | null) => {
      if (err) (this.failures ??= []).push({ leg, error: err });
      if (--this.remaining === 0) this.settle();
    };
  }

  /** The rejection handler of leg `leg`'s request. */
  failOf(leg: number): (err: unknown) => void {
    return (err: unknown) => {
      (this.failures ??= []).push({ leg, error: err });
      if (--this.remaining === 0) this.settle();
    };
  }

  private settle(): void {
    if (this.failures) {
      this.owner.joinedWithErrors(
        this,
        this.failures.sort((a, b) => a.leg - b.leg),
      );
    } else this.owner.joined(this);
  }
}

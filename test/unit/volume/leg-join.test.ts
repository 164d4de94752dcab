import { describe, expect, it } from 'vitest';
import { LegJoin, type LegFailure, type LegJoinOwner } from '../../../src/volume/leg-join.js';

/** An owner that records how each join ended. */
function recorder(): LegJoinOwner & { ends: { ok: boolean; failures?: LegFailure[] }[] } {
  const ends: { ok: boolean; failures?: LegFailure[] }[] = [];
  return {
    ends,
    joined: () => ends.push({ ok: true }),
    joinedWithErrors: (_join, failures) => ends.push({ ok: false, failures: [...failures] }),
  };
}

const noop = (): void => undefined;

describe('LegJoin', () => {
  it('ends once, after the last leg answered, when every leg succeeded', () => {
    const owner = recorder();
    const join = new LegJoin(owner, 3, 4, 5, noop, noop);
    join.ok();
    join.ok();
    expect(owner.ends).toEqual([]);
    join.ok();
    expect(owner.ends).toEqual([{ ok: true }]);
    expect([join.first, join.last]).toEqual([4, 5]);
  });

  it('reports the failed legs in leg order, whatever order they answered in', () => {
    const owner = recorder();
    const join = new LegJoin(owner, 3, 0, 0, noop, noop);
    const e2 = new Error('leg 2');
    const e0 = new Error('leg 0');
    join.failOf(2)(e2);
    join.ok();
    expect(owner.ends).toEqual([]);
    join.failOf(0)(e0);
    expect(owner.ends).toEqual([
      {
        ok: false,
        failures: [
          { leg: 0, error: e0 },
          { leg: 2, error: e2 },
        ],
      },
    ]);
  });

  it('keeps a rejection with no reason as a failure', () => {
    const owner = recorder();
    const join = new LegJoin(owner, 2, 0, 0, noop, noop);
    join.ok();
    join.failOf(1)(undefined);
    expect(owner.ends).toEqual([{ ok: false, failures: [{ leg: 1, error: undefined }] }]);
  });
});

describe('LegJoin with callback legs', () => {
  it('counts a null callback as success and an error as that leg failing', () => {
    const owner = recorder();
    const join = new LegJoin(owner, 3, 0, 0, noop, noop);
    const e1 = new Error('leg 1');
    join.doneOf(0)(null);
    join.doneOf(1)(e1);
    expect(owner.ends).toEqual([]);
    join.ok();
    expect(owner.ends).toEqual([{ ok: false, failures: [{ leg: 1, error: e1 }] }]);
  });
});

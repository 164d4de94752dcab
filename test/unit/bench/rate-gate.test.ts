import { describe, expect, it } from 'vitest';
import { RateGate } from '../../../src/bench/runner/rate-gate.js';
import { RateLimiter } from '../../../src/bench/workload/rate-limiter.js';
import {
  PreciseSleeper,
  exclusiveSleep,
  sleepGranularityMs,
} from '../../../src/bench/workload/precise-sleep.js';

/** A gate on a hand-driven clock: a sleep records its length and moves the clock past it. */
function rig(rate: [number | undefined, number | undefined] = [1000, undefined]) {
  let now = 0;
  let ended = false;
  const sleeps: number[] = [];
  const gate = new RateGate(
    new RateLimiter(rate, 0),
    { ended: () => ended },
    (ms) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
    () => now,
  );
  return {
    gate,
    sleeps,
    advance: (ms: number) => (now += ms),
    end: () => {
      ended = true;
      gate.ended();
    },
  };
}

/** Whether `p` has settled once the microtasks queued so far have run. */
async function settled(p: Promise<void>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 20; i++) await Promise.resolve();
  return done;
}

describe('RateGate (rate_iops as fio paces a job)', () => {
  it('lets a due I/O through at once, and an unlimited direction always', () => {
    const { gate } = rig();
    expect(gate.pass(0)).toBeUndefined();
    expect(gate.pass(1)).toBeUndefined();
  });

  it('holds an early I/O until nothing is in flight, then sleeps until it is due', async () => {
    const { gate, sleeps } = rig();
    expect(gate.pass(0)).toBeUndefined(); // due at 0, in flight
    const second = gate.pass(0)!; // due at 1 ms
    expect(second).toBeInstanceOf(Promise);
    expect(await settled(second)).toBe(false); // quiescing: the first is in flight
    expect(sleeps).toEqual([]);
    gate.done();
    expect(await settled(second)).toBe(true);
    expect(sleeps).toEqual([1]);
  });

  it('lets queued slots through one at a time, each after the last one completed', async () => {
    const { gate, sleeps } = rig();
    expect(gate.pass(0)).toBeUndefined();
    const b = gate.pass(0)!;
    const c = gate.pass(0)!;
    gate.done(); // the first completes: b sleeps to 1 ms and goes
    expect(await settled(b)).toBe(true);
    expect(await settled(c)).toBe(false); // b is in flight
    gate.done();
    expect(await settled(c)).toBe(true);
    expect(sleeps).toEqual([1, 1]);
  });

  it('issues overdue I/O without waiting for the I/O in flight (catching up)', async () => {
    const { gate, advance, sleeps } = rig();
    expect(gate.pass(0)).toBeUndefined();
    advance(3); // 1, 2 and 3 ms are due now
    expect(gate.pass(0)).toBeUndefined();
    expect(gate.pass(0)).toBeUndefined();
    expect(gate.pass(0)).toBeUndefined();
    const early = gate.pass(0)!; // due at 4 ms: waits for the four in flight
    for (let i = 0; i < 3; i++) gate.done();
    expect(await settled(early)).toBe(false);
    gate.done();
    expect(await settled(early)).toBe(true);
    expect(sleeps).toEqual([1]);
  });

  it('releases a waiting slot when the job ends, without letting it through', async () => {
    const { gate, end, sleeps } = rig();
    expect(gate.pass(0)).toBeUndefined();
    const waiting = gate.pass(0)!;
    end();
    expect(await settled(waiting)).toBe(true);
    expect(sleeps).toEqual([]);
  });

  it('resumes the schedule at a new phase instead of bursting to catch up', async () => {
    const { gate, advance } = rig();
    expect(gate.pass(0)).toBeUndefined();
    gate.done();
    advance(50); // the phase change took 50 ms: 49 slots were missed
    gate.reset();
    expect(gate.pass(0)).toBeUndefined(); // due at 50 ms
    const next = gate.pass(0)!; // due at 51 ms: early again
    expect(await settled(next)).toBe(false);
  });
});

describe('sub-millisecond sleeps', () => {
  it('exclusiveSleep returns no earlier than asked, below and above the granularity', async () => {
    expect(sleepGranularityMs()).toBeGreaterThan(0);
    for (const ms of [0.02, 0.5, 3]) {
      const t = performance.now();
      await exclusiveSleep(ms);
      expect(performance.now() - t).toBeGreaterThanOrEqual(ms);
    }
  });

  it('PreciseSleeper wakes concurrent sleeps in deadline order, none early', async () => {
    const sleeper = new PreciseSleeper();
    const order: number[] = [];
    const t = performance.now();
    await Promise.all(
      [6, 0.2, 3].map((ms) =>
        sleeper.sleep(ms).then(() => {
          expect(performance.now() - t).toBeGreaterThanOrEqual(ms);
          order.push(ms);
        }),
      ),
    );
    expect(order).toEqual([0.2, 3, 6]);
    await sleeper.sleep(0); // nothing to wait for
  });
});

import { describe, expect, it } from 'vitest';
import { MemoryBdev } from '../../../src/bdev/memory-bdev.js';
import type { IoQueue } from '../../../src/bench/engines/io-engine.js';
import { parseCommandLine } from '../../../src/bench/options/command-line.js';
import { READ, WRITE, buildJobs, type Ddir } from '../../../src/bench/options/job-spec.js';
import { JobRunner } from '../../../src/bench/runner/job-runner.js';
import { RateGate } from '../../../src/bench/runner/rate-gate.js';
import { RateLimiter } from '../../../src/bench/workload/rate-limiter.js';
import {
  PreciseSleeper,
  exclusiveSleep,
  sleepGranularityMs,
} from '../../../src/bench/workload/precise-sleep.js';

/** A gate on a hand-driven clock: a sleep records its length and moves the clock past it. */
function rig(
  rate: [number | undefined, number | undefined] = [1000, undefined],
  switchable: [boolean, boolean] = [false, false],
) {
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
    switchable,
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

const NOT_YET = 'not yet';

/** What `p` settled to once the microtasks queued so far have run, or NOT_YET. */
async function settled(p: Ddir | Promise<Ddir>): Promise<Ddir | typeof NOT_YET> {
  expect(p).toBeInstanceOf(Promise); // the slot had to wait
  let result: Ddir | typeof NOT_YET = NOT_YET;
  void (p as Promise<Ddir>).then((d) => (result = d));
  for (let i = 0; i < 20; i++) await Promise.resolve();
  return result;
}

describe('RateGate (rate_iops as fio paces a job)', () => {
  it('lets a due I/O through at once, and an unlimited direction always', () => {
    const { gate } = rig();
    expect(gate.pass(READ)).toBe(READ);
    expect(gate.pass(WRITE)).toBe(WRITE);
  });

  it('holds an early I/O until nothing is in flight, then sleeps until it is due', async () => {
    const { gate, sleeps } = rig();
    expect(gate.pass(READ)).toBe(READ); // due at 0, in flight
    const second = gate.pass(READ); // due at 1 ms
    expect(await settled(second)).toBe(NOT_YET); // quiescing: the first is in flight
    expect(sleeps).toEqual([]);
    gate.done();
    expect(await settled(second)).toBe(READ);
    expect(sleeps).toEqual([1]);
  });

  it('lets queued slots through one at a time, each after the last one completed', async () => {
    const { gate, sleeps } = rig();
    expect(gate.pass(READ)).toBe(READ);
    const b = gate.pass(READ);
    const c = gate.pass(READ);
    gate.done(); // the first completes: b sleeps to 1 ms and goes
    expect(await settled(b)).toBe(READ);
    expect(await settled(c)).toBe(NOT_YET); // b is in flight
    gate.done();
    expect(await settled(c)).toBe(READ);
    expect(sleeps).toEqual([1, 1]);
  });

  it('issues overdue I/O without waiting for the I/O in flight (catching up)', async () => {
    const { gate, advance, sleeps } = rig();
    expect(gate.pass(READ)).toBe(READ);
    advance(3); // 1, 2 and 3 ms are due now
    expect(gate.pass(READ)).toBe(READ);
    expect(gate.pass(READ)).toBe(READ);
    expect(gate.pass(READ)).toBe(READ);
    const early = gate.pass(READ); // due at 4 ms: waits for the four in flight
    for (let i = 0; i < 3; i++) gate.done();
    expect(await settled(early)).toBe(NOT_YET);
    gate.done();
    expect(await settled(early)).toBe(READ);
    expect(sleeps).toEqual([1]);
  });

  it('releases a waiting slot when the job ends, without letting it through', async () => {
    const { gate, end, sleeps } = rig();
    expect(gate.pass(READ)).toBe(READ);
    const waiting = gate.pass(READ);
    end();
    expect(await settled(waiting)).toBe(READ);
    expect(sleeps).toEqual([]);
  });

  it('resumes the schedule at a new phase instead of bursting to catch up', async () => {
    const { gate, advance } = rig();
    expect(gate.pass(READ)).toBe(READ);
    gate.done();
    advance(50); // the phase change took 50 ms: 49 slots were missed
    gate.reset();
    expect(gate.pass(READ)).toBe(READ); // due at 50 ms
    const next = gate.pass(READ); // due at 51 ms: early again
    expect(await settled(next)).toBe(NOT_YET);
  });

  it('in a mixed job, sends an early I/O in the other direction when that one is not paced', () => {
    // rate_iops=,1000 on randrw: writes are paced, reads fill the time between them.
    const { gate, sleeps } = rig([undefined, 1000], [true, true]);
    expect(gate.pass(WRITE)).toBe(WRITE); // due at 0
    expect(gate.pass(WRITE)).toBe(READ); // the next write is due at 1 ms
    expect(gate.pass(READ)).toBe(READ);
    expect(gate.pass(WRITE)).toBe(READ);
    expect(sleeps).toEqual([]); // never quiesced, never slept
  });

  it('switches to the other direction when it is due, else waits for the first due', async () => {
    // rate_iops=1000,250: reads due every 1 ms, writes every 4 ms.
    const { gate, sleeps, advance } = rig([1000, 250], [true, true]);
    expect(gate.pass(READ)).toBe(READ); // read due at 0
    expect(gate.pass(READ)).toBe(WRITE); // next read due at 1 ms; a write is due at 0
    const third = gate.pass(WRITE); // write due at 4 ms, read at 1 ms: sleeps for the read
    gate.done();
    gate.done();
    expect(await settled(third)).toBe(READ);
    expect(sleeps).toEqual([1]);
    advance(10); // both overdue: the direction drawn goes
    expect(gate.pass(WRITE)).toBe(WRITE);
  });

  it('keeps the direction drawn when the other one has no share of the mix', async () => {
    // randrw with rwmixread=100: no write is ever switched to, whatever its rate.
    const { gate, sleeps } = rig([1000, undefined], [true, false]);
    expect(gate.pass(READ)).toBe(READ);
    const next = gate.pass(READ);
    gate.done();
    expect(await settled(next)).toBe(READ);
    expect(sleeps).toEqual([1]);
  });
});

describe('JobRunner under rate_iops on a mixed job', () => {
  const BLOCK = 4096;
  const SIZE = 256 * BLOCK;
  const spec = (rate: string) => {
    // Size based: the pattern's budget runs out while the paced writes are still early, so
    // slots that the gate let through find no I/O left and must hand their turn back.
    const cl = parseCommandLine([
      '--name=r',
      '--ioengine=bdev',
      '--bs=4k',
      '--rw=randrw',
      '--iodepth=8',
      `--size=${SIZE}`,
      `--rate_iops=${rate}`,
    ]);
    return buildJobs([cl.jobs], cl.global.options)[0];
  };
  const mem = () => new MemoryBdev({ name: 'mem', blockSize: BLOCK, blockCount: SIZE / BLOCK });
  /** The queue/complete interface over a bdev, as the nbd engine offers one. */
  const queueOf = (dev: MemoryBdev): IoQueue => ({
    read: (lba, into, done) =>
      void dev.read(lba, into.length / BLOCK).then(
        (data) => {
          data.copy(into);
          done.ioDone(undefined);
        },
        (err: Error) => done.ioDone(err),
      ),
    write: (lba, data, done) =>
      void dev.write(lba, data).then(
        () => done.ioDone(undefined),
        (err: Error) => done.ioDone(err),
      ),
  });

  // Writes paced alone, and both directions paced (then slots also wait at the gate, and one
  // that was let through without I/O left must release the slots behind it).
  const cases = [',100', '20000,100'].flatMap((rate) =>
    (['promise', 'queue'] as const).map((slots) => ({ rate, slots })),
  );
  for (const { rate, slots } of cases) {
    it(`rate_iops=${rate}, ${slots} slots: reads fill in between, and the size is done`, async () => {
      const dev = mem();
      const runner = new JobRunner(
        spec(rate),
        dev,
        'mem',
        undefined,
        slots === 'queue' ? queueOf(dev) : undefined,
      );
      const stats = await runner.run();
      expect(stats.error).toBe(0);
      const reads = stats.dirs[READ];
      const writes = stats.dirs[WRITE];
      expect(reads.bytes + writes.bytes).toBe(SIZE);
      // At 100 writes/s a write is due every 10 ms. A job that waited for each (the pacing
      // before the switch) issues about as many writes as reads; switching sends the early ones
      // as reads, so the first write goes and the reads fill the time after it.
      expect(writes.ios).toBeGreaterThanOrEqual(1);
      expect(reads.ios).toBeGreaterThan(2 * writes.ios);
    });
  }
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

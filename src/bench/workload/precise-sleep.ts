/**
 * Sleeps with sub-millisecond resolution, for rate_iops. Node's timers count whole milliseconds,
 * where fio's usec_sleep() is a nanosleep(2) of the microseconds left; at 20 000 IOPS an I/O is
 * due every 50 µs, and a timer that wakes a millisecond late makes the due ones leave together.
 *
 * - exclusiveSleep: fio's usec_sleep() — Atomics.wait (a futex with a timeout, here 95 µs late at
 *   the median, as a nanosleep from Python) to within the sleep granularity of the deadline, and
 *   a busy wait for the rest, blocking the event loop. For a process with nothing else to do
 *   meanwhile (one job, all of its I/O completed), which is fio's situation when it sleeps.
 *   Beyond BLOCKING_SLEEP_MAX_MS a timer waits first, so timers and signals still run.
 * - PreciseSleeper.sleep: never blocks. One worker thread keeps the deadlines and blocks in
 *   Atomics.wait until the earliest; the main thread posts each request and bumps a shared
 *   counter to cut a longer wait short. Two thread wake-ups per sleep: 150–300 µs late here.
 *   The worker starts at the first sleep and does not keep the process alive.
 */
import { performance } from 'node:perf_hooks';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';

/** The longest sleep exclusiveSleep spends blocked; a longer one waits on a timer first. */
export const BLOCKING_SLEEP_MAX_MS = 2;
/** A bound on the measured granularity: one preempted probe must not make every sleep a spin. */
const MAX_GRANULARITY_MS = 1;
const BLOCKER = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
let granularityMs: number | undefined;

/** fio's ns_granularity: how late a 1 µs sleep wakes, the worst of 10, measured once. */
export function sleepGranularityMs(): number {
  if (granularityMs === undefined) {
    let worst = 0;
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      Atomics.wait(BLOCKER, 0, 0, 0.001);
      worst = Math.max(worst, performance.now() - t);
    }
    granularityMs = Math.min(worst, MAX_GRANULARITY_MS);
  }
  return granularityMs;
}

/**
 * Sleeps `ms` milliseconds as fio's usec_sleep() does: a wait shorter than the sleep granularity
 * is spun out, a longer one blocks in Atomics.wait until one granularity before the deadline.
 * The event loop is blocked for the last BLOCKING_SLEEP_MAX_MS; before that a timer waits.
 */
export async function exclusiveSleep(ms: number): Promise<void> {
  const end = performance.now() + ms;
  if (ms > BLOCKING_SLEEP_MAX_MS) {
    await new Promise<void>((resolve) => setTimeout(resolve, ms - BLOCKING_SLEEP_MAX_MS));
  }
  const granularity = sleepGranularityMs();
  for (;;) {
    const left = end - performance.now();
    if (left <= 0) return;
    if (left < granularity) {
      spinFor(left);
      return;
    }
    Atomics.wait(BLOCKER, 0, 0, left - granularity);
  }
}

const NS_PER_MS = 1e6;

/**
 * A busy wait of `ms`, as fio's usec_spin(). On process.hrtime.bigint(), which allocates nothing
 * in this loop: performance.now() allocates on every call (Node 20), and spinning on it for the
 * last ~100 µs of each sleep filled the young generation so fast that a rate-limited job at
 * 10 000 IOPS ran a scavenge every ~30 ms (126 in 4.4 s, pauses up to 12 ms).
 */
function spinFor(ms: number): void {
  const until = process.hrtime.bigint() + BigInt(Math.ceil(ms * NS_PER_MS));
  while (process.hrtime.bigint() < until) {
    // spin
  }
}

/** The worker (CommonJS, evaluated from this string so that it runs from src/ and dist/ alike). */
const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const { port, signal } = workerData;
const bell = new Int32Array(signal);
const due = new Map();
for (;;) {
  const seen = Atomics.load(bell, 0);
  for (let m; (m = receiveMessageOnPort(port)); ) {
    due.set(m.message.id, performance.now() + m.message.ms);
  }
  const now = performance.now();
  let next = Infinity;
  for (const [id, at] of due) {
    if (at <= now) {
      due.delete(id);
      port.postMessage(id);
    } else if (at < next) next = at;
  }
  Atomics.wait(bell, 0, seen, next === Infinity ? undefined : next - now);
}
`;

interface Request {
  id: number;
  ms: number;
}

export class PreciseSleeper {
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private readonly bell = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  private readonly pending = new Map<number, () => void>();
  private nextId = 0;

  /** Resolves after `ms` milliseconds (fractions count). */
  sleep(ms: number): Promise<void> {
    if (!(ms > 0)) return Promise.resolve();
    const port = this.port ?? this.start();
    const id = this.nextId++;
    return new Promise<void>((resolve) => {
      this.pending.set(id, resolve);
      if (this.pending.size === 1) port.ref();
      port.postMessage({ id, ms } satisfies Request);
      Atomics.add(this.bell, 0, 1);
      Atomics.notify(this.bell, 0);
    });
  }

  private start(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { port: port2, signal: this.bell.buffer },
      transferList: [port2],
    });
    this.worker.unref();
    port1.on('message', (id: number) => {
      const resolve = this.pending.get(id);
      this.pending.delete(id);
      if (this.pending.size === 0) port1.unref();
      resolve?.();
    });
    port1.unref();
    this.port = port1;
    return port1;
  }
}

/** The process's sleeper: one worker serves every job. */
const shared = new PreciseSleeper();

export const preciseSleep = (ms: number): Promise<void> => shared.sleep(ms);

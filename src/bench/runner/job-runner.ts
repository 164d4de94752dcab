/**
 * Runs one job against its device: `iodepth` slots each keep one I/O in flight (fio's iodepth),
 * drawing from the job's IoPattern, through the optional ramp, the measured phase and, for a
 * verifying write job, the verify phase that reads every logged block back (fio's do_verify).
 *
 * Latencies per I/O, as fio defines them for an asynchronous engine: slat from preparing the I/O
 * to the engine accepting it (the Bdev call returning its promise; fio takes issue_time after
 * ->queue() returns, ioengines.c td_io_queue), clat from there to completion, lat the sum. The
 * completion time is taken once per batch of completions handled together (BatchClock), as fio
 * stamps each batch it reaps once (io_u.c init_icd: icd->time), so that handling and resubmitting
 * one completion does not count in the latency of the next one of the same batch.
 *
 * The slots themselves are QueueSlot (engines with a queue/complete interface) and PromiseSlot
 * (the others); this file owns the phases and what a slot reports to its job (SlotHost).
 */
import type { Bdev } from '../../bdev/bdev.js';
import type { IoQueue, OpenedDevice } from '../engines/io-engine.js';
import { EILSEQ } from '../errors.js';
import { READ, hasReads, hasWrites, type Ddir, type JobSpec } from '../options/job-spec.js';
import { JobStats, depthBucket } from '../stats/job-stats.js';
import { IoPattern, type IoUnit } from '../workload/io-pattern.js';
import { exclusiveSleep, preciseSleep } from '../workload/precise-sleep.js';
import { RateLimiter } from '../workload/rate-limiter.js';
import { checkVerifyBlock } from '../workload/verify-block.js';
import { WriteBufferSource } from '../workload/write-buffers.js';
import { BandwidthSampler } from './bandwidth-sampler.js';
import { BatchClock } from './batch-clock.js';
import { JobLogs } from './job-logs.js';
import { PromiseSlot } from './promise-slot.js';
import { RateGate } from './rate-gate.js';
import { QueueSlot, type IoSource, type SlotHost } from './queue-slot.js';
import { jobRegion } from './region.js';
import { WriteLog } from './write-log.js';

/** errno EIO, fio's err= for a failed I/O. */
export const EIO = 5;
const NS_PER_MS = 1e6;
const USEC_PER_MS = 1000;
const NUMBERIO_MASK = 0xffff;
const PERCENT = 100;
/**
 * The event loop's heartbeat: a timer that notes when it last ran. An in-process device completes
 * I/O in microtasks, which would starve timers and signal handlers (status line, Ctrl-C), so slots
 * yield once the heartbeat is STARVED_MS late. A device behind a socket completes from the event
 * loop and never starves it, so its slots never pause (a pause would lower the queue depth).
 */
const HEARTBEAT_MS = 10;
/** Late enough that a busy machine delaying the timer rarely looks like starvation. */
const STARVED_MS = 5 * HEARTBEAT_MS;

/** Jobs of this process that are running: one alone may block the event loop to sleep. */
let runningJobs = 0;

/** rate_iops's sleep (RateGate: the job has nothing in flight): fio's nanosleep when alone. */
const rateSleep = (ms: number): Promise<void> =>
  runningJobs === 1 ? exclusiveSleep(ms) : preciseSleep(ms);

export type JobPhase = 'setup' | 'ramp' | 'running' | 'verifying' | 'done';

/** Live counters for the status line. */
export interface JobProgress {
  phase: JobPhase;
  ios: [number, number];
  bytes: [number, number];
  /** performance.now() when measuring began. */
  startMs: number;
  /** Planned measured duration (time based) or bytes (size based), for the percentage. */
  plannedMs?: number;
  plannedBytes?: number;
}

export type Phase = 'ramp' | 'main' | 'verify';

export class JobRunner implements SlotHost {
  readonly stats: JobStats;
  readonly progress: JobProgress;
  private readonly pattern: IoPattern;
  private readonly logs: JobLogs;
  /** rate_iops: how the job's slots wait for their I/O's due time. */
  private readonly gate: RateGate | undefined;
  private verifyWrites: boolean;
  private readonly writeLog = new WriteLog();
  private readonly sampler: BandwidthSampler;
  /** Shared by the promise slots: completions handled together share one time. */
  private readonly clock = new BatchClock();
  private recording = false;
  /** @internal No new I/O is issued (SlotHost). */
  stopped = false;
  /** stop() was called: no phase starts any more. */
  private aborted = false;
  private endAt = Infinity;
  private measureStart = 0;
  private inFlight = 0;
  private numberio = 0;
  /** performance.now() when the heartbeat last ran. */
  private lastBeat = 0;

  constructor(
    private readonly job: JobSpec,
    private readonly bdev: Bdev,
    private readonly label: string,
    /** The engine's read into a caller's buffer, when it has one (OpenedDevice.readInto). */
    private readonly readInto?: OpenedDevice['readInto'],
    /** The engine's queue/complete interface, when it has one: then no promise per I/O. */
    private readonly queue?: IoQueue,
  ) {
    this.stats = new JobStats(job);
    this.sampler = new BandwidthSampler(job, this.stats);
    const region = jobRegion(job, bdev.blockSize * bdev.blockCount, bdev.blockSize);
    this.pattern = new IoPattern(job, region, bdev.blockSize);
    this.logs = new JobLogs(job);
    this.verifyWrites = job.verify !== undefined && hasWrites(job);
    const limiter = new RateLimiter(job.rateIops, performance.now());
    const mixed = hasReads(job) && hasWrites(job);
    this.gate = limiter.active
      ? new RateGate(limiter, { ended: () => this.timeUp() }, rateSleep, () => performance.now(), [
          mixed && job.rwmixread > 0,
          mixed && job.rwmixread < PERCENT,
        ])
      : undefined;
    this.progress = {
      phase: 'setup',
      ios: [0, 0],
      bytes: [0, 0],
      startMs: performance.now(),
      plannedMs: job.timeBased ? job.runtimeUsec! / USEC_PER_MS : undefined,
      plannedBytes: job.timeBased
        ? undefined
        : region.size * (this.verifyWrites && !job.verifyOnly ? 2 : 1),
    };
  }

  /** Runs the job to its end; failures end up in stats.error / stats.errorText, as fio's err=. */
  async run(): Promise<JobStats> {
    runningJobs++;
    try {
      return await this.runJob();
    } finally {
      runningJobs--;
    }
  }

  private async runJob(): Promise<JobStats> {
    const job = this.job;
    if (job.rampUsec > 0 && !job.verifyOnly) {
      this.progress.phase = 'ramp';
      this.endAt = performance.now() + job.rampUsec / USEC_PER_MS;
      await this.runPhase('ramp', (reuse, ddir) => this.pattern.next(reuse, ddir));
      this.pattern.restart();
      this.stopped = this.aborted || this.stats.error !== 0;
    }
    const cpu0 = process.cpuUsage();
    const ru0 = process.resourceUsage();
    this.startMeasuring();
    if (!this.stopped) {
      this.endAt =
        job.runtimeUsec === undefined
          ? Infinity
          : this.measureStart + job.runtimeUsec / USEC_PER_MS;
      if (job.verifyOnly) this.writeLog.replay(this.pattern);
      else await this.runPhase('main', (reuse, ddir) => this.pattern.next(reuse, ddir));
    }
    if (this.verifyWrites && (job.doVerify || job.verifyOnly) && this.stats.error === 0) {
      this.progress.phase = 'verifying';
      this.stopped = false;
      this.endAt = Infinity;
      await this.runPhase('verify', this.writeLog.verifySource());
    }
    const end = performance.now();
    this.stats.runtimeMs = end - this.measureStart;
    const cpu = process.cpuUsage(cpu0);
    const ru = process.resourceUsage();
    this.stats.cpu = {
      userMs: cpu.user / USEC_PER_MS,
      systemMs: cpu.system / USEC_PER_MS,
      ctx:
        ru.voluntaryContextSwitches -
        ru0.voluntaryContextSwitches +
        ru.involuntaryContextSwitches -
        ru0.involuntaryContextSwitches,
      majf: ru.majorPageFault - ru0.majorPageFault,
      minf: ru.minorPageFault - ru0.minorPageFault,
    };
    this.progress.phase = 'done';
    if (this.logs.any) await this.logs.write(this.stats.runtimeMs);
    return this.stats;
  }

  /** Ends the job early (Ctrl-C): no new I/O is issued; in-flight I/O completes and is counted. */
  stop(): void {
    this.aborted = true;
    this.stopped = true;
    this.endAt = 0;
    this.verifyWrites = false;
    this.gate?.ended();
  }

  /** Whether the job issues no more I/O; its runtime being over stops it here too. */
  private timeUp(): boolean {
    if (!this.stopped && performance.now() >= this.endAt) this.stopped = true;
    return this.stopped;
  }

  private startMeasuring(): void {
    this.recording = true;
    this.measureStart = performance.now();
    this.stats.startedAt = Date.now();
    this.progress.startMs = this.measureStart;
    this.progress.phase = 'running';
    this.sampler.start(this.measureStart);
  }

  private async runPhase(phase: Phase, source: IoSource): Promise<void> {
    this.lastBeat = performance.now();
    this.gate?.reset();
    const heartbeat = setInterval(() => (this.lastBeat = performance.now()), HEARTBEAT_MS);
    try {
      if (this.queue) await this.runQueued(this.queue, phase, source);
      else {
        const slots: Promise<void>[] = [];
        for (let i = 0; i < this.job.iodepth; i++)
          slots.push(this.promiseSlot(phase, source).run());
        await Promise.all(slots);
      }
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** The phase with QueueSlots: one promise for the phase, none per I/O. */
  private runQueued(queue: IoQueue, phase: Phase, source: IoSource) {
    return new Promise<void>((resolve) => {
      let running = this.job.iodepth;
      const slotDone = (): void => {
        if (--running === 0) resolve();
      };
      const slots: QueueSlot[] = [];
      for (let i = 0; i < this.job.iodepth; i++) {
        const writes = this.writeSource(phase);
        const buffer = Buffer.allocUnsafe(this.pattern.maxBs);
        const check = this.checksReads(phase);
        slots.push(
          new QueueSlot(
            this,
            queue,
            this.bdev.blockSize,
            phase,
            source,
            buffer,
            writes,
            check,
            slotDone,
          ),
        );
      }
      for (const s of slots) s.start();
    });
  }

  private writeSource(phase: Phase): WriteBufferSource | undefined {
    return phase !== 'verify' && hasWrites(this.job)
      ? new WriteBufferSource(this.job, this.pattern.maxBs)
      : undefined;
  }

  private checksReads(phase: Phase): boolean {
    const job = this.job;
    return (
      job.verify !== undefined && (phase === 'verify' || (phase === 'main' && !hasWrites(job)))
    );
  }

  /**
   * @internal rate_iops (SlotHost.pace): the direction the pattern draws next, as the RateGate
   * lets it through — now, or a promise settled when it is due or the job has stopped.
   */
  pace(phase: Phase): Ddir | Promise<Ddir> | undefined {
    return this.gate && phase !== 'verify' ? this.gate.pass(this.pattern.direction()) : undefined;
  }

  /** @internal An I/O pace() let through was not issued. */
  unpaced(): void {
    this.gate!.done();
  }

  /** @internal The data of a WRITE about to be issued, stamped for verify and logged. */
  writeData(u: IoUnit, phase: Phase, writes: WriteBufferSource): Buffer {
    const job = this.job;
    const stamp = job.verify
      ? {
          offset: u.offset,
          seedLo: u.seedLo,
          seedHi: u.seedHi,
          thread: job.number,
          numberio: this.numberio,
        }
      : undefined;
    this.numberio = (this.numberio + 1) & NUMBERIO_MASK;
    const data = writes.take(u.length, stamp);
    if (this.verifyWrites && phase === 'main') this.writeLog.record(u);
    return data;
  }

  /** @internal An I/O was handed to the device. */
  issued(): void {
    this.stats.depth[depthBucket(++this.inFlight)] += this.recording ? 1 : 0;
  }

  /** @internal An I/O failed: the job ends with fio's io_u error. */
  ioFailed(u: IoUnit, err: Error): void {
    this.inFlight--;
    const what = u.ddir === READ ? 'read' : 'write';
    this.fail(
      EIO,
      `io_u error on file ${this.label}: ${err.message}: ${what} offset=${u.offset}, buflen=${u.length}`,
    );
  }

  /**
   * @internal An I/O completed at `t2`: counted, its read data verified when `checkReads`.
   * Returns false when the job failed (verify).
   */
  ioDone(
    u: IoUnit,
    t0: number,
    t1: number,
    t2: number,
    read: Buffer | undefined,
    checkReads: boolean,
    phase: Phase,
  ): boolean {
    this.inFlight--;
    if (this.gate && phase !== 'verify') this.gate.done();
    this.account(u, t0, t1, t2);
    if (checkReads && read) {
      const job = this.job;
      const failure = checkVerifyBlock(read, {
        kind: job.verify!,
        offset: u.offset,
        seedLo: phase === 'verify' ? u.seedLo : undefined,
        seedHi: phase === 'verify' ? u.seedHi : undefined,
        pattern: job.verifyPattern,
        file: this.label,
      });
      if (failure) {
        this.fail(EILSEQ, failure);
        return false;
      }
    }
    if (t2 >= this.endAt) {
      this.stopped = true;
      this.gate?.ended();
    }
    return true;
  }

  /** @internal Whether timers and signals have waited too long (see HEARTBEAT_MS). */
  starved(now: number): boolean {
    return now - this.lastBeat > STARVED_MS;
  }

  private promiseSlot(phase: Phase, source: IoSource): PromiseSlot {
    const writes = this.writeSource(phase);
    const checkReads = this.checksReads(phase);
    const readBuffer = this.readInto ? Buffer.allocUnsafe(this.pattern.maxBs) : undefined;
    return new PromiseSlot(
      this,
      this.bdev,
      this.readInto,
      this.clock,
      phase,
      source,
      readBuffer,
      writes,
      checkReads,
    );
  }

  private account(u: IoUnit, t0: number, t1: number, t2: number): void {
    if (!this.recording) return;
    const d = this.stats.dirs[u.ddir];
    d.ios++;
    d.bytes += u.length;
    this.progress.ios[u.ddir]++;
    this.progress.bytes[u.ddir] += u.length;
    const slat = (t1 - t0) * NS_PER_MS;
    const clat = (t2 - t1) * NS_PER_MS;
    const lat = (t2 - t0) * NS_PER_MS;
    d.slat.record(slat);
    d.clat.record(clat);
    d.lat.record(lat);
    if (this.logs.any)
      this.logs.add(t2 - this.measureStart, u.ddir, u.length, u.offset, slat, clat, lat);
    if (t2 >= this.sampler.nextSampleAt) this.sampler.sample(t2);
  }

  private fail(errno: number, text: string): void {
    if (this.stats.error === 0) {
      this.stats.error = errno;
      this.stats.errorText = text;
    }
    this.stopped = true;
    this.gate?.ended();
  }
}

/**
 * One of a job's `iodepth` slots on an engine with a queue/complete interface (IoQueue), as fio
 * drives an async engine: the slot owns its io_u — this object, its read buffer, its write buffer
 * source — queues one I/O, is called back when it completes, accounts it and queues the next.
 * Nothing is allocated per I/O here (no promise, no closure), so the garbage collector's pauses,
 * which stop every I/O in flight, stay rare. Same slat as PromiseSlot (from preparing the I/O to
 * the queue call returning); clat runs from there to this callback's own clock reading, where
 * PromiseSlot's completions share one time per batch (BatchClock). Sharing it here too (each
 * batch stamped at its first callback) moved nvmf-bench's QD32 p50 on nbdkit from 0.87–0.90×
 * fio's to 0.98–1.02× and its IOPS from 0.96–0.98× to 0.89–0.93× in interleaved runs (5 and 6
 * rounds; p99 1.47–1.70 either way): within the noise, so not done.
 */
import type { IoCompletion, IoQueue } from '../engines/io-engine.js';
import { READ, type Ddir } from '../options/job-spec.js';
import type { IoUnit } from '../workload/io-pattern.js';
import type { WriteBufferSource } from '../workload/write-buffers.js';
import type { Phase } from './job-runner.js';

/**
 * The job's next I/O (written into `reuse` when the source can), in direction `ddir` when given
 * (the direction rate_iops' pacing chose: SlotHost.pace), or undefined at the end.
 */
export type IoSource = (reuse?: IoUnit, ddir?: Ddir) => IoUnit | undefined;

/** What a slot needs of its job (JobRunner). */
export interface SlotHost {
  readonly stopped: boolean;
  /**
   * rate_iops: undefined when the phase is not paced, else the direction the next I/O goes in,
   * now or (a promise) when it is due; the slot checks `stopped` before drawing it.
   */
  pace(phase: Phase): Ddir | Promise<Ddir> | undefined;
  /** An I/O pace() let through was not issued (the source had none left). */
  unpaced(): void;
  writeData(u: IoUnit, phase: Phase, writes: WriteBufferSource): Buffer;
  issued(): void;
  ioFailed(u: IoUnit, err: Error): void;
  ioDone(
    u: IoUnit,
    t0: number,
    t1: number,
    t2: number,
    read: Buffer | undefined,
    checkReads: boolean,
    phase: Phase,
  ): boolean;
  starved(now: number): boolean;
}

export class QueueSlot implements IoCompletion {
  /** The I/O in flight, and when it was prepared and queued. */
  private unit: IoUnit | undefined;
  private t0 = 0;
  private t1 = 0;
  /** Where the read in flight lands: the slot's buffer, or a view of it for a shorter read. */
  private readView: Buffer;
  private finished = false;
  /** The unit the source writes the next I/O into. */
  private readonly own: IoUnit = { ddir: READ, offset: 0, length: 0, seedLo: 0, seedHi: 0 };
  private readonly next = (): void => this.issueNext();
  private readonly paced = (ddir: Ddir): void => {
    if (this.host.stopped) this.finish();
    else this.draw(ddir);
  };

  constructor(
    private readonly host: SlotHost,
    private readonly queue: IoQueue,
    private readonly blockSize: number,
    private readonly phase: Phase,
    private readonly source: IoSource,
    /** The slot's read buffer (the largest bs), reused for every read as an io_u buffer is. */
    private readonly buffer: Buffer,
    private readonly writes: WriteBufferSource | undefined,
    private readonly checkReads: boolean,
    private readonly onFinished: () => void,
  ) {
    this.readView = buffer;
  }

  start(): void {
    this.issueNext();
  }

  /** The I/O in flight completed (IoCompletion). */
  ioDone(err: Error | undefined): void {
    const t2 = performance.now();
    const u = this.unit!;
    this.unit = undefined;
    const host = this.host;
    if (err) {
      host.ioFailed(u, err);
      return this.finish();
    }
    const read = u.ddir === READ ? this.readView : undefined;
    if (!host.ioDone(u, this.t0, this.t1, t2, read, this.checkReads, this.phase)) {
      return this.finish();
    }
    if (host.starved(t2)) setImmediate(this.next);
    else this.issueNext();
  }

  private issueNext(): void {
    if (this.host.stopped) return this.finish();
    const go = this.host.pace(this.phase);
    if (go === undefined) {
      const u = this.source(this.own);
      if (!u) return this.finish();
      return this.issue(u);
    }
    if (typeof go === 'number') this.draw(go);
    else void go.then(this.paced);
  }

  /** The next I/O in the direction pacing chose. */
  private draw(ddir: Ddir): void {
    const u = this.source(this.own, ddir);
    if (u) return this.issue(u);
    this.host.unpaced();
    this.finish();
  }

  private issue(u: IoUnit): void {
    const host = this.host;
    this.unit = u;
    try {
      if (u.ddir === READ) {
        const into = this.viewOf(u.length);
        this.t0 = performance.now();
        this.queue.read(u.offset / this.blockSize, into, this);
      } else {
        const data = host.writeData(u, this.phase, this.writes!);
        this.t0 = performance.now();
        this.queue.write(u.offset / this.blockSize, data, this);
      }
    } catch (err) {
      host.issued();
      host.ioFailed(u, err as Error);
      return this.finish();
    }
    this.t1 = performance.now();
    host.issued();
  }

  /** The read buffer cut to `length` bytes; the view is kept while reads keep that length. */
  private viewOf(length: number): Buffer {
    if (this.readView.length !== length) {
      this.readView = length === this.buffer.length ? this.buffer : this.buffer.subarray(0, length);
    }
    return this.readView;
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.onFinished();
  }
}

/**
 * The ioengine seam: every engine turns a job's target (filename, uri, size) into a Bdev, the
 * project's one block-device interface (DESIGN.md), and the job runner drives only that Bdev.
 * Engines register by name, as fio's ioengines do, so `dpu` and `rdma` slot in later with one
 * registerEngine() call and no change to the runner.
 */
import type { Bdev } from '../../bdev/bdev.js';
import { BenchUsageError } from '../errors.js';

export interface EngineTarget {
  jobName: string;
  /** 1-based job number (fio's thread number). */
  jobNumber: number;
  filename?: string;
  uri?: string;
  /** The job's size in bytes when given as bytes (an in-process device is made this large). */
  sizeBytes?: number;
  iodepth: number;
}

export interface OpenedDevice {
  bdev: Bdev;
  /** The name fio prints after "file" in messages (verify failures, I/O errors). */
  label: string;
  /** Releases this job's hold on the device. */
  release(): Promise<void>;
  /**
   * Optional: reads into the caller's buffer (exactly `blocks * blockSize` bytes) and resolves
   * with it. The runner then reads into buffers of its own that it reuses, as fio reads into its
   * io_u buffers, so that a read allocates nothing whose collection would pause the job.
   */
  readInto?(lba: number, blocks: number, into: Buffer): Promise<Buffer>;
  /** Optional: plain reads and writes without a promise each (the runner then uses it). */
  queue?: IoQueue;
}

/** Called back once per queued I/O: undefined on success, else why it failed. */
export interface IoCompletion {
  ioDone(err: Error | undefined): void;
}

/**
 * fio's queue/complete style (an engine's ->queue() and its reaped events): the runner queues an
 * I/O with a completion object it reuses, and is called back, never during the queue call. No
 * promise per I/O. A bad range throws from the queue call.
 */
export interface IoQueue {
  /** Reads `into.length` bytes at `lba` into `into`. */
  read(lba: number, into: Buffer, done: IoCompletion): void;
  write(lba: number, data: Buffer, done: IoCompletion): void;
}

export interface IoEngine {
  readonly name: string;
  /** One line for --help. */
  readonly description: string;
  open(target: EngineTarget): Promise<OpenedDevice>;
}

const engines = new Map<string, IoEngine>();

export function registerEngine(engine: IoEngine): void {
  engines.set(engine.name, engine);
}

export function getEngine(name: string): IoEngine {
  const engine = engines.get(name);
  if (!engine) {
    throw new BenchUsageError(
      `ioengine="${name}" is not available; available: ${[...engines.keys()].join(', ')}`,
    );
  }
  return engine;
}

export function listEngines(): IoEngine[] {
  return [...engines.values()];
}

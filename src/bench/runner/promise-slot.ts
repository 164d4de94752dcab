/**
 * One of a job's `iodepth` slots on an engine without a queue/complete interface: the slot awaits
 * the Bdev's promise for each I/O, then issues the next (QueueSlot is the promise-free variant).
 * Same accounting: slat from preparing the I/O to the Bdev call returning its promise, clat from
 * there to the completion time its batch shares (BatchClock).
 */
import type { Bdev } from '../../bdev/bdev.js';
import type { OpenedDevice } from '../engines/io-engine.js';
import { READ, WRITE } from '../options/job-spec.js';
import type { WriteBufferSource } from '../workload/write-buffers.js';
import type { BatchClock } from './batch-clock.js';
import type { Phase } from './job-runner.js';
import type { IoSource, SlotHost } from './queue-slot.js';

export class PromiseSlot {
  constructor(
    private readonly host: SlotHost,
    private readonly bdev: Bdev,
    /** The engine's read into a caller's buffer, when it has one (OpenedDevice.readInto). */
    private readonly readInto: OpenedDevice['readInto'],
    private readonly clock: BatchClock,
    private readonly phase: Phase,
    private readonly source: IoSource,
    /** The slot's own read buffer, reused for every read as an fio io_u buffer is. */
    private readonly readBuffer: Buffer | undefined,
    private readonly writes: WriteBufferSource | undefined,
    private readonly checkReads: boolean,
  ) {}

  /** Issues I/O until the source ends, the job stops or an I/O fails. */
  async run(): Promise<void> {
    const host = this.host;
    const phase = this.phase;
    while (!host.stopped) {
      let go = host.pace(phase);
      if (go !== undefined && typeof go !== 'number') {
        go = await go;
        if (host.stopped) return;
      }
      const u = this.source(undefined, go);
      if (!u) {
        if (go !== undefined) host.unpaced();
        return;
      }
      const data = u.ddir === WRITE ? host.writeData(u, phase, this.writes!) : undefined;
      const lba = u.offset / this.bdev.blockSize;
      const t0 = performance.now();
      const pending =
        u.ddir === READ ? this.read(lba, u.length, this.readBuffer) : this.bdev.write(lba, data!);
      const t1 = performance.now();
      host.issued();
      let result: Buffer | void;
      try {
        result = await pending;
      } catch (err) {
        host.ioFailed(u, err as Error);
        return;
      }
      const t2 = this.clock.completedAt();
      if (!host.ioDone(u, t0, t1, t2, result || undefined, this.checkReads, phase)) return;
      if (host.starved(t2)) {
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  /** A read of `length` bytes, into the slot's buffer when the engine can read into one. */
  private read(lba: number, length: number, buffer: Buffer | undefined): Promise<Buffer> {
    const blocks = length / this.bdev.blockSize;
    if (!buffer || !this.readInto) return this.bdev.read(lba, blocks);
    return this.readInto(
      lba,
      blocks,
      length === buffer.length ? buffer : buffer.subarray(0, length),
    );
  }
}

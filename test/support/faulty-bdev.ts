/**
 * Test fixture: a bdev wrapper that passes every request to a real bdev until told to fail
 * (like nbdkit's error filter), or holds requests until released (to interleave I/O on purpose).
 * It is a fault injector around a real part, not a stand-in for one.
 */
import type { Bdev, BlockStatusExtent, LbaRange, WriteOptions } from '../../src/bdev/bdev.js';
import { BdevStats } from '../../src/bdev/bdev.js';
import { NvmeStatusError } from '../../src/nvme/status.js';

export type FaultyOp = 'read' | 'write' | 'flush' | 'writeZeroes' | 'deallocate' | 'blockStatus';

const ALL_OPS: readonly FaultyOp[] = [
  'read',
  'write',
  'flush',
  'writeZeroes',
  'deallocate',
  'blockStatus',
];

/** SCT 3 Path Related, SC 0x00 Internal Path Error: what a lost storage node looks like. */
const PATH_SCT = 0x3;
const INTERNAL_PATH_ERROR = 0x00;

interface Gate {
  ops: ReadonlySet<FaultyOp>;
  /** Requests still to be held; later ones pass. */
  remaining: number;
  waiting: (() => void)[];
  /** Resolves each time a request arrives at the gate. */
  arrived: (op: FaultyOp) => void;
}

export class FaultyBdev implements Bdev {
  readonly name: string;
  readonly blockSize: number;
  readonly blockCount: number;
  readonly stats = new BdevStats();
  readonly blockStatus?: (lba: number, blocks: number) => Promise<BlockStatusExtent[]>;
  /** Requests refused since the last heal(), by operation. */
  readonly refused: Record<FaultyOp, number> = {
    read: 0,
    write: 0,
    flush: 0,
    writeZeroes: 0,
    deallocate: 0,
    blockStatus: 0,
  };
  private failing = new Set<FaultyOp>();
  private gate: Gate | undefined;

  constructor(readonly inner: Bdev) {
    this.name = `faulty(${inner.name})`;
    this.blockSize = inner.blockSize;
    this.blockCount = inner.blockCount;
    if (inner.blockStatus) {
      this.blockStatus = (lba, blocks) =>
        this.pass('blockStatus', () => inner.blockStatus!(lba, blocks));
    }
  }

  /** From now on the listed operations (default all) fail with an Internal Path Error. */
  fail(ops: readonly FaultyOp[] = ALL_OPS): void {
    this.failing = new Set(ops);
  }

  heal(): void {
    this.failing.clear();
    for (const k of ALL_OPS) this.refused[k] = 0;
  }

  /**
   * Holds the next `count` requests of the listed operations until `release()`; `onArrive` sees
   * each one as it is held. Requests already past the gate are not affected.
   */
  hold(
    ops: readonly FaultyOp[],
    onArrive: (op: FaultyOp) => void = () => undefined,
    count = Infinity,
  ): void {
    this.gate = { ops: new Set(ops), remaining: count, waiting: [], arrived: onArrive };
  }

  release(): void {
    const gate = this.gate;
    this.gate = undefined;
    for (const go of gate?.waiting ?? []) go();
  }

  read(lba: number, blocks: number): Promise<Buffer> {
    return this.pass('read', () => this.inner.read(lba, blocks));
  }
  write(lba: number, data: Buffer, opts?: WriteOptions): Promise<void> {
    return this.pass('write', () => this.inner.write(lba, data, opts));
  }
  flush(): Promise<void> {
    return this.pass('flush', () => this.inner.flush());
  }
  writeZeroes(lba: number, blocks: number): Promise<void> {
    return this.pass('writeZeroes', () => this.inner.writeZeroes(lba, blocks));
  }
  deallocate(ranges: readonly LbaRange[]): Promise<void> {
    return this.pass('deallocate', () => this.inner.deallocate(ranges));
  }
  close(): Promise<void> {
    return this.inner.close();
  }

  private async pass<T>(op: FaultyOp, run: () => Promise<T>): Promise<T> {
    const gate = this.gate;
    if (gate && gate.remaining > 0 && gate.ops.has(op)) {
      gate.remaining--;
      await new Promise<void>((resolve) => {
        gate.waiting.push(resolve);
        gate.arrived(op);
      });
    }
    if (this.failing.has(op)) {
      this.refused[op]++;
      this.stats.errors++;
      throw new NvmeStatusError(
        PATH_SCT,
        INTERNAL_PATH_ERROR,
        `${this.name}: injected ${op} failure`,
        false,
      );
    }
    return run();
  }
}

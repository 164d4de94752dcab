/**
 * In-process engines, to measure the bench's own overhead and to run fio job files that use fio's
 * `null` engine. `bdev` opens a bdev spec (`mem:SIZE[:BS]`, `null:SIZE[:BS]`, `file:PATH:SIZE[:BS]`,
 * default `mem:` of the job's size); `null` is a NullBdev of the job's size, as fio's null engine
 * needs no file. Jobs naming the same spec share one device, as fio jobs naming one file share it.
 */
import { createBdevFromSpec, type Bdev } from '../../bdev/index.js';
import { BenchUsageError } from '../errors.js';
import type { EngineTarget, IoEngine, OpenedDevice } from './io-engine.js';

/** Block size of devices made from a job's size (fits any bs that is a multiple of 512). */
const IMPLICIT_BLOCK_SIZE = 512;

interface Shared {
  bdev: Promise<Bdev>;
  holders: number;
}

class InProcessEngine implements IoEngine {
  private readonly shared = new Map<string, Shared>();

  constructor(
    readonly name: string,
    readonly description: string,
    private readonly specOf: (t: EngineTarget) => string,
  ) {}

  async open(target: EngineTarget): Promise<OpenedDevice> {
    const spec = this.specOf(target);
    let entry = this.shared.get(spec);
    if (!entry) {
      entry = { bdev: createBdevFromSpec(spec, spec), holders: 0 };
      this.shared.set(spec, entry);
      entry.bdev.catch(() => this.shared.delete(spec));
    }
    entry.holders++;
    const bdev = await entry.bdev;
    const held = entry;
    return {
      bdev,
      label: spec,
      release: async () => {
        if (--held.holders > 0) return;
        this.shared.delete(spec);
        await bdev.close();
      },
    };
  }
}

function sizeSpec(kind: 'mem' | 'null', t: EngineTarget): string {
  if (t.sizeBytes === undefined || t.sizeBytes <= 0) {
    throw new BenchUsageError(
      `job "${t.jobName}": ioengine needs --size (or --filename=${kind}:SIZE) to make its device`,
    );
  }
  return `${kind}:${t.sizeBytes}:${IMPLICIT_BLOCK_SIZE}`;
}

export const bdevEngine: IoEngine = new InProcessEngine(
  'bdev',
  'in-process bdev: --filename=mem:SIZE[:BS] | null:SIZE[:BS] | file:PATH:SIZE[:BS] (default mem: of --size)',
  (t) => t.filename ?? sizeSpec('mem', t),
);

export const nullEngine: IoEngine = new InProcessEngine(
  'null',
  "fio's null engine: an in-process NullBdev of --size; reads return zeroes, writes are dropped",
  (t) => sizeSpec('null', t),
);

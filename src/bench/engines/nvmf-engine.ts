/**
 * `nvmf`: an NVMe-oF namespace through the project's initiator. The filename is SPDK's fio plugin
 * form, `trtype=tcp traddr=127.0.0.1 trsvcid=4420 subnqn=nqn… ns=1` (colons in the NQN may be
 * escaped `\:` as fio requires), or the URI form `tcp://HOST:PORT/NQN?nsid=1`. Each job connects
 * its own controller with one I/O queue deep enough for its iodepth — one TCP connection per job.
 */
import { openRemoteBdev } from '../../initiator/index.js';
import { BenchUsageError } from '../errors.js';
import type { IoEngine } from './io-engine.js';

/** A queue of N entries holds N-1 commands (NVMe Base 2.0, 4.1.3: full when tail+1 == head). */
const QUEUE_SLACK = 1;
const DEFAULT_QUEUE_ENTRIES = 128;

export const nvmfEngine: IoEngine = {
  name: 'nvmf',
  description: 'NVMe/TCP: --filename="trtype=tcp traddr=HOST trsvcid=PORT subnqn=NQN ns=1"',
  async open(t) {
    if (!t.filename) {
      throw new BenchUsageError(
        `job "${t.jobName}": ioengine=nvmf needs --filename="trtype=tcp traddr=… trsvcid=… subnqn=… ns=1"`,
      );
    }
    const bdev = await openRemoteBdev(t.filename, {
      nrIoQueues: 1,
      queueDepth: Math.max(DEFAULT_QUEUE_ENTRIES, t.iodepth + QUEUE_SLACK),
    });
    return { bdev, label: t.filename, release: () => bdev.close() };
  },
};

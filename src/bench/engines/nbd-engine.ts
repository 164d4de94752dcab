/**
 * `nbd`: any NBD server (nbdkit, qemu-nbd, our own shim) through the project's NbdClient, which
 * implements Bdev. Like fio's nbd engine it takes `--uri=nbd://HOST:PORT/EXPORT` (or
 * `nbd+unix:///EXPORT?socket=PATH`); each job opens its own connection, as each fio job does.
 */
import { NbdClient } from '../../shim/nbd/index.js';
import { BenchUsageError } from '../errors.js';
import type { IoEngine } from './io-engine.js';

export const nbdEngine: IoEngine = {
  name: 'nbd',
  description: 'NBD client: --uri=nbd://HOST:PORT/EXPORT | nbd+unix:///EXPORT?socket=PATH',
  async open(t) {
    const uri = t.uri ?? t.filename;
    if (!uri)
      throw new BenchUsageError(
        `job "${t.jobName}": ioengine=nbd needs --uri=nbd://HOST:PORT/EXPORT`,
      );
    const client = await NbdClient.connect(uri);
    return {
      bdev: client,
      label: uri,
      release: () => client.close(),
      readInto: (lba, blocks, into) => client.readInto(lba, blocks, into),
      // Like fio's nbd engine over libnbd's aio calls: completions are called back, no promises.
      queue: {
        read: (lba, into, done) => client.queueRead(lba, into, done),
        write: (lba, data, done) => client.queueWrite(lba, data, done),
      },
    };
  },
};

/**
 * JobRunner on an engine's queue/complete interface (IoQueue: the nbd engine's callback path, no
 * promise per I/O), against this project's NbdServer over a real MemoryBdev: the same accounting
 * as the promise path, verify still catches a block corrupted behind the job's back, and an NBD
 * error ends the job with fio's io_u error naming the offset.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MediaStatus,
  MemoryBdev,
  NvmeStatusError,
  StatusCodeType,
} from '../../../src/bdev/index.js';
import { nbdEngine } from '../../../src/bench/engines/nbd-engine.js';
import type { OpenedDevice } from '../../../src/bench/engines/io-engine.js';
import { EILSEQ } from '../../../src/bench/errors.js';
import { parseCommandLine } from '../../../src/bench/options/command-line.js';
import { READ, WRITE, buildJobs } from '../../../src/bench/options/job-spec.js';
import { EIO, JobRunner } from '../../../src/bench/runner/job-runner.js';
import { NbdServer } from '../../../src/shim/nbd/index.js';
import { FaultyBdev } from '../shim/nbd/faulty-bdev.js';

const BLOCK = 4096;
const BLOCKS = 256;

function job(args: string[]) {
  const cl = parseCommandLine(['--name=q', '--ioengine=nbd', '--bs=4k', ...args]);
  return buildJobs([cl.jobs], cl.global.options)[0];
}

describe('JobRunner with an IoQueue (nbd engine callback completions)', () => {
  let server: NbdServer;
  let mem: MemoryBdev;
  let faulty: FaultyBdev;
  let port: number;

  beforeAll(async () => {
    mem = new MemoryBdev({ name: 'mem', blockSize: BLOCK, blockCount: BLOCKS });
    faulty = new FaultyBdev(BLOCK, BLOCKS);
    server = new NbdServer({
      exports: [
        { name: 'vol0', bdev: mem },
        { name: 'faulty', bdev: faulty },
      ],
    });
    ({ port } = (await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number });
  });
  afterAll(async () => {
    await server.close();
  });

  const open = (exportName: string): Promise<OpenedDevice> =>
    nbdEngine.open({
      jobName: 'q',
      jobNumber: 1,
      uri: `nbd://127.0.0.1:${port}/${exportName}`,
      iodepth: 8,
    });

  const runner = (spec: ReturnType<typeof job>, dev: OpenedDevice) =>
    new JobRunner(spec, dev.bdev, dev.label, dev.readInto?.bind(dev), dev.queue);

  it('writes with verify and reads every block back, counting each I/O once', async () => {
    const dev = await open('vol0');
    expect(dev.queue).toBeDefined();
    const spec = job(['--rw=randwrite', '--iodepth=8', '--size=1m', '--verify=crc32c']);
    const stats = await runner(spec, dev).run();
    await dev.release();
    expect(stats.error).toBe(0);
    const w = stats.dirs[WRITE];
    expect(w.ios).toBe((1 << 20) / BLOCK);
    expect(w.bytes).toBe(1 << 20);
    expect(w.clat.n).toBe(w.ios);
    // do_verify read every written block back once, through queue slots too.
    expect(stats.dirs[READ].ios).toBe(w.ios);
  });

  it('verify_only catches a block corrupted behind the job, naming its offset', async () => {
    const args = ['--rw=randwrite', '--iodepth=8', '--size=512k', '--verify=crc32c'];
    const dev = await open('vol0');
    expect((await runner(job(args), dev).run()).error).toBe(0);
    await dev.release();
    const lba = 37;
    const bad = Buffer.from(await mem.read(lba, 1));
    bad[100] ^= 0xff;
    await mem.write(lba, bad);
    const again = await open('vol0');
    const stats = await runner(job([...args, '--verify_only']), again).run();
    await again.release();
    expect(stats.error).toBe(EILSEQ);
    expect(stats.errorText).toContain(String(lba * BLOCK));
  });

  it('an NBD read error ends the job with fio’s io_u error naming the offset', async () => {
    faulty.fault = {
      lba: 0,
      blocks: BLOCKS,
      error: new NvmeStatusError(
        StatusCodeType.MediaAndDataIntegrity,
        MediaStatus.UnrecoveredReadError,
      ),
    };
    try {
      const dev = await open('faulty');
      const stats = await runner(job(['--rw=read', '--iodepth=4', '--size=64k']), dev).run();
      await dev.release();
      expect(stats.error).toBe(EIO);
      expect(stats.errorText).toMatch(/^io_u error on file nbd:.*: read offset=\d+, buflen=4096$/);
    } finally {
      faulty.fault = undefined;
    }
  });
});

import { describe, expect, it } from 'vitest';
import type { Bdev } from '../../../src/bdev/bdev.js';
import { MemoryBdev } from '../../../src/bdev/memory-bdev.js';
import { parseCommandLine } from '../../../src/bench/options/command-line.js';
import { READ, buildJobs } from '../../../src/bench/options/job-spec.js';
import { JobRunner, type JobPhase } from '../../../src/bench/runner/job-runner.js';

const BLOCK = 4096;
const BLOCKS = 256;

/** A memory bdev that counts the reads it completes in each phase of the runner using it. */
function countingBdev(phase: () => JobPhase) {
  const mem = new MemoryBdev({ name: 'mem', blockSize: BLOCK, blockCount: BLOCKS });
  const served = new Map<JobPhase, number>();
  const dev: Bdev = {
    name: mem.name,
    blockSize: mem.blockSize,
    blockCount: mem.blockCount,
    stats: mem.stats,
    read: async (lba, blocks) => {
      const data = await mem.read(lba, blocks);
      served.set(phase(), (served.get(phase()) ?? 0) + 1);
      return data;
    },
    write: (lba, data, opts) => mem.write(lba, data, opts),
    flush: () => mem.flush(),
    writeZeroes: (lba, blocks) => mem.writeZeroes(lba, blocks),
    deallocate: (ranges) => mem.deallocate(ranges),
    close: () => mem.close(),
  };
  return { dev, served };
}

function job(args: string[]) {
  const cl = parseCommandLine(['--name=r', '--ioengine=bdev', '--bs=4k', ...args]);
  return buildJobs([cl.jobs], cl.global.options)[0];
}

describe('JobRunner ramp_time (fio HOWTO: run this long before recording statistics)', () => {
  it('records only the I/O completed after the ramp: every figure restarts there', async () => {
    const { dev, served } = countingBdev(() => runner.progress.phase);
    const spec = job([
      '--rw=randread',
      '--iodepth=4',
      '--ramp_time=0.05',
      '--runtime=0.05',
      '--time_based',
    ]);
    const runner = new JobRunner(spec, dev, 'mem');
    const stats = await runner.run();
    const d = stats.dirs[READ];
    expect(served.get('ramp')).toBeGreaterThan(0);
    expect(d.ios).toBe(served.get('running'));
    expect(d.bytes).toBe(d.ios * BLOCK);
    expect(d.clat.n).toBe(d.ios);
    expect(d.slat.n).toBe(d.ios);
    expect(d.lat.n).toBe(d.ios);
    expect(stats.depth.reduce((a, b) => a + b, 0)).toBe(d.ios);
  });

  it('a sized job does its whole size after the ramp, whatever the ramp did', async () => {
    const { dev, served } = countingBdev(() => runner.progress.phase);
    const spec = job(['--rw=read', '--iodepth=2', '--size=1m', '--ramp_time=0.02']);
    const runner = new JobRunner(spec, dev, 'mem');
    const stats = await runner.run();
    expect(served.get('ramp')).toBeGreaterThan(0);
    expect(stats.dirs[READ].ios).toBe((1 << 20) / BLOCK);
    expect(stats.dirs[READ].ios).toBe(served.get('running'));
  });
});

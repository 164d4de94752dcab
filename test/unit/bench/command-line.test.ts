import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../../src/bench/options/command-line.js';
import { buildJobs, resolveJobOptions } from '../../../src/bench/options/job-spec.js';
import { BenchUsageError } from '../../../src/bench/errors.js';

describe('fio command line', () => {
  it('starts a job at each --name; options before the first are global', () => {
    const cl = parseCommandLine([
      '--ioengine=bdev',
      '--size=1m',
      '--name=a',
      '--rw=randwrite',
      '--name',
      'b',
      '--rw=read',
      '--time_based',
      '--runtime',
      '2',
      '--output-format=json+',
      '--output=out.json',
      'extra.fio',
    ]);
    expect(cl.global.options).toEqual([
      { key: 'ioengine', value: 'bdev' },
      { key: 'size', value: '1m' },
    ]);
    expect(cl.jobs.map((j) => j.name)).toEqual(['a', 'b']);
    expect(cl.jobs[1].options).toEqual([
      { key: 'name', value: 'b' },
      { key: 'rw', value: 'read' },
      { key: 'time_based', value: undefined },
      { key: 'runtime', value: '2' },
    ]);
    expect(cl.outputFormats).toEqual(['json+']);
    expect(cl.output).toBe('out.json');
    expect(cl.jobFiles).toEqual(['extra.fio']);
    const jobs = buildJobs([cl.jobs], cl.global.options);
    expect(jobs.map((j) => [j.name, j.rw, j.ioengine, j.timeBased, j.runtimeUsec])).toEqual([
      ['a', 'randwrite', 'bdev', false, undefined],
      ['b', 'read', 'bdev', true, 2_000_000],
    ]);
  });

  it('accepts several output formats and refuses an unknown one', () => {
    expect(parseCommandLine(['--output-format=normal,json']).outputFormats).toEqual([
      'normal',
      'json',
    ]);
    expect(() => parseCommandLine(['--output-format=terse'])).toThrow('--output-format="terse"');
  });

  it('refuses unsupported options and single-dash options in one line', () => {
    expect(() => parseCommandLine(['--name=a', '--direct=1'])).toThrow(/"direct".*not supported/);
    expect(() => parseCommandLine(['-h'])).toThrow(BenchUsageError);
    expect(() => parseCommandLine(['--name=a', '--rw'])).toThrow(
      '"rw" (command line) needs a value',
    );
  });
});

describe('job options', () => {
  const job = (opts: Record<string, string | undefined>) =>
    resolveJobOptions(
      'j',
      Object.entries(opts).map(([key, value]) => ({ key, value })),
    );

  it('has fio defaults', () => {
    const j = job({});
    expect(j).toMatchObject({
      rw: 'read',
      rwmixread: 50,
      iodepth: 1,
      numjobs: 1,
      doVerify: true,
      timeBased: false,
      rampUsec: 0,
      offset: { bytes: 0 },
      distribution: { kind: 'random' },
    });
    expect(j.bs).toEqual([
      { kind: 'fixed', size: 4096 },
      { kind: 'fixed', size: 4096 },
    ]);
  });

  it('reads distributions, rates and verify kinds', () => {
    expect(job({ random_distribution: 'pareto:0.2' }).distribution).toEqual({
      kind: 'pareto',
      h: 0.2,
    });
    expect(job({ random_distribution: 'normal' }).distribution).toEqual({
      kind: 'normal',
      devPercent: 0,
    });
    expect(job({ random_distribution: 'normal:5' }).distribution).toEqual({
      kind: 'normal',
      devPercent: 5,
    });
    expect(job({ rate_iops: '500,200' }).rateIops).toEqual([500, 200]);
    expect(job({ rate_iops: '1000' }).rateIops).toEqual([1000, 1000]);
    expect(job({ verify: 'crc32c-intel' }).verify).toBe('crc32c');
    expect(job({ verify: 'md5', rw: 'write' }).verify).toBe('md5');
  });

  it('refuses contradictions with one sentence', () => {
    expect(() => job({ random_distribution: 'zipf' })).toThrow(/zipf.*theta/);
    expect(() => job({ random_distribution: 'zipf:1' })).toThrow(BenchUsageError);
    expect(() => job({ random_distribution: 'zipf:1.2:0.3' })).toThrow(/centre/);
    expect(() => job({ random_distribution: 'zoned:50/5:50/95' })).toThrow(/random_distribution/);
    expect(() => job({ verify: 'sha256' })).toThrow(/verify="sha256"/);
    expect(() => job({ verify: 'pattern' })).toThrow(/verify_pattern/);
    expect(() => job({ time_based: '1' })).toThrow(/runtime/);
    expect(() => job({ verify_only: '1' })).toThrow(/needs verify/);
    expect(() => job({ rw: 'trim' })).toThrow(/rw="trim"/);
    expect(() => job({ rwmixread: '101' })).toThrow(/rwmixread/);
  });
});

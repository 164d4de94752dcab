import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseJobFile } from '../../../src/bench/options/job-file.js';
import { buildJobs } from '../../../src/bench/options/job-spec.js';
import { BenchUsageError, UnsupportedOptionError } from '../../../src/bench/errors.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('fio job files', () => {
  it("parses fio's own examples/zipf.fio unchanged", () => {
    const sections = parseJobFile(fixture('zipf.fio'), 'zipf.fio');
    expect(sections).toHaveLength(1);
    const [job] = buildJobs([sections]);
    expect(job.name).toBe('job');
    expect(job.ioengine).toBe('null');
    expect(job.rw).toBe('randread');
    expect(job.random).toBe(true);
    expect(job.norandommap).toBe(true);
    expect(job.size).toEqual({ bytes: 1280 * 1024 * 1024 });
    expect(job.bs[0]).toEqual({ kind: 'fixed', size: 4096 });
    expect(job.distribution).toEqual({ kind: 'zipf', theta: 0.5 });
  });

  it('applies [global] to the jobs after it, a job overriding it, and expands numjobs', () => {
    const text = [
      '; comment',
      '[global]',
      'ioengine=bdev',
      'bs=4k',
      'rw = randread',
      '',
      '[a]',
      'numjobs=2',
      '[b]',
      'bs=8k',
      '# another comment',
      '[global]',
      'iodepth=16',
      '[c]',
    ].join('\n');
    const jobs = buildJobs([parseJobFile(text, 'f.fio')]);
    expect(jobs.map((j) => [j.name, j.number, j.clone])).toEqual([
      ['a', 1, 0],
      ['a', 2, 1],
      ['b', 3, 0],
      ['c', 4, 0],
    ]);
    expect(jobs.map((j) => j.bs[0])).toEqual([
      { kind: 'fixed', size: 4096 },
      { kind: 'fixed', size: 4096 },
      { kind: 'fixed', size: 8192 },
      { kind: 'fixed', size: 4096 },
    ]);
    expect(jobs.map((j) => j.iodepth)).toEqual([1, 1, 1, 16]);
    expect(jobs.every((j) => j.rw === 'randread' && j.ioengine === 'bdev')).toBe(true);
  });

  it('puts jobs after a stonewall into a new reporting group', () => {
    const text = '[a]\n[b]\n[c]\nstonewall\n[d]\n[e]\nstonewall=1\n';
    const jobs = buildJobs([parseJobFile(text, 'f.fio')]);
    expect(jobs.map((j) => j.groupId)).toEqual([0, 0, 1, 1, 2]);
  });

  it('refuses an unsupported option in one line naming it, the file and the line', () => {
    let err: unknown;
    try {
      parseJobFile('[a]\nrw=read\ndirect=1\n', 'x.fio');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedOptionError);
    const msg = (err as Error).message;
    expect(msg).toContain('"direct"');
    expect(msg).toContain('x.fio:3');
    expect(msg).not.toContain('\n');
  });

  it('refuses an option outside a section, a command-line option in a job, a bad header', () => {
    expect(() => parseJobFile('rw=read\n[a]\n', 'x.fio')).toThrow(/x\.fio:1.*outside/);
    expect(() => parseJobFile('[a]\noutput=x\n', 'x.fio')).toThrow(/command line/);
    expect(() => parseJobFile('[a\n', 'x.fio')).toThrow(BenchUsageError);
  });

  it('expands ${VAR} from the environment and refuses an unset one', () => {
    const sections = parseJobFile('[a]\nsize=${SZ}\n', 'x.fio', { SZ: '8m' });
    expect(sections[0].options).toEqual([{ key: 'size', value: '8m' }]);
    expect(() => parseJobFile('[a]\nsize=${NOPE}\n', 'x.fio', {})).toThrow(/NOPE/);
  });

  it('maps fio aliases to their options', () => {
    const [s] = parseJobFile('[a]\nreadwrite=randrw\nblocksize=8k\n', 'x.fio');
    expect(s.options.map((o) => o.key)).toEqual(['rw', 'bs']);
    const [job] = buildJobs([[s]]);
    expect(job.rw).toBe('randrw');
  });
});

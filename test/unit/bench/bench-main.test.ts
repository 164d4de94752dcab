import {
  mkdtempSync,
  readFileSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
  existsSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { benchMain } from '../../../src/bench/index.js';

const dir = mkdtempSync(join(tmpdir(), 'nvmf-bench-main-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

async function bench(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new Capture();
  const err = new Capture();
  const code = await benchMain(args, { stdout: out, stderr: err });
  return { code, out: out.text, err: err.text };
}

/* eslint-disable @typescript-eslint/no-explicit-any */
const parse = (text: string): any => JSON.parse(text);

describe('nvmf-bench end to end in process (bdev engine)', () => {
  it('writes fio JSON: schema, counts, percentiles and json+ bins', async () => {
    const r = await bench([
      '--name=j',
      '--ioengine=bdev',
      '--filename=mem:8MiB:4096',
      '--rw=randrw',
      '--rwmixread=50',
      '--bs=4k',
      '--iodepth=4',
      '--output-format=json+',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const doc = parse(r.out);
    expect(doc['fio version']).toMatch(/^nvmf-bench-/);
    expect(doc.jobs).toHaveLength(1);
    const job = doc.jobs[0];
    expect(job.jobname).toBe('j');
    expect(job.error).toBe(0);
    expect(job['job options']).toMatchObject({ rw: 'randrw', bs: '4k', iodepth: '4' });
    // The random map covers the 8 MiB region exactly once: 2048 I/Os of 4 KiB.
    expect(job.read.total_ios + job.write.total_ios).toBe(2048);
    expect(job.read.io_bytes + job.write.io_bytes).toBe(8 * 1024 * 1024);
    expect(job.read.io_kbytes).toBe(job.read.io_bytes / 1024);
    for (const d of ['read', 'write']) {
      const clat = job[d].clat_ns;
      expect(Object.keys(clat.percentile)).toEqual([
        '1.000000',
        '5.000000',
        '10.000000',
        '20.000000',
        '30.000000',
        '40.000000',
        '50.000000',
        '60.000000',
        '70.000000',
        '80.000000',
        '90.000000',
        '95.000000',
        '99.000000',
        '99.500000',
        '99.900000',
        '99.950000',
        '99.990000',
      ]);
      expect(clat.N).toBe(job[d].total_ios);
      const bins = Object.entries(clat.bins as Record<string, number>);
      expect(bins.reduce((s, [, c]) => s + c, 0)).toBe(clat.N);
      expect(bins.every(([k]) => /^\d+$/.test(k))).toBe(true);
      expect(job[d].lat_ns.N).toBe(job[d].total_ios);
      expect(job[d].slat_ns.min).toBeLessThanOrEqual(job[d].slat_ns.max);
    }
    expect(job.trim.total_ios).toBe(0);
    expect(job.sync.total_ios).toBe(0);
    for (const key of [
      'latency_ns',
      'latency_us',
      'latency_ms',
      'iodepth_level',
      'iodepth_submit',
      'iodepth_complete',
    ]) {
      expect(typeof job[key]).toBe('object');
    }
    expect(Object.keys(job.latency_ms)).toEqual([
      '2',
      '4',
      '10',
      '20',
      '50',
      '100',
      '250',
      '500',
      '750',
      '1000',
      '2000',
      '>=2000',
    ]);
    const latShare = [job.latency_ns, job.latency_us, job.latency_ms]
      .flatMap((t) => Object.values(t as Record<string, number>))
      .reduce((a, b) => a + b, 0);
    expect(Math.abs(latShare - 100)).toBeLessThan(0.5);
    expect(typeof job.usr_cpu).toBe('number');
  });

  it('prints the fio text report', async () => {
    const r = await bench(['--name=t', '--ioengine=null', '--size=4m', '--rw=read', '--bs=64k']);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe(
      't: (g=0): rw=read, bs=(R) 65536B-65536B, (W) 65536B-65536B, (T) 65536B-65536B, ioengine=null, iodepth=1',
    );
    expect(r.out).toMatch(/^t: \(groupid=0, jobs=1\): err= 0: pid=\d+: /m);
    expect(r.out).toMatch(
      /^ {2}read: IOPS=[\d.]+k?, BW=[\d.]+[KMG]?i?B\/s \([\d.]+[kMG]?B\/s\)\(4096KiB\/\d+msec\)$/m,
    );
    expect(r.out).toMatch(/^ {4}clat percentiles \((nsec|usec|msec)\):$/m);
    expect(r.out).toMatch(/^ {5}\| {2}1\.00th=\[/m);
    expect(r.out).toContain('     issued rwts: total=64,0,0,0 short=0,0,0,0 dropped=0,0,0,0');
    expect(r.out).toMatch(/^Run status group 0 \(all jobs\):$/m);
    expect(r.out).toMatch(/^ {3}READ: bw=.*, io=4096KiB \(4194kB\), run=\d+-\d+msec$/m);
  });

  it('refuses an unsupported option with one line and exit 1, running nothing', async () => {
    const r = await bench(['--name=a', '--ioengine=null', '--size=1m', '--direct=1']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^nvmf-bench: option "direct" \(command line\) is not supported/);
    const unknownEngine = await bench(['--name=a', '--ioengine=libaio', '--size=1m']);
    expect(unknownEngine.code).toBe(1);
    expect(unknownEngine.err).toMatch(
      /ioengine="libaio" is not available; available: bdev, null, nbd, nvmf/,
    );
  });

  it("runs fio's examples/zipf.fio unchanged", async () => {
    const r = await bench([
      '--output-format=json',
      new URL('./fixtures/zipf.fio', import.meta.url).pathname,
    ]);
    expect(r.code).toBe(0);
    const job = parse(r.out).jobs[0];
    expect(job.jobname).toBe('job');
    expect(job.read.total_ios).toBe((1280 * 1024 * 1024) / 4096);
  });

  it('reports stonewalled groups and folds a group with group_reporting', async () => {
    const file = join(dir, 'groups.fio');
    writeFileSync(
      file,
      '[global]\nioengine=null\nsize=1m\n[a]\nnumjobs=3\ngroup_reporting\n[b]\nstonewall\nrw=write\n',
    );
    const r = await bench(['--output-format=json', file]);
    expect(r.code).toBe(0);
    const jobs = parse(r.out).jobs;
    expect(jobs.map((j: any) => [j.jobname, j.groupid])).toEqual([
      ['a', 0],
      ['b', 1],
    ]);
    expect(jobs[0].read.total_ios).toBe(3 * 256);
    expect(jobs[1].write.total_ios).toBe(256);
  });

  it('verifies what it wrote, and on a block changed behind its back exits 1 naming the offset', async () => {
    const img = join(dir, 'v.img');
    const target = `file:${img}:1MiB:4096`;
    const write = await bench([
      '--name=v',
      '--ioengine=bdev',
      `--filename=${target}`,
      '--rw=randwrite',
      '--bs=4k',
      '--iodepth=8',
      '--verify=crc32c',
      '--output-format=json',
    ]);
    expect(write.err).toBe('');
    expect(write.code).toBe(0);
    const wjob = parse(write.out).jobs[0];
    expect(wjob.write.total_ios).toBe(256);
    expect(wjob.read.total_ios).toBe(256); // the verify pass read every block back
    const again = await bench([
      '--name=v',
      '--ioengine=bdev',
      `--filename=${target}`,
      '--rw=randwrite',
      '--bs=4k',
      '--verify=crc32c',
      '--verify_only',
      '--output-format=json',
    ]);
    expect(again.code).toBe(0);
    // Corrupt block 37 behind the bench's back.
    const fd = openSync(img, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0xab), 0, 4096, 37 * 4096);
    closeSync(fd);
    const bad = await bench([
      '--name=v',
      '--ioengine=bdev',
      `--filename=${target}`,
      '--rw=randwrite',
      '--bs=4k',
      '--verify=crc32c',
      '--verify_only',
      '--output-format=json',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(
      `verify: bad magic header abab, wanted acca at file ${target} offset ${37 * 4096}, length 4096`,
    );
    expect(parse(bad.out).jobs[0].error).toBe(84);
  });

  it('writes fio logs and an SVG plot', async () => {
    const prefix = join(dir, 'run');
    const plot = join(dir, 'plot.svg');
    const r = await bench([
      '--name=l',
      '--ioengine=bdev',
      '--size=2m',
      '--rw=randread',
      '--bs=4k',
      `--write_lat_log=${prefix}`,
      `--write_iops_log=${prefix}`,
      `--write_bw_log=${prefix}`,
      `--plot=${plot}`,
      `--output=${join(dir, 'out.txt')}`,
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    for (const kind of ['slat', 'clat', 'lat', 'iops', 'bw']) {
      const lines = readFileSync(`${prefix}_${kind}.1.log`, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(512);
      for (const line of lines) expect(line).toMatch(/^\d+, \d+, 0, 4096$/);
    }
    const svg = readFileSync(plot, 'utf8');
    expect(svg.startsWith('<?xml')).toBe(true);
    expect(svg).toContain('<svg');
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('Completion latency (clat) histogram');
    expect(existsSync(join(dir, 'out.txt'))).toBe(true);
    expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toContain('Run status group 0');
  });
});

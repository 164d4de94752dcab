import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IoLog, logFileName } from '../../../src/bench/stats/io-log.js';
import { RateLimiter } from '../../../src/bench/workload/rate-limiter.js';

const dir = mkdtempSync(join(tmpdir(), 'nvmf-bench-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("fio's log files", () => {
  it('names logs PREFIX_KIND.JOB.log', () => {
    expect(logFileName('run', 'clat', 3)).toBe('run_clat.3.log');
  });

  it('writes one "time, value, ddir, bs" line per I/O, with the offset column when asked', async () => {
    const plain = new IoLog('clat', join(dir, 'a_clat.1.log'), 0, false);
    plain.add(0.4, 0, 4096, 8192, 12345.6);
    plain.add(2.9, 1, 8192, 0, 999);
    await plain.write(3);
    expect(readFileSync(join(dir, 'a_clat.1.log'), 'utf8')).toBe(
      '0, 12346, 0, 4096\n2, 999, 1, 8192\n',
    );
    const withOffset = new IoLog('lat', join(dir, 'b_lat.1.log'), 0, true);
    withOffset.add(1, 0, 4096, 8192, 5);
    await withOffset.write(1);
    expect(readFileSync(join(dir, 'b_lat.1.log'), 'utf8')).toBe('1, 5, 0, 4096, 8192\n');
  });

  it('per I/O, iops entries are 1 and bw entries are bytes per ms of latency', async () => {
    const iops = new IoLog('iops', join(dir, 'c_iops.1.log'), 0, false);
    const bw = new IoLog('bw', join(dir, 'c_bw.1.log'), 0, false);
    iops.add(5, 0, 4096, 0, 211381);
    bw.add(5, 0, 4096, 0, 211381);
    await Promise.all([iops.write(5), bw.write(5)]);
    expect(readFileSync(join(dir, 'c_iops.1.log'), 'utf8')).toBe('5, 1, 0, 4096\n');
    // fio 3.33 logged 19377 for a 4 KiB read whose clat was 211381 ns.
    expect(readFileSync(join(dir, 'c_bw.1.log'), 'utf8')).toBe('5, 19377, 0, 4096\n');
  });

  it('with log_avg_msec writes one averaged row per direction per window, bs 0', async () => {
    const lat = new IoLog('clat', join(dir, 'd_clat.1.log'), 100, false);
    const iops = new IoLog('iops', join(dir, 'd_iops.1.log'), 100, false);
    const bw = new IoLog('bw', join(dir, 'd_bw.1.log'), 100, false);
    const feed = (t: number, ddir: 0 | 1, ns: number) => {
      for (const l of [lat, iops, bw]) l.add(t, ddir, 4096, 0, ns);
    };
    feed(10, 0, 100);
    feed(20, 0, 300);
    feed(30, 1, 1000);
    feed(150, 0, 50);
    await Promise.all([lat.write(200), iops.write(200), bw.write(200)]);
    expect(readFileSync(join(dir, 'd_clat.1.log'), 'utf8')).toBe(
      '100, 200, 0, 0\n100, 1000, 1, 0\n200, 50, 0, 0\n',
    );
    expect(readFileSync(join(dir, 'd_iops.1.log'), 'utf8')).toBe(
      '100, 20, 0, 0\n100, 10, 1, 0\n200, 10, 0, 0\n',
    );
    // Two 4 KiB reads in 100 ms: 80 KiB/s.
    expect(readFileSync(join(dir, 'd_bw.1.log'), 'utf8')).toBe(
      '100, 80, 0, 0\n100, 40, 1, 0\n200, 40, 0, 0\n',
    );
  });
});

describe('rate_iops schedule', () => {
  it('spaces each direction 1/rate apart from the start and lets a late job catch up', () => {
    const r = new RateLimiter([1000, undefined], 0);
    expect(r.active).toBe(true);
    expect(r.limits(0)).toBe(true);
    expect(r.limits(1)).toBe(false);
    expect(r.dueAt(0, 0)).toBe(0);
    r.take(0);
    expect(r.dueAt(0, 0)).toBe(1);
    r.take(0);
    expect(r.dueAt(0, 0)).toBe(2);
    r.take(0);
    // At 5 ms the slots of 3 and 4 ms are overdue: due at once, then on schedule again.
    expect(r.dueAt(0, 5)).toBe(3);
    r.take(0);
    r.take(0);
    r.take(0);
    expect(r.dueAt(0, 5)).toBe(6);
    // More than a second behind (a stalled device): the schedule restarts instead of bursting.
    expect(r.dueAt(0, 2000)).toBe(2000);
    // A new phase does not owe the time between phases.
    r.resume(3000);
    expect(r.dueAt(0, 3000)).toBe(3000);
    expect(new RateLimiter([undefined, undefined], 0).active).toBe(false);
  });
});

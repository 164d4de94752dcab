import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { resolveJobOptions } from '../../../src/bench/options/job-spec.js';
import { StatusLine } from '../../../src/bench/report/status-line.js';
import { buildPlotSvg } from '../../../src/bench/report/plot-svg.js';
import { JobStats } from '../../../src/bench/stats/job-stats.js';
import type { JobProgress } from '../../../src/bench/runner/job-runner.js';

const spec = (opts: Record<string, string>) =>
  resolveJobOptions(
    's',
    Object.entries(opts).map(([key, value]) => ({ key, value })),
  );

class Sink extends Writable {
  override _write(_c: Buffer, _e: BufferEncoding, cb: () => void): void {
    cb();
  }
}

describe('status line', () => {
  it("renders fio's layout: jobs, states, progress, rates and ETA", () => {
    const p1: JobProgress = {
      phase: 'running',
      ios: [0, 0],
      bytes: [0, 0],
      startMs: 0,
      plannedMs: 10_000,
    };
    const p2: JobProgress = {
      phase: 'running',
      ios: [0, 0],
      bytes: [0, 0],
      startMs: 0,
      plannedMs: 10_000,
    };
    const status = new StatusLine(new Sink());
    status.attach([
      { spec: spec({ rw: 'randread' }), progress: p1, stop: () => {} },
      { spec: spec({ rw: 'randread' }), progress: p2, stop: () => {} },
    ]);
    // attach() started the clock at performance.now(); render well after it with known counts.
    const at = performance.now() + 5000;
    p1.ios = [50_000, 0];
    p1.bytes = [50_000 * 4096, 0];
    p2.ios = [50_000, 0];
    p2.bytes = [50_000 * 4096, 0];
    p1.startMs = p2.startMs = at - 5000;
    const line = status.render(at);
    expect(line).toMatch(
      /^Jobs: 2 \(f=2\): \[r\(2\)\]\[50\.0%\]\[r=[\d.]+MiB\/s,w=0B\/s\]\[r=[\d.]+k,w=0 IOPS\]\[eta 00m:05s\]$/,
    );
    status.stop();
  });
});

describe('--plot SVG', () => {
  it('draws the histogram bars and the IOPS lines of the jobs', () => {
    const s = new JobStats(spec({ rw: 'randrw' }));
    for (let i = 1; i <= 1000; i++) s.dirs[0].clat.record(10_000 + i * 50);
    s.timeline.push(
      { tMs: 500, readIops: 1000, writeIops: 500 },
      { tMs: 1000, readIops: 1200, writeIops: 400 },
    );
    const svg = buildPlotSvg([s], 'demo <job>');
    expect(svg).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<svg /);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('demo &lt;job&gt;');
    expect((svg.match(/<rect [^>]*fill="#1f77b4"/g) ?? []).length).toBeGreaterThan(0);
    expect((svg.match(/<polyline /g) ?? []).length).toBe(2);
    // Every bar's count adds up to the recorded completions.
    const counts = [...svg.matchAll(/µs: (\d+)<\/title>/g)].map((m) => Number(m[1]));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1000);
    s.dispose();
  });
});

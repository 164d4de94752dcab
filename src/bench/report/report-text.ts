/**
 * fio's normal text report (stat.c show_thread_status_normal, show_run_stats), line for line in
 * the layout users and their scripts know: per job (or group) the IOPS/BW line, slat/clat/lat,
 * clat percentiles, bw/iops samples, latency distribution, CPU, IO depths; then the
 * "Run status group" totals.
 */
import { describeBlockSize } from '../options/block-size-spec.js';
import { DDIRS, READ, type Ddir, type JobSpec } from '../options/job-spec.js';
import type { DirectionStats, JobStats } from '../stats/job-stats.js';
import { LAT_BUCKET_EDGES, LAT_MS_EXTRA_EDGE } from '../stats/job-stats.js';
import { FIO_DEFAULT_PERCENTILES, type LatencyStat } from '../stats/latency-stat.js';
import { SIG_FIGS, ctime, fixed, num2str, padInt, strerror } from './fio-format.js';
import {
  batchTable,
  ddirName,
  depthTable,
  groupSummaries,
  latencyTables,
  rates,
  reportUnits,
  type GroupSummary,
} from './report-model.js';

const NS_PER_US = 1000;
const NS_PER_MS = 1_000_000;
const PERCENT = 100;
const PERCENTILES_PER_LINE = 4;
const LAT_ENTRIES_PER_LINE = 5;
const BYTES_PER_KIB = 1024;
/** fio stat.c: percentiles switch to usec when min > 2000 ns and max > 99999 ns, to msec likewise ×1000. */
const PCT_USEC_MIN = 2000;
const PCT_USEC_MAX = 99_999;
const PCT_MSEC_MIN = 2_000_000;
const PCT_MSEC_MAX = 99_999_999;
const MIN_PCT_WIDTH = 5;
/** fio display_lat() prints min/max with num2str(…, 6, …). */
const LAT_FIGS = 6;

/** The line fio prints for each job before it starts. */
export function jobHeaderLine(j: JobSpec): string {
  const bs = `(R) ${describeBlockSize(j.bs[0])}, (W) ${describeBlockSize(j.bs[1])}, (T) ${describeBlockSize(j.bs[1])}`;
  return `${j.name}: (g=${j.groupId}): rw=${j.rw}, bs=${bs}, ioengine=${j.ioengine}, iodepth=${j.iodepth}`;
}

/** fio display_lat(): scales ns to usec/msec when every figure is large enough. */
function latLine(name: string, s: LatencyStat): string {
  const sum = s.summary();
  let { min, max, mean, stddev } = sum;
  let base = '(nsec)';
  const over = (t: number): boolean => min > t && max > t && mean > t && stddev > t;
  if (over(NS_PER_MS)) {
    [min, max, mean, stddev] = [
      min / NS_PER_MS,
      max / NS_PER_MS,
      mean / NS_PER_MS,
      stddev / NS_PER_MS,
    ];
    base = '(msec)';
  } else if (over(NS_PER_US)) {
    [min, max, mean, stddev] = [
      min / NS_PER_US,
      max / NS_PER_US,
      mean / NS_PER_US,
      stddev / NS_PER_US,
    ];
    base = '(usec)';
  }
  const minS = num2str(min, LAT_FIGS, false);
  const maxS = num2str(max, LAT_FIGS, false);
  return `    ${name} ${base}: min=${minS}, max=${maxS}, avg=${fixed(mean, 5, 2)}, stdev=${fixed(stddev, 5, 2)}`;
}

function percentileLines(s: LatencyStat): string[] {
  const values = s.percentiles(FIO_DEFAULT_PERCENTILES);
  if (values.length === 0) return [];
  const vmin = Math.min(...values.map((v) => v[1]));
  const vmax = Math.max(...values.map((v) => v[1]));
  let divisor = 1;
  let unit = 'nsec';
  if (vmin > PCT_MSEC_MIN && vmax > PCT_MSEC_MAX) [divisor, unit] = [NS_PER_MS, 'msec'];
  else if (vmin > PCT_USEC_MIN && vmax > PCT_USEC_MAX) [divisor, unit] = [NS_PER_US, 'usec'];
  const width = Math.max(MIN_PCT_WIDTH, Math.floor(Math.log10(vmax / divisor)) + 1);
  const lines = [`    clat percentiles (${unit}):`];
  let line = '     |';
  values.forEach(([p, v], i) => {
    const last = i === values.length - 1;
    const scaled = Math.ceil(v / divisor);
    line += ` ${fixed(p, 5, 2)}th=[${String(scaled).padStart(width)}]${last ? '' : ','}`;
    if (last || i % PERCENTILES_PER_LINE === PERCENTILES_PER_LINE - 1) {
      lines.push(line);
      line = '     |';
    }
  });
  return lines;
}

function directionLines(s: JobStats, ddir: Ddir, group: GroupSummary | undefined): string[] {
  const d: DirectionStats = s.dirs[ddir];
  const r = rates(d, s.runtimeMs);
  const iops = num2str(r.iops, SIG_FIGS, false);
  const bw = num2str(r.bwBytes, SIG_FIGS, true, 'bytePerSec');
  const bwAlt = num2str(r.bwBytes, SIG_FIGS, false, 'bytePerSec');
  const io = num2str(d.bytes, SIG_FIGS, true, 'byte');
  const out = [
    `  ${ddirName(ddir)}: IOPS=${iops}, BW=${bw} (${bwAlt})(${io}/${Math.round(s.runtimeMs)}msec)`,
  ];
  out.push(latLine('slat', d.slat), latLine('clat', d.clat), latLine(' lat', d.lat));
  out.push(...percentileLines(d.clat));
  if (d.bw.n) {
    const agg = group?.dirs[ddir]?.aggBw ?? 0;
    let [min, max, mean, dev] = [d.bw.min, d.bw.max, d.bw.mean, d.bw.stddev];
    const per = agg > 0 ? Math.min(PERCENT, (mean * BYTES_PER_KIB * PERCENT) / agg) : PERCENT;
    let unit = 'KiB';
    if (mean > BYTES_PER_KIB * BYTES_PER_KIB) {
      [min, max, mean, dev] = [
        min / BYTES_PER_KIB,
        max / BYTES_PER_KIB,
        mean / BYTES_PER_KIB,
        dev / BYTES_PER_KIB,
      ];
      unit = 'MiB';
    }
    out.push(
      `   bw (${unit.padStart(5)}/s): min=${padInt(Math.floor(min), 5)}, max=${padInt(Math.floor(max), 5)}, per=${fixed(per, 3, 2)}%, avg=${fixed(mean, 5, 2)}, stdev=${fixed(dev, 5, 2)}, samples=${d.bw.n}`,
    );
    out.push(
      `   iops        : min=${padInt(Math.floor(d.iops.min), 5)}, max=${padInt(Math.floor(d.iops.max), 5)}, avg=${fixed(d.iops.mean, 5, 2)}, stdev=${fixed(d.iops.stddev, 5, 2)}, samples=${d.iops.n}`,
    );
  }
  return out;
}

/** fio show_lat(): non-zero buckets, five per line. */
function latencyDistributionLines(values: number[], labels: string[], unit: string): string[] {
  const lines: string[] = [];
  let entries: string[] = [];
  values.forEach((v, i) => {
    if (v <= 0) return;
    entries.push(`${labels[i]}=${fixed(v, 3, 2)}%`);
    if (entries.length === LAT_ENTRIES_PER_LINE) {
      lines.push(`  lat (${unit})   : ${entries.join(', ')}`);
      entries = [];
    }
  });
  if (entries.length) lines.push(`  lat (${unit})   : ${entries.join(', ')}`);
  return lines;
}

function unitLines(s: JobStats, group: GroupSummary | undefined): string[] {
  const err = s.error ? `${String(s.error).padStart(2)} (error=${strerror(s.error)})` : ' 0';
  const out = [
    `${s.spec.name}: (groupid=${s.spec.groupId}, jobs=${s.jobs}): err=${err}: pid=${process.pid}: ${ctime(s.startedAt)}`,
  ];
  for (const ddir of DDIRS) if (s.dirs[ddir].ios > 0) out.push(...directionLines(s, ddir, group));
  const lat = latencyTables(s);
  const edges = LAT_BUCKET_EDGES.map(String);
  out.push(...latencyDistributionLines(lat.ns, edges, 'nsec'));
  out.push(...latencyDistributionLines(lat.us, edges, 'usec'));
  out.push(
    ...latencyDistributionLines(
      lat.ms,
      [...edges, String(LAT_MS_EXTRA_EDGE), `>=${LAT_MS_EXTRA_EDGE}`],
      'msec',
    ),
  );
  const runtime = Math.max(s.runtimeMs, 1);
  out.push(
    `  cpu          : usr=${fixed((s.cpu.userMs / runtime) * PERCENT, 3, 2)}%, sys=${fixed((s.cpu.systemMs / runtime) * PERCENT, 3, 2)}%, ctx=${s.cpu.ctx}, majf=${s.cpu.majf}, minf=${s.cpu.minf}`,
  );
  const pct = (t: Array<[string, number]>): string =>
    t.map(([l, v]) => `${l}=${fixed(v, 3, 1)}%`).join(', ');
  out.push(`  IO depths    : ${pct(depthTable(s))}`);
  out.push(`     submit    : ${pct(batchTable(s))}`);
  out.push(`     complete  : ${pct(batchTable(s))}`);
  out.push(
    `     issued rwts: total=${s.dirs[0].ios},${s.dirs[1].ios},0,0 short=0,0,0,0 dropped=0,0,0,0`,
  );
  out.push(`     latency   : target=0, window=0, percentile=100.00%, depth=${s.spec.iodepth}`);
  return out;
}

function groupLines(g: GroupSummary): string[] {
  const out = ['', `Run status group ${g.groupId} (all jobs):`];
  g.dirs.forEach((d, ddir) => {
    if (!d) return;
    const label = (ddir === READ ? 'READ' : 'WRITE').padStart(7);
    const b2 = (v: number): string => num2str(v, SIG_FIGS, true, 'bytePerSec');
    const b10 = (v: number): string => num2str(v, SIG_FIGS, false, 'bytePerSec');
    out.push(
      `${label}: bw=${b2(d.aggBw)} (${b10(d.aggBw)}), ${b2(d.minBw)}-${b2(d.maxBw)} (${b10(d.minBw)}-${b10(d.maxBw)}), io=${num2str(d.bytes, SIG_FIGS, true, 'byte')} (${num2str(d.bytes, SIG_FIGS, false, 'byte')}), run=${Math.round(d.minRunMs)}-${Math.round(d.maxRunMs)}msec`,
    );
  });
  return out;
}

/** The report after the run. */
export function buildTextReport(all: readonly JobStats[]): string {
  const groups = groupSummaries(all);
  const byId = new Map(groups.map((g) => [g.groupId, g]));
  const lines: string[] = [''];
  for (const unit of reportUnits(all)) lines.push(...unitLines(unit, byId.get(unit.spec.groupId)));
  for (const g of groups) lines.push(...groupLines(g));
  return lines.join('\n') + '\n';
}

/** The lines printed before the jobs start (fio prints "..." for each job's clones). */
export function buildTextPreamble(jobs: readonly JobSpec[], version: string): string {
  const lines: string[] = [];
  for (const j of jobs) {
    if (j.clone === 0) lines.push(jobHeaderLine(j));
    else if (j.clone === 1) lines.push('...');
  }
  lines.push(version, `Starting ${jobs.length} job${jobs.length === 1 ? '' : 's'}`);
  return lines.join('\n') + '\n';
}

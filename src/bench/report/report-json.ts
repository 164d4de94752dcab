/**
 * fio's JSON output (stat.c show_thread_status_json, fio 3.33 field names and nesting), so
 * scripts and fio's own tools (fio_jsonplus_clat2csv) read it unchanged. json+ adds
 * clat_ns.bins: every non-empty histogram bucket, "value in ns": count.
 */
import { DDIRS } from '../options/job-spec.js';
import type { DirectionStats, JobStats } from '../stats/job-stats.js';
import { FIO_DEFAULT_PERCENTILES, type LatencyStat } from '../stats/latency-stat.js';
import { LAT_BUCKET_EDGES, LAT_MS_EXTRA_EDGE } from '../stats/job-stats.js';
import {
  batchTable,
  depthTable,
  groupSummaries,
  latencyTables,
  rates,
  reportUnits,
} from './report-model.js';

const BYTES_PER_KIB = 1024;
const MS_PER_SEC = 1000;
const PERCENT = 100;
/** fio prints percentile keys with %f: "99.500000". */
const PERCENTILE_KEY_DECIMALS = 6;

export interface JsonReportOptions {
  plus: boolean;
  version: string;
  globalOptions?: Record<string, string>;
  startedAt: number;
}

type Json = Record<string, unknown>;

function latJson(s: LatencyStat, withPercentiles: boolean, plus: boolean): Json {
  const sum = s.summary();
  const out: Json = { min: sum.min, max: sum.max, mean: sum.mean, stddev: sum.stddev, N: sum.n };
  if (withPercentiles && sum.n > 0) {
    const pct: Json = {};
    for (const [p, v] of s.percentiles(FIO_DEFAULT_PERCENTILES))
      pct[p.toFixed(PERCENTILE_KEY_DECIMALS)] = v;
    out.percentile = pct;
    if (plus) {
      const bins: Json = {};
      for (const [v, c] of s.bins()) bins[String(v)] = c;
      out.bins = bins;
    }
  }
  return out;
}

function dirJson(d: DirectionStats, runtimeMs: number, groupAggBw: number, plus: boolean): Json {
  const r = rates(d, runtimeMs);
  const bwMean = d.bw.n ? d.bw.mean : 0;
  return {
    io_bytes: d.bytes,
    io_kbytes: Math.floor(d.bytes / BYTES_PER_KIB),
    bw_bytes: Math.floor(r.bwBytes),
    bw: Math.floor(r.bwBytes / BYTES_PER_KIB),
    iops: r.iops,
    runtime: d.ios ? Math.round(runtimeMs) : 0,
    total_ios: d.ios,
    short_ios: 0,
    drop_ios: 0,
    slat_ns: latJson(d.slat, false, false),
    clat_ns: latJson(d.clat, true, plus),
    lat_ns: latJson(d.lat, false, false),
    bw_min: d.bw.n ? Math.floor(d.bw.min) : 0,
    bw_max: d.bw.n ? Math.floor(d.bw.max) : 0,
    bw_agg:
      groupAggBw > 0 && d.bw.n
        ? Math.min(PERCENT, (bwMean * BYTES_PER_KIB * PERCENT) / groupAggBw)
        : 0,
    bw_mean: bwMean,
    bw_dev: d.bw.stddev,
    bw_samples: d.bw.n,
    iops_min: d.iops.n ? Math.floor(d.iops.min) : 0,
    iops_max: d.iops.n ? Math.floor(d.iops.max) : 0,
    iops_mean: d.iops.n ? d.iops.mean : 0,
    iops_stddev: d.iops.stddev,
    iops_samples: d.iops.n,
  };
}

const emptyLat = (): Json => ({ min: 0, max: 0, mean: 0, stddev: 0, N: 0 });

function table(labels: readonly (string | number)[], values: readonly number[]): Json {
  const out: Json = {};
  labels.forEach((l, i) => (out[String(l)] = values[i] ?? 0));
  return out;
}

function unitJson(s: JobStats, groupAgg: [number, number], o: JsonReportOptions): Json {
  const lat = latencyTables(s);
  const [read, write] = DDIRS.map((d) => dirJson(s.dirs[d], s.runtimeMs, groupAgg[d], o.plus));
  const runtime = Math.max(s.runtimeMs, 1);
  return {
    jobname: s.spec.name,
    groupid: s.spec.groupId,
    error: s.error,
    eta: 0,
    elapsed: Math.round((Date.now() - o.startedAt) / MS_PER_SEC),
    'job options': s.spec.given,
    read,
    write,
    trim: {
      io_bytes: 0,
      io_kbytes: 0,
      bw_bytes: 0,
      bw: 0,
      iops: 0,
      runtime: 0,
      total_ios: 0,
      short_ios: 0,
      drop_ios: 0,
      slat_ns: emptyLat(),
      clat_ns: emptyLat(),
      lat_ns: emptyLat(),
      bw_min: 0,
      bw_max: 0,
      bw_agg: 0,
      bw_mean: 0,
      bw_dev: 0,
      bw_samples: 0,
      iops_min: 0,
      iops_max: 0,
      iops_mean: 0,
      iops_stddev: 0,
      iops_samples: 0,
    },
    sync: { total_ios: 0, lat_ns: emptyLat() },
    job_runtime: Math.round(s.runtimeMs),
    usr_cpu: (s.cpu.userMs / runtime) * PERCENT,
    sys_cpu: (s.cpu.systemMs / runtime) * PERCENT,
    ctx: s.cpu.ctx,
    majf: s.cpu.majf,
    minf: s.cpu.minf,
    iodepth_level: Object.fromEntries(depthTable(s)),
    iodepth_submit: Object.fromEntries(batchTable(s)),
    iodepth_complete: Object.fromEntries(batchTable(s)),
    latency_ns: table(LAT_BUCKET_EDGES, lat.ns),
    latency_us: table(LAT_BUCKET_EDGES, lat.us),
    latency_ms: table([...LAT_BUCKET_EDGES, LAT_MS_EXTRA_EDGE, `>=${LAT_MS_EXTRA_EDGE}`], lat.ms),
    latency_depth: s.spec.iodepth,
    latency_target: 0,
    latency_percentile: PERCENT,
    latency_window: 0,
  };
}

/** The whole JSON document for a finished run. */
export function buildJsonReport(all: readonly JobStats[], o: JsonReportOptions): Json {
  const groups = new Map(groupSummaries(all).map((g) => [g.groupId, g]));
  const doc: Json = {
    'fio version': o.version,
    timestamp: Math.floor(o.startedAt / MS_PER_SEC),
    timestamp_ms: o.startedAt,
    time: new Date(o.startedAt).toString(),
  };
  if (o.globalOptions && Object.keys(o.globalOptions).length)
    doc['global options'] = o.globalOptions;
  doc.jobs = reportUnits(all).map((s) => {
    const g = groups.get(s.spec.groupId);
    return unitJson(s, [g?.dirs[0]?.aggBw ?? 0, g?.dirs[1]?.aggBw ?? 0], o);
  });
  return doc;
}

/**
 * What a job measured, kept as fio's struct thread_stat keeps it: per direction I/O counts,
 * bytes, slat/clat/lat series and bandwidth/IOPS samples (one per bw_avg_time window), the queue
 * depth at submission, CPU and the IOPS timeline for plots. Jobs of a group merge into one for
 * group_reporting (fio stat.c sum_thread_stats).
 */
import { LatencyStat } from './latency-stat.js';
import type { JobSpec } from '../options/job-spec.js';

/** Running min/max/mean/stddev of bandwidth or IOPS samples. */
export class SampleStat {
  n = 0;
  min = Infinity;
  max = 0;
  mean = 0;
  private m2 = 0;

  add(v: number): void {
    this.n++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    const d = v - this.mean;
    this.mean += d / this.n;
    this.m2 += d * (v - this.mean);
  }

  merge(o: SampleStat): void {
    if (o.n === 0) return;
    const n = this.n + o.n;
    const d = o.mean - this.mean;
    this.m2 += o.m2 + (d * d * this.n * o.n) / n;
    this.mean += (d * o.n) / n;
    this.n = n;
    this.min = Math.min(this.min, o.min);
    this.max = Math.max(this.max, o.max);
  }

  get stddev(): number {
    return this.n > 1 ? Math.sqrt(this.m2 / (this.n - 1)) : 0;
  }
}

export class DirectionStats {
  ios = 0;
  bytes = 0;
  readonly slat = new LatencyStat();
  readonly clat = new LatencyStat();
  readonly lat = new LatencyStat();
  /** KiB/s per window. */
  readonly bw = new SampleStat();
  readonly iops = new SampleStat();

  merge(o: DirectionStats): void {
    this.ios += o.ios;
    this.bytes += o.bytes;
    this.slat.merge(o.slat);
    this.clat.merge(o.clat);
    this.lat.merge(o.lat);
    this.bw.merge(o.bw);
    this.iops.merge(o.iops);
  }

  dispose(): void {
    this.slat.dispose();
    this.clat.dispose();
    this.lat.dispose();
  }
}

/** fio io_u_mark_depth buckets: 1, 2, 4, 8, 16, 32, >=64. */
export const DEPTH_BUCKET_LABELS = ['1', '2', '4', '8', '16', '32', '>=64'] as const;
const DEPTH_LAST = DEPTH_BUCKET_LABELS.length - 1;

export function depthBucket(inFlight: number): number {
  return Math.min(DEPTH_LAST, 31 - Math.clz32(Math.max(1, inFlight)));
}

/** One point of the IOPS timeline (for --plot and the status line). */
export interface TimelinePoint {
  /** ms since the job's measured start. */
  tMs: number;
  readIops: number;
  writeIops: number;
}

export interface CpuUsage {
  userMs: number;
  systemMs: number;
  ctx: number;
  majf: number;
  minf: number;
}

export class JobStats {
  readonly dirs: [DirectionStats, DirectionStats] = [new DirectionStats(), new DirectionStats()];
  readonly depth = new Array<number>(DEPTH_BUCKET_LABELS.length).fill(0);
  readonly timeline: TimelinePoint[] = [];
  runtimeMs = 0;
  /** Wall-clock start, ms since the epoch (fio prints it on the job line). */
  startedAt = Date.now();
  cpu: CpuUsage = { userMs: 0, systemMs: 0, ctx: 0, majf: 0, minf: 0 };
  /** errno of the failure that ended the job (0 = none), as fio's err= field. */
  error = 0;
  errorText?: string;
  /** Jobs folded into this one (group_reporting). */
  jobs = 1;

  constructor(readonly spec: JobSpec) {}

  merge(o: JobStats): void {
    this.dirs[0].merge(o.dirs[0]);
    this.dirs[1].merge(o.dirs[1]);
    o.depth.forEach((c, i) => (this.depth[i] += c));
    this.runtimeMs = Math.max(this.runtimeMs, o.runtimeMs);
    this.startedAt = Math.min(this.startedAt, o.startedAt);
    // Jobs of a group run at once in this one process and each measured the process's CPU over
    // its run, so the group's usage is the largest of theirs, not the sum (fio sums per thread).
    this.cpu = {
      userMs: Math.max(this.cpu.userMs, o.cpu.userMs),
      systemMs: Math.max(this.cpu.systemMs, o.cpu.systemMs),
      ctx: Math.max(this.cpu.ctx, o.cpu.ctx),
      majf: Math.max(this.cpu.majf, o.cpu.majf),
      minf: Math.max(this.cpu.minf, o.cpu.minf),
    };
    if (!this.error && o.error) {
      this.error = o.error;
      this.errorText = o.errorText;
    }
    this.jobs += o.jobs;
    mergeTimeline(this.timeline, o.timeline);
  }

  dispose(): void {
    this.dirs[0].dispose();
    this.dirs[1].dispose();
  }
}

/** Adds timeline `b` into `a`, point by point on a's time grid (nearest earlier point). */
function mergeTimeline(a: TimelinePoint[], b: readonly TimelinePoint[]): void {
  if (a.length === 0) {
    a.push(...b.map((p) => ({ ...p })));
    return;
  }
  let j = 0;
  for (const p of a) {
    while (j < b.length && b[j].tMs <= p.tMs) {
      p.readIops += b[j].readIops;
      p.writeIops += b[j].writeIops;
      j++;
    }
  }
}

/** fio's latency distribution buckets (stat.c io_u_mark_lat_nsec/usec/msec) over clat. */
export const LAT_BUCKET_EDGES = [2, 4, 10, 20, 50, 100, 250, 500, 750, 1000] as const;
export const LAT_MS_EXTRA_EDGE = 2000;

export interface LatencyBuckets {
  ns: number[];
  us: number[];
  ms: number[];
  /** ms values of 2000 and above. */
  msOver: number;
}

const NS_PER_US = 1000;
const NS_PER_MS = 1_000_000;

/** Counts of clat values per fio bucket; an entry for edge E holds values below E and at least the previous edge. */
export function latencyBuckets(bins: ReadonlyArray<readonly [number, number]>): LatencyBuckets {
  const out: LatencyBuckets = {
    ns: new Array(LAT_BUCKET_EDGES.length).fill(0),
    us: new Array(LAT_BUCKET_EDGES.length).fill(0),
    ms: new Array(LAT_BUCKET_EDGES.length + 1).fill(0),
    msOver: 0,
  };
  const place = (arr: number[], v: number, count: number): void => {
    const i = LAT_BUCKET_EDGES.findIndex((e) => v < e);
    arr[i < 0 ? LAT_BUCKET_EDGES.length : i] += count;
  };
  for (const [ns, count] of bins) {
    if (ns < NS_PER_US) place(out.ns, ns, count);
    else if (ns < NS_PER_MS) place(out.us, Math.floor(ns / NS_PER_US), count);
    else {
      const ms = Math.floor(ns / NS_PER_MS);
      if (ms >= LAT_MS_EXTRA_EDGE) out.msOver += count;
      else place(out.ms, ms, count);
    }
  }
  return out;
}

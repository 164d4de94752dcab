/**
 * What the text and JSON reports both show, computed once: the report units (each job, or each
 * group folded into one with group_reporting — fio stat.c __show_run_stats), the per-group
 * totals of the "Run status group" lines, and fio's percentage tables.
 */
import { DDIRS, type Ddir } from '../options/job-spec.js';
import {
  JobStats,
  latencyBuckets,
  DEPTH_BUCKET_LABELS,
  type DirectionStats,
} from '../stats/job-stats.js';

const MS_PER_SEC = 1000;
const PERCENT = 100;
/** fio stat_calc_lat(): a non-zero share below this shows as this. */
const MIN_SHOWN_PERCENT = 0.01;

/** Each job, or with group_reporting each group merged into one (the first job's options). */
export function reportUnits(all: readonly JobStats[]): JobStats[] {
  const out: JobStats[] = [];
  const merged = new Map<number, JobStats>();
  for (const s of all) {
    if (!s.spec.groupReporting) {
      out.push(s);
      continue;
    }
    let unit = merged.get(s.spec.groupId);
    if (!unit) {
      unit = new JobStats(s.spec);
      unit.jobs = 0;
      unit.startedAt = s.startedAt;
      merged.set(s.spec.groupId, unit);
      out.push(unit);
    }
    unit.merge(s);
  }
  return out;
}

export interface DirectionRates {
  /** bytes/s */
  bwBytes: number;
  iops: number;
}

export function rates(d: DirectionStats, runtimeMs: number): DirectionRates {
  if (runtimeMs <= 0) return { bwBytes: 0, iops: 0 };
  return { bwBytes: (d.bytes * MS_PER_SEC) / runtimeMs, iops: (d.ios * MS_PER_SEC) / runtimeMs };
}

export interface GroupDirection {
  bytes: number;
  /** Aggregate bytes/s: all jobs' bytes over the longest run. */
  aggBw: number;
  minBw: number;
  maxBw: number;
  minRunMs: number;
  maxRunMs: number;
}

export interface GroupSummary {
  groupId: number;
  dirs: [GroupDirection | undefined, GroupDirection | undefined];
}

export function groupSummaries(all: readonly JobStats[]): GroupSummary[] {
  const ids = [...new Set(all.map((s) => s.spec.groupId))].sort((a, b) => a - b);
  return ids.map((groupId) => {
    const jobs = all.filter((s) => s.spec.groupId === groupId);
    const dirs = DDIRS.map((ddir) => {
      const active = jobs.filter((s) => s.dirs[ddir].ios > 0);
      if (active.length === 0) return undefined;
      const bws = active.map((s) => rates(s.dirs[ddir], s.runtimeMs).bwBytes);
      const runs = jobs.map((s) => s.runtimeMs);
      const bytes = active.reduce((sum, s) => sum + s.dirs[ddir].bytes, 0);
      const maxRunMs = Math.max(...runs);
      return {
        bytes,
        aggBw: maxRunMs > 0 ? (bytes * MS_PER_SEC) / maxRunMs : 0,
        minBw: Math.min(...bws),
        maxBw: Math.max(...bws),
        minRunMs: Math.min(...runs),
        maxRunMs,
      };
    }) as [GroupDirection | undefined, GroupDirection | undefined];
    return { groupId, dirs };
  });
}

/** A share of `total` in percent, fio style (tiny non-zero shares show as 0.01). */
export function share(count: number, total: number): number {
  if (total === 0) return 0;
  const p = (count / total) * PERCENT;
  return p < MIN_SHOWN_PERCENT && count > 0 ? MIN_SHOWN_PERCENT : p;
}

export interface LatencyTables {
  ns: number[];
  us: number[];
  /** 2, 4, … 1000, 2000, >=2000 */
  ms: number[];
}

/** fio's latency_ns/us/ms percentages over the clat of both directions. */
export function latencyTables(s: JobStats): LatencyTables {
  const bins = [...s.dirs[0].clat.bins(), ...s.dirs[1].clat.bins()];
  const b = latencyBuckets(bins);
  const total = s.dirs[0].ios + s.dirs[1].ios;
  return {
    ns: b.ns.map((c) => share(c, total)),
    us: b.us.map((c) => share(c, total)),
    ms: [...b.ms, b.msOver].map((c) => share(c, total)),
  };
}

/** fio's IO depths table: share of submissions per in-flight bucket. */
export function depthTable(s: JobStats): Array<[string, number]> {
  const total = s.depth.reduce((a, b) => a + b, 0);
  return DEPTH_BUCKET_LABELS.map((label, i) => [label, total ? (s.depth[i] / total) * PERCENT : 0]);
}

/**
 * fio's submit/complete batch tables (buckets 0, 4, 8, 16, 32, 64, >=64): nvmf-bench submits
 * and reaps one I/O per call, so every batch falls in the "4" (1–4) bucket.
 */
export const BATCH_LABELS = ['0', '4', '8', '16', '32', '64', '>=64'] as const;
const SINGLE_BATCH_INDEX = 1;

export function batchTable(s: JobStats): Array<[string, number]> {
  const any = s.dirs[0].ios + s.dirs[1].ios > 0;
  return BATCH_LABELS.map((label, i) => [label, any && i === SINGLE_BATCH_INDEX ? PERCENT : 0]);
}

export const ddirName = (d: Ddir): string => (d === 0 ? 'read' : 'write');

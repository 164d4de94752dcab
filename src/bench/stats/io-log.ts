/**
 * fio's per-job logs (write_lat_log, write_iops_log, write_bw_log; HOWTO "Log File Formats"):
 * one line per completed I/O — `time (ms), value, direction (0 read, 1 write), block size` — or,
 * with log_avg_msec, one line per direction per window holding the window's average (latency),
 * rate (IOPS) or bandwidth (KiB/s), with block size 0.
 *
 * Columns: fio 3.33 appends a command-priority column that its own fiologparser.py cannot read
 * (it unpacks exactly four fields and raises "too many values to unpack"); nvmf-bench writes the
 * four-column form fio's tools read, plus the offset column when log_offset=1, as fio does.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Ddir } from '../options/job-spec.js';

/** Entries per storage chunk; a chunk is a flat Float64Array of FIELDS per entry. */
const CHUNK_ENTRIES = 65_536;
const FIELDS = 5;
const F_TIME = 0;
const F_VALUE = 1;
const F_DDIR = 2;
const F_BS = 3;
const F_OFFSET = 4;
const MS_PER_SEC = 1000;
const BYTES_PER_KIB = 1024;
const NS_PER_MS = 1e6;

export type LogKind = 'slat' | 'clat' | 'lat' | 'iops' | 'bw';

/** Growable table of log entries without a JS object per entry. */
class EntryTable {
  private readonly chunks: Float64Array[] = [];
  private used = CHUNK_ENTRIES;
  count = 0;

  push(time: number, value: number, ddir: number, bs: number, offset: number): void {
    if (this.used === CHUNK_ENTRIES) {
      this.chunks.push(new Float64Array(CHUNK_ENTRIES * FIELDS));
      this.used = 0;
    }
    const c = this.chunks[this.chunks.length - 1];
    const at = this.used * FIELDS;
    c[at + F_TIME] = time;
    c[at + F_VALUE] = value;
    c[at + F_DDIR] = ddir;
    c[at + F_BS] = bs;
    c[at + F_OFFSET] = offset;
    this.used++;
    this.count++;
  }

  *entries(): Generator<Float64Array | number[]> {
    for (let ci = 0; ci < this.chunks.length; ci++) {
      const c = this.chunks[ci];
      const n = ci === this.chunks.length - 1 ? this.used : CHUNK_ENTRIES;
      for (let i = 0; i < n; i++) yield c.subarray(i * FIELDS, (i + 1) * FIELDS);
    }
  }
}

/** Per-direction accumulation of one averaging window. */
interface Window {
  sum: [number, number];
  count: [number, number];
  bytes: [number, number];
}

export class IoLog {
  private readonly table = new EntryTable();
  private window: Window = { sum: [0, 0], count: [0, 0], bytes: [0, 0] };
  private windowEnd: number;

  constructor(
    readonly kind: LogKind,
    readonly path: string,
    private readonly avgMsec: number,
    private readonly withOffset: boolean,
  ) {
    this.windowEnd = avgMsec;
  }

  /**
   * Records one completed I/O at `tMs` (ms since the job's start). `value` is the latency in ns
   * for latency logs and is ignored for iops/bw logs, whose values derive from bytes and time.
   */
  add(tMs: number, ddir: Ddir, bytes: number, offset: number, value: number): void {
    if (this.avgMsec === 0) {
      this.table.push(Math.floor(tMs), this.perIoValue(bytes, value), ddir, bytes, offset);
      return;
    }
    this.flushWindows(tMs);
    const w = this.window;
    w.sum[ddir] += value;
    w.count[ddir]++;
    w.bytes[ddir] += bytes;
  }

  /** An iops entry per I/O is 1; a bw entry per I/O is bytes per ms of its latency (fio's per-I/O rate). */
  private perIoValue(bytes: number, latNs: number): number {
    if (this.kind === 'iops') return 1;
    if (this.kind === 'bw') return latNs > 0 ? Math.round((bytes * NS_PER_MS) / latNs) : 0;
    return Math.round(latNs);
  }

  /** Closes every window that ended at or before `tMs`. */
  private flushWindows(tMs: number): void {
    while (tMs >= this.windowEnd) {
      const w = this.window;
      for (const d of [0, 1] as const) {
        if (w.count[d] === 0) continue;
        let v: number;
        if (this.kind === 'iops') v = (w.count[d] * MS_PER_SEC) / this.avgMsec;
        else if (this.kind === 'bw') v = (w.bytes[d] * MS_PER_SEC) / this.avgMsec / BYTES_PER_KIB;
        else v = w.sum[d] / w.count[d];
        this.table.push(this.windowEnd, Math.round(v), d, 0, 0);
      }
      this.window = { sum: [0, 0], count: [0, 0], bytes: [0, 0] };
      this.windowEnd += this.avgMsec;
    }
  }

  /** Flushes the last (partial) window that ends at `endMs`, then writes the file. */
  async write(endMs: number): Promise<void> {
    if (this.avgMsec > 0) this.flushWindows(Math.max(endMs, this.windowEnd));
    const out = createWriteStream(this.path);
    let buf = '';
    for (const e of this.table.entries()) {
      buf += this.withOffset
        ? `${e[F_TIME]}, ${e[F_VALUE]}, ${e[F_DDIR]}, ${e[F_BS]}, ${e[F_OFFSET]}\n`
        : `${e[F_TIME]}, ${e[F_VALUE]}, ${e[F_DDIR]}, ${e[F_BS]}\n`;
      if (buf.length > CHUNK_ENTRIES) {
        if (!out.write(buf)) await once(out, 'drain');
        buf = '';
      }
    }
    out.end(buf);
    await once(out, 'finish');
  }
}

/** fio's log file name: PREFIX_KIND.JOBNUMBER.log (HOWTO write_bw_log). */
export function logFileName(prefix: string, kind: LogKind, jobNumber: number): string {
  return `${prefix}_${kind}.${jobNumber}.log`;
}

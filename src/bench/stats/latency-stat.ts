/**
 * One latency series (slat, clat or lat of one direction) in nanoseconds: an HDR histogram for
 * percentiles and json+ bins, plus exact min/max/mean/stddev (Welford, merged with Chan et al.'s
 * parallel formula) as fio keeps them in struct io_stat. Histograms of several jobs merge exactly
 * (group_reporting).
 *
 * Percentiles follow fio's calc_clat_percentiles(): the value of the first bucket whose running
 * count reaches p% of N (nearest rank), reported as the middle of that bucket ("the mean of the
 * range of the bucket", plat_idx_to_val). With 3 significant digits the buckets are exact below
 * 2048 ns and 1/2048 of the value wide above, finer than fio's 1/64.
 */
import {
  build,
  decodeFromCompressedBase64,
  encodeIntoCompressedBase64,
  initWebAssembly,
  type Histogram,
  type JsHistogram,
} from 'hdr-histogram-js';

export const SIGNIFICANT_DIGITS = 3;
/** Counter width of the JS histogram a WebAssembly one is decoded into for reporting. */
const REPORT_BUCKET_BITS = 64;

let useWebAssembly = false;

/**
 * Switches new histograms to hdr-histogram-js's WebAssembly build: recording costs ~25 ns there
 * against ~120 ns in the JS build, which matters at 10^5 I/Os per second with three series per
 * I/O. Histograms made before and after the switch must not be merged with each other.
 */
export async function initFastHistograms(): Promise<boolean> {
  if (useWebAssembly) return true;
  try {
    await initWebAssembly();
    useWebAssembly = true;
  } catch {
    useWebAssembly = false;
  }
  return useWebAssembly;
}

/** fio's default percentile_list (HOWTO "percentile_list"). */
export const FIO_DEFAULT_PERCENTILES: readonly number[] = [
  1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99,
];

const PERCENT = 100;

export interface LatencySummary {
  min: number;
  max: number;
  mean: number;
  stddev: number;
  n: number;
}

export class LatencyStat {
  readonly hist: Histogram;
  /** Whether `hist` is a WebAssembly histogram (fixed at construction). */
  private readonly wasm = useWebAssembly;
  n = 0;
  min = Infinity;
  max = 0;
  private mean = 0;
  /** Sum of squared deviations from the mean (Welford's M2). */
  private m2 = 0;
  /** bins() of the current contents (walking a histogram decodes it); dropped on any change. */
  private binsCache: Array<[number, number]> | undefined;

  constructor() {
    this.hist = build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: Number.MAX_SAFE_INTEGER,
      numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
      autoResize: true,
      useWebAssembly: this.wasm,
    });
  }

  /** Frees a WebAssembly histogram's memory; the stat must not be used afterwards. */
  dispose(): void {
    this.hist.destroy();
  }

  /** A JS view of the histogram whose buckets can be walked (decoding a WebAssembly one). */
  private walkable(): JsHistogram {
    if (!this.wasm) return this.hist as unknown as JsHistogram;
    const copy = decodeFromCompressedBase64(
      encodeIntoCompressedBase64(this.hist),
      REPORT_BUCKET_BITS,
      false,
    );
    return copy as unknown as JsHistogram;
  }

  /** Records one latency in ns (rounded to a whole ns, clamped at 0). */
  record(ns: number): void {
    const v = ns > 0 ? Math.round(ns) : 0;
    this.binsCache = undefined;
    this.hist.recordValue(v);
    this.n++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    const delta = v - this.mean;
    this.mean += delta / this.n;
    this.m2 += delta * (v - this.mean);
  }

  /** Adds another series into this one. */
  merge(other: LatencyStat): void {
    if (other.n === 0) return;
    this.binsCache = undefined;
    this.hist.add(other.hist);
    const n = this.n + other.n;
    const delta = other.mean - this.mean;
    this.m2 += other.m2 + (delta * delta * this.n * other.n) / n;
    this.mean += (delta * other.n) / n;
    this.n = n;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  summary(): LatencySummary {
    if (this.n === 0) return { min: 0, max: 0, mean: 0, stddev: 0, n: 0 };
    // fio divides by N-1 (sample standard deviation), stat.c calc_lat().
    const stddev = this.n > 1 ? Math.sqrt(this.m2 / (this.n - 1)) : 0;
    return { min: this.min, max: this.max, mean: this.mean, stddev, n: this.n };
  }

  /** Non-empty buckets in ascending order: [bucket middle value in ns, count]. */
  bins(): Array<[number, number]> {
    if (this.binsCache) return this.binsCache;
    const h = this.walkable();
    const out: Array<[number, number]> = [];
    for (let i = 0; i < h.countsArrayLength; i++) {
      const c = h.getCountAtIndex(i);
      if (c > 0) out.push([h.medianEquivalentValue(h.valueFromIndex(i)), c]);
    }
    this.binsCache = out;
    return out;
  }

  /** fio-style percentiles: for each p, the bucket value where the running count reaches p% of N. */
  percentiles(list: readonly number[] = FIO_DEFAULT_PERCENTILES): Array<[number, number]> {
    return percentilesOfBins(this.bins(), this.n, list);
  }
}

/** Nearest-rank percentiles over ascending bins (fio stat.c calc_clat_percentiles). */
export function percentilesOfBins(
  bins: ReadonlyArray<readonly [number, number]>,
  total: number,
  list: readonly number[],
): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (total === 0) return out;
  const sorted = [...list].sort((a, b) => a - b);
  let j = 0;
  let running = 0;
  for (const [value, count] of bins) {
    running += count;
    while (j < sorted.length && running >= (sorted[j] / PERCENT) * total) {
      out.push([sorted[j], value]);
      j++;
    }
    if (j === sorted.length) break;
  }
  return out;
}

/**
 * fio's live status line on a terminal (fio eta.c): running jobs and their states, progress,
 * current bandwidth and IOPS, and the time left —
 *   Jobs: 1 (f=1): [r(1)][45.5%][r=655MiB/s][r=168k IOPS][eta 00m:06s]
 * redrawn in place once a second. Not shown when stdout is not a TTY.
 */
import type { Writable } from 'node:stream';
import type { RunningJob } from '../runner/bench-run.js';
import type { JobProgress } from '../runner/job-runner.js';
import { num2str, SIG_FIGS } from './fio-format.js';

const REFRESH_MS = 1000;
const MS_PER_SEC = 1000;
const SEC_PER_MIN = 60;
const PERCENT = 100;

/** fio's job state letters: upper case sequential, lower case random; V verify, / ramp, _ done. */
function stateChar(job: RunningJob): string {
  const p = job.progress;
  if (p.phase === 'done') return '_';
  if (p.phase === 'ramp') return '/';
  if (p.phase === 'verifying') return 'V';
  if (p.phase === 'setup') return 'P';
  const rw = job.spec.rw;
  const letter = rw.endsWith('read') ? 'R' : rw.endsWith('write') ? 'W' : 'M';
  return job.spec.random ? letter.toLowerCase() : letter;
}

function fraction(p: JobProgress, now: number): number {
  const elapsed = now - p.startMs;
  if (p.phase === 'done') return 1;
  if (p.plannedMs) return Math.min(1, elapsed / p.plannedMs);
  if (p.plannedBytes) return Math.min(1, (p.bytes[0] + p.bytes[1]) / p.plannedBytes);
  return 0;
}

function eta(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${String(Math.floor(s / SEC_PER_MIN)).padStart(2, '0')}m:${String(s % SEC_PER_MIN).padStart(2, '0')}s`;
}

export class StatusLine {
  private jobs: RunningJob[] = [];
  private timer: NodeJS.Timeout | undefined;
  private last = { at: 0, ios: [0, 0], bytes: [0, 0] };
  private drawn = false;

  constructor(private readonly out: Writable & { isTTY?: boolean }) {}

  get enabled(): boolean {
    return this.out.isTTY === true;
  }

  attach(jobs: RunningJob[]): void {
    this.jobs = jobs;
    this.last = { at: performance.now(), ios: [0, 0], bytes: [0, 0] };
    if (!this.enabled || this.timer) return;
    this.timer = setInterval(() => this.draw(), REFRESH_MS);
    this.timer.unref();
  }

  /** The status text at `now` (exported for tests). */
  render(now: number): string {
    const running = this.jobs.filter((j) => j.progress.phase !== 'done');
    const states: string[] = [];
    for (const j of this.jobs) {
      const c = stateChar(j);
      const prev = states[states.length - 1];
      const m = prev && /^(.)\((\d+)\)$/.exec(prev);
      if (m && m[1] === c) states[states.length - 1] = `${c}(${Number(m[2]) + 1})`;
      else states.push(`${c}(1)`);
    }
    const ios = [0, 1].map((d) => this.jobs.reduce((s, j) => s + j.progress.ios[d], 0));
    const bytes = [0, 1].map((d) => this.jobs.reduce((s, j) => s + j.progress.bytes[d], 0));
    const span = Math.max(1, now - this.last.at) / MS_PER_SEC;
    const bw = [0, 1].map((d) => (bytes[d] - this.last.bytes[d]) / span);
    const iops = [0, 1].map((d) => (ios[d] - this.last.ios[d]) / span);
    this.last = { at: now, ios, bytes };
    const fractions = this.jobs.map((j) => fraction(j.progress, now));
    const done = fractions.reduce((a, b) => a + b, 0) / Math.max(1, fractions.length);
    const left = Math.max(
      0,
      ...this.jobs.map((j, i) => {
        const elapsed = (now - j.progress.startMs) / MS_PER_SEC;
        return fractions[i] > 0 ? (elapsed * (1 - fractions[i])) / fractions[i] : 0;
      }),
    );
    const b = (v: number): string => num2str(v, SIG_FIGS, true, 'bytePerSec');
    const n = (v: number): string => num2str(v, SIG_FIGS, false);
    return (
      `Jobs: ${running.length} (f=${running.length}): [${states.join('')}][${(done * PERCENT).toFixed(1)}%]` +
      `[r=${b(bw[0])},w=${b(bw[1])}][r=${n(iops[0])},w=${n(iops[1])} IOPS][eta ${eta(left)}]`
    );
  }

  private draw(): void {
    this.out.write(`\r${this.render(performance.now())}\x1b[K`);
    this.drawn = true;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
  }
}

/**
 * `--plot FILE.svg`: a self-contained SVG with two panels — the completion latency histogram
 * (log-spaced bins, all jobs) and IOPS over time (read and write, all jobs summed) — written by
 * hand so the bench needs no plotting dependency.
 */
import { SAMPLE_WINDOW_MS } from '../runner/bandwidth-sampler.js';
import type { JobStats, TimelinePoint } from '../stats/job-stats.js';

const WIDTH = 900;
const PANEL_HEIGHT = 300;
const MARGIN = { left: 70, right: 20, top: 40, bottom: 45 };
const BINS_PER_DECADE = 10;
const NS_PER_US = 1000;
const MS_PER_SEC = 1000;
const Y_TICKS = 4;
const KILO = 1e3;
const MEGA = 1e6;
const LABEL_DIGITS = 3;
const READ_COLOUR = '#1f77b4';
const WRITE_COLOUR = '#d62728';

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function fmt(v: number): string {
  if (v >= MEGA) return `${(v / MEGA).toPrecision(LABEL_DIGITS)}M`;
  if (v >= KILO) return `${(v / KILO).toPrecision(LABEL_DIGITS)}k`;
  return v.toPrecision(LABEL_DIGITS).replace(/\.?0+$/, '');
}

interface Panel {
  top: number;
  title: string;
  xLabel: string;
}

function frame(p: Panel, yMax: number): string[] {
  const h = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const w = WIDTH - MARGIN.left - MARGIN.right;
  const x0 = MARGIN.left;
  const y0 = p.top + MARGIN.top;
  const out = [
    `<text x="${WIDTH / 2}" y="${p.top + 22}" text-anchor="middle" font-size="15" font-weight="bold">${esc(p.title)}</text>`,
    `<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#888"/>`,
    `<text x="${WIDTH / 2}" y="${p.top + PANEL_HEIGHT - 8}" text-anchor="middle" font-size="12">${esc(p.xLabel)}</text>`,
  ];
  for (let i = 0; i <= Y_TICKS; i++) {
    const v = (yMax * i) / Y_TICKS;
    const y = y0 + h - (h * i) / Y_TICKS;
    out.push(`<line x1="${x0 - 4}" y1="${y}" x2="${x0 + w}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${x0 - 6}" y="${y + 4}" text-anchor="end" font-size="11">${fmt(v)}</text>`);
  }
  return out;
}

function histogramPanel(all: readonly JobStats[], top: number): string[] {
  const bins = all.flatMap((s) => [...s.dirs[0].clat.bins(), ...s.dirs[1].clat.bins()]);
  const panel = {
    top,
    title: 'Completion latency (clat) histogram',
    xLabel: 'latency (µs, log scale)',
  };
  if (bins.length === 0) return frame(panel, 1);
  const lo = Math.floor(
    Math.log10(Math.max(1, Math.min(...bins.map((b) => b[0])))) * BINS_PER_DECADE,
  );
  const hi =
    Math.ceil(Math.log10(Math.max(2, Math.max(...bins.map((b) => b[0])))) * BINS_PER_DECADE) + 1;
  const counts = new Array<number>(hi - lo).fill(0);
  for (const [v, c] of bins)
    counts[Math.floor(Math.log10(Math.max(1, v)) * BINS_PER_DECADE) - lo] += c;
  const yMax = Math.max(...counts);
  const out = frame(panel, yMax);
  const h = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const w = WIDTH - MARGIN.left - MARGIN.right;
  const bw = w / counts.length;
  counts.forEach((c, i) => {
    const bh = yMax ? (h * c) / yMax : 0;
    const x = MARGIN.left + i * bw;
    out.push(
      `<rect x="${x.toFixed(1)}" y="${(top + MARGIN.top + h - bh).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${bh.toFixed(1)}" fill="${READ_COLOUR}"><title>${fmt(10 ** ((i + lo) / BINS_PER_DECADE) / NS_PER_US)} µs: ${c}</title></rect>`,
    );
    if ((i + lo) % BINS_PER_DECADE === 0) {
      out.push(
        `<text x="${x.toFixed(1)}" y="${top + MARGIN.top + h + 16}" text-anchor="middle" font-size="11">${fmt(10 ** ((i + lo) / BINS_PER_DECADE) / NS_PER_US)}</text>`,
      );
    }
  });
  return out;
}

/** Sums the jobs' IOPS samples on a common grid of sample windows. */
function sumTimelines(all: readonly JobStats[]): TimelinePoint[] {
  const grid = new Map<number, TimelinePoint>();
  for (const p of all.flatMap((s) => s.timeline)) {
    const slot = Math.round(p.tMs / SAMPLE_WINDOW_MS);
    const at = grid.get(slot) ?? { tMs: slot * SAMPLE_WINDOW_MS, readIops: 0, writeIops: 0 };
    at.readIops += p.readIops;
    at.writeIops += p.writeIops;
    grid.set(slot, at);
  }
  return [...grid.values()].sort((a, b) => a.tMs - b.tMs);
}

function iopsPanel(all: readonly JobStats[], top: number): string[] {
  const points = sumTimelines(all);
  const panel = { top, title: 'IOPS over time', xLabel: 'time (s)' };
  if (points.length === 0) return frame(panel, 1);
  const yMax = Math.max(1, ...points.map((p) => Math.max(p.readIops, p.writeIops)));
  const tMax = Math.max(...points.map((p) => p.tMs));
  const out = frame(panel, yMax);
  const h = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const w = WIDTH - MARGIN.left - MARGIN.right;
  const xy = (p: TimelinePoint, v: number): string =>
    `${(MARGIN.left + (w * p.tMs) / Math.max(1, tMax)).toFixed(1)},${(top + MARGIN.top + h - (h * v) / yMax).toFixed(1)}`;
  const series: Array<[string, string, (p: TimelinePoint) => number]> = [
    ['read', READ_COLOUR, (p) => p.readIops],
    ['write', WRITE_COLOUR, (p) => p.writeIops],
  ];
  series.forEach(([name, colour, get], i) => {
    if (!points.some((p) => get(p) > 0)) return;
    out.push(
      `<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${points.map((p) => xy(p, get(p))).join(' ')}"/>`,
    );
    out.push(
      `<text x="${MARGIN.left + 10}" y="${top + MARGIN.top + 16 + i * 16}" font-size="12" fill="${colour}">${name}</text>`,
    );
  });
  for (let s = 0; s <= tMax / MS_PER_SEC; s += Math.max(1, Math.ceil(tMax / MS_PER_SEC / 10))) {
    const x = MARGIN.left + (w * s * MS_PER_SEC) / Math.max(1, tMax);
    out.push(
      `<text x="${x.toFixed(1)}" y="${top + MARGIN.top + h + 16}" text-anchor="middle" font-size="11">${s}</text>`,
    );
  }
  return out;
}

export function buildPlotSvg(all: readonly JobStats[], title: string): string {
  const height = 2 * PANEL_HEIGHT + MARGIN.top;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="17">${esc(title)}</text>`,
    ...histogramPanel(all, MARGIN.top),
    ...iopsPanel(all, MARGIN.top + PANEL_HEIGHT),
    `</svg>`,
    '',
  ].join('\n');
}

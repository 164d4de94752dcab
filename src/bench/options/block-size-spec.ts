/**
 * Block sizes per direction from fio's bs / bsrange / bssplit (HOWTO "Block size"): bssplit wins
 * over bsrange, which wins over bs, as in fio's io_u.c get_next_buflen().
 */
import { BenchUsageError } from '../errors.js';
import { parseByteRange, parseBytes, splitPerDirection } from './fio-values.js';

export type BlockSizeSpec =
  | { kind: 'fixed'; size: number }
  | { kind: 'range'; min: number; max: number }
  | { kind: 'split'; entries: { size: number; percent: number }[] };

export const DEFAULT_BLOCK_SIZE = 4096;
const PERCENT_TOTAL = 100;

export function minBlockSize(spec: BlockSizeSpec): number {
  switch (spec.kind) {
    case 'fixed':
      return spec.size;
    case 'range':
      return spec.min;
    case 'split':
      return Math.min(...spec.entries.map((e) => e.size));
  }
}

export function maxBlockSize(spec: BlockSizeSpec): number {
  switch (spec.kind) {
    case 'fixed':
      return spec.size;
    case 'range':
      return spec.max;
    case 'split':
      return Math.max(...spec.entries.map((e) => e.size));
  }
}

/** fio's "(R) 4096B-4096B" notation for the job line. */
export function describeBlockSize(spec: BlockSizeSpec): string {
  return `${minBlockSize(spec)}B-${maxBlockSize(spec)}B`;
}

/** One direction of bssplit: `4k/50:64k/50`; entries without a percentage share the remainder. */
export function parseBssplit(text: string): BlockSizeSpec {
  const entries: { size: number; percent: number | undefined }[] = [];
  for (const part of text.split(':')) {
    if (part.trim() === '') continue;
    const [sizeText, pctText] = part.split('/');
    const size = parseBytes('bssplit', sizeText);
    if (size <= 0) throw new BenchUsageError(`bssplit="${text}" has a zero block size`);
    let percent: number | undefined;
    if (pctText !== undefined && pctText.trim() !== '') {
      percent = Number(pctText);
      if (!Number.isFinite(percent) || percent < 0 || percent > PERCENT_TOTAL) {
        throw new BenchUsageError(`bssplit="${text}" has percentage "${pctText}"; expected 0-100`);
      }
    }
    entries.push({ size, percent });
  }
  if (entries.length === 0) throw new BenchUsageError(`bssplit="${text}" names no block size`);
  const given = entries.reduce((s, e) => s + (e.percent ?? 0), 0);
  const unset = entries.filter((e) => e.percent === undefined).length;
  if (given > PERCENT_TOTAL || (unset === 0 && Math.abs(given - PERCENT_TOTAL) > 1e-9)) {
    throw new BenchUsageError(`bssplit="${text}" percentages add up to ${given}, not 100`);
  }
  const share = unset ? (PERCENT_TOTAL - given) / unset : 0;
  return {
    kind: 'split',
    entries: entries.map((e) => ({ size: e.size, percent: e.percent ?? share })),
  };
}

export interface BlockSizeOptions {
  bs?: string;
  bsrange?: string;
  bssplit?: string;
}

/** Resolves the [read, write] block size specs of a job. */
export function resolveBlockSizes(o: BlockSizeOptions): [BlockSizeSpec, BlockSizeSpec] {
  const out: [BlockSizeSpec, BlockSizeSpec] = [
    { kind: 'fixed', size: DEFAULT_BLOCK_SIZE },
    { kind: 'fixed', size: DEFAULT_BLOCK_SIZE },
  ];
  if (o.bs !== undefined) {
    splitPerDirection(o.bs).forEach((v, d) => {
      if (v !== undefined) out[d] = { kind: 'fixed', size: positive('bs', v) };
    });
  }
  if (o.bsrange !== undefined) {
    splitPerDirection(o.bsrange).forEach((v, d) => {
      if (v === undefined) return;
      const r = parseByteRange('bsrange', v);
      if (r.min <= 0) throw new BenchUsageError(`bsrange="${o.bsrange}" has a zero block size`);
      out[d] = r.min === r.max ? { kind: 'fixed', size: r.min } : { kind: 'range', ...r };
    });
  }
  if (o.bssplit !== undefined) {
    splitPerDirection(o.bssplit).forEach((v, d) => {
      if (v !== undefined) out[d] = parseBssplit(v);
    });
  }
  return out;
}

function positive(option: string, text: string): number {
  const n = parseBytes(option, text);
  if (n <= 0) throw new BenchUsageError(`${option}="${text}" must be more than 0 bytes`);
  return n;
}

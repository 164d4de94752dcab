/**
 * fio's value syntax (fio HOWTO "Parameter types"; parse.c str_to_decimal / get_mult_bytes /
 * get_mult_time / check_str_bool), so that job files and command lines written for fio mean the
 * same thing here. Every parser throws a BenchUsageError naming the option and the bad value.
 */
import { BenchUsageError } from '../errors.js';

/** fio's default kb_base=1024 ("compatibility mode"): k/m/g/t/p are powers of 1024. */
const KB_BASE = 1024;
/**
 * With kb_base=1024 fio reads the IEC spellings the "opposite" way, as powers of 1000 (HOWTO:
 * "1 MB: 1000000, 1mi, 1000ki" — but only the three-letter forms kib/mib/…, parse.c checks
 * "kib" before "k", so "1mi" is still 1024^2; real fio 3.33 gives bs=4KiB → 4000 bytes).
 */
const SI_BASE = 1000;
const UNIT_POWERS: Record<string, number> = { k: 1, m: 2, g: 3, t: 4, p: 5 };

const USEC_PER_MSEC = 1000;
const USEC_PER_SEC = 1_000_000;
const SEC_PER_MIN = 60;
const SEC_PER_HOUR = 3600;
const SEC_PER_DAY = 86_400;

const PERCENT_MAX = 100;

export type SizeValue = { bytes: number } | { percent: number };

const bad = (option: string, value: string, expected: string): BenchUsageError =>
  new BenchUsageError(`${option}="${value}" is not ${expected}`);

/** Splits "4k" into number text and suffix; accepts decimal, 0x hex and fractions ("1.5g"). */
function splitNumber(text: string): { num: number; suffix: string } | undefined {
  const m = /^\s*(0x[0-9a-f]+|\d+(?:\.\d*)?|\.\d+)\s*([a-z%]*)\s*$/i.exec(text);
  if (!m) return undefined;
  const num = m[1].toLowerCase().startsWith('0x') ? parseInt(m[1], 16) : Number(m[1]);
  return { num, suffix: m[2].toLowerCase() };
}

/** Byte multiplier of a suffix, or undefined when the suffix is not a size unit. */
function sizeMultiplier(suffix: string): number | undefined {
  if (suffix === '' || suffix === 'b') return 1;
  const iec = /^([kmgtp])ib$/.exec(suffix);
  if (iec) return SI_BASE ** UNIT_POWERS[iec[1]];
  const si = /^([kmgtp])(?:i|b)?$/.exec(suffix);
  if (si) return KB_BASE ** UNIT_POWERS[si[1]];
  return undefined;
}

/** A byte quantity: `4k`, `1g`, `4096`, `0x1000`; with allowPercent also `50%`. */
export function parseSizeValue(option: string, text: string, allowPercent = false): SizeValue {
  const split = splitNumber(text);
  if (split && split.suffix === '%' && allowPercent) {
    if (split.num < 0 || split.num > PERCENT_MAX) throw bad(option, text, 'a percentage 0-100%');
    return { percent: split.num };
  }
  const mult = split ? sizeMultiplier(split.suffix) : undefined;
  if (!split || mult === undefined) {
    throw bad(
      option,
      text,
      `a size (a number with an optional k/m/g/t/p suffix${allowPercent ? ', or N%' : ''})`,
    );
  }
  const bytes = Math.round(split.num * mult);
  if (!Number.isSafeInteger(bytes)) throw bad(option, text, 'a size below 2^53 bytes');
  return { bytes };
}

/** A byte quantity that may not be a percentage. */
export function parseBytes(option: string, text: string): number {
  const v = parseSizeValue(option, text, false);
  return 'bytes' in v ? v.bytes : 0;
}

/** A plain integer (fio `int`): decimal or 0x hex, with optional k/m/g multipliers. */
export function parseInteger(
  option: string,
  text: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const v = parseBytes(option, text);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw bad(option, text, `a whole number from ${min} to ${max}`);
  }
  return v;
}

/** A float (fio `float_list` element). */
export function parseFloatValue(option: string, text: string): number {
  const n = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(n)) throw bad(option, text, 'a number');
  return n;
}

/** A time (fio `time`): suffixes d/h/m/s/ms/msec/us/usec; no suffix means `defaultUnitUsec`. */
export function parseTimeUsec(
  option: string,
  text: string,
  defaultUnitUsec = USEC_PER_SEC,
): number {
  const split = splitNumber(text);
  if (!split) throw bad(option, text, 'a time such as 10, 10s, 500ms, 2m');
  const units: Record<string, number> = {
    '': defaultUnitUsec,
    us: 1,
    usec: 1,
    ms: USEC_PER_MSEC,
    msec: USEC_PER_MSEC,
    s: USEC_PER_SEC,
    sec: USEC_PER_SEC,
    m: SEC_PER_MIN * USEC_PER_SEC,
    min: SEC_PER_MIN * USEC_PER_SEC,
    h: SEC_PER_HOUR * USEC_PER_SEC,
    d: SEC_PER_DAY * USEC_PER_SEC,
  };
  const mult = units[split.suffix];
  if (mult === undefined) throw bad(option, text, 'a time such as 10, 10s, 500ms, 2m');
  return Math.round(split.num * mult);
}

/** fio `bool`: 1/0, true/false, yes/no, on/off; a bare option (no value) means true. */
export function parseBool(option: string, text: string | undefined): boolean {
  if (text === undefined) return true;
  const t = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off'].includes(t)) return false;
  throw bad(option, text, 'a boolean (1/0, true/false, yes/no, on/off)');
}

/**
 * fio's per-direction list (`bs=4k,8k`, `rate_iops=500,`): values for read, write[, trim]. A single
 * value applies to every direction; an empty field leaves that direction unset.
 */
export function splitPerDirection(text: string): [string | undefined, string | undefined] {
  const parts = text.split(',');
  if (parts.length === 1) return [parts[0], parts[0]];
  const pick = (s: string | undefined): string | undefined =>
    s && s.trim() !== '' ? s : undefined;
  return [pick(parts[0]), pick(parts[1])];
}

/** A range `4k-64k` or `4k:64k` (fio `irange`); a reversed range is swapped, as fio does. */
export function parseByteRange(option: string, text: string): { min: number; max: number } {
  const m = /^([^:-]+)[:-]([^:-]+)$/.exec(text.trim());
  if (!m) throw bad(option, text, 'a range such as 4k-64k');
  const a = parseBytes(option, m[1]);
  const b = parseBytes(option, m[2]);
  return { min: Math.min(a, b), max: Math.max(a, b) };
}

/**
 * fio's verify_pattern / buffer pattern: `0x…` is a big-endian byte string, a decimal is stored
 * little-endian in as few bytes as it needs (fio 3.33 writes 305419896 as 78 56 34 12), and a
 * quoted string is its bytes.
 */
export function parsePattern(option: string, text: string): Buffer {
  const t = text.trim();
  const quoted = /^"(.*)"$/.exec(t) ?? /^'(.*)'$/.exec(t);
  if (quoted) {
    if (quoted[1] === '') throw bad(option, text, 'a non-empty pattern');
    return Buffer.from(quoted[1], 'latin1');
  }
  const hex = /^0x([0-9a-f]+)$/i.exec(t);
  if (hex) {
    const digits = hex[1].length % 2 ? `0${hex[1]}` : hex[1];
    return Buffer.from(digits, 'hex');
  }
  if (/^\d+$/.test(t)) {
    let n = BigInt(t);
    const bytes: number[] = [];
    do {
      bytes.push(Number(n & 0xffn));
      n >>= 8n;
    } while (n > 0n);
    return Buffer.from(bytes);
  }
  throw bad(option, text, 'a pattern (0xHEX, a decimal number or a "quoted string")');
}

/**
 * A job as nvmf-bench runs it: the raw options of its [global] sections and its own section,
 * resolved into typed values with fio's defaults, expanded by numjobs, and placed in reporting
 * groups (a stonewall starts a new group, as in fio's HOWTO "stonewall").
 */
import { BenchUsageError } from '../errors.js';
import { resolveBlockSizes, type BlockSizeSpec } from './block-size-spec.js';
import {
  parseBool,
  parseFloatValue,
  parseInteger,
  parsePattern,
  parseSizeValue,
  parseTimeUsec,
  splitPerDirection,
  type SizeValue,
} from './fio-values.js';
import type { RawOption, RawSection } from './job-file.js';

/** Data directions, numbered as in fio's logs (HOWTO "Log File Formats": 0 read, 1 write). */
export const READ = 0;
export const WRITE = 1;
export type Ddir = typeof READ | typeof WRITE;
export const DDIRS: readonly Ddir[] = [READ, WRITE];

export const RW_MODES = [
  'read',
  'write',
  'randread',
  'randwrite',
  'rw',
  'readwrite',
  'randrw',
] as const;
export type RwMode = 'read' | 'write' | 'randread' | 'randwrite' | 'rw' | 'randrw';

export type DistributionSpec =
  | { kind: 'random' }
  | { kind: 'zipf'; theta: number }
  | { kind: 'pareto'; h: number }
  | { kind: 'normal'; devPercent: number };

export const VERIFY_KINDS = ['crc32c', 'crc32c-intel', 'md5', 'pattern'] as const;
export type VerifyKind = 'crc32c' | 'md5' | 'pattern';

export interface JobSpec {
  name: string;
  /** 1-based over every job after numjobs expansion (fio's thread number, used in log names). */
  number: number;
  /** Which numjobs clone this is, from 0. */
  clone: number;
  groupId: number;
  ioengine: string;
  filename?: string;
  uri?: string;
  rw: RwMode;
  random: boolean;
  rwmixread: number;
  bs: [BlockSizeSpec, BlockSizeSpec];
  iodepth: number;
  numjobs: number;
  size?: SizeValue;
  offset: SizeValue;
  runtimeUsec?: number;
  timeBased: boolean;
  rampUsec: number;
  rateIops: [number | undefined, number | undefined];
  distribution: DistributionSpec;
  norandommap: boolean;
  verify?: VerifyKind;
  verifyPattern?: Buffer;
  doVerify: boolean;
  verifyOnly: boolean;
  bufferCompressPercentage?: number;
  refillBuffers: boolean;
  groupReporting: boolean;
  stonewall: boolean;
  latLog?: string;
  iopsLog?: string;
  bwLog?: string;
  logAvgMsec: number;
  logOffset: boolean;
  /** The options as written, for fio's "job options" JSON object. */
  given: Record<string, string>;
}

/** fio's default rwmixread (HOWTO: "Default: 50"). */
export const DEFAULT_RWMIXREAD = 50;
export const DEFAULT_IOENGINE = 'bdev';
const PERCENT_MAX = 100;
/** Upper bounds that keep one process sane (fio has its own limits of the same order). */
const MAX_IODEPTH = 65_536;
const MAX_NUMJOBS = 4096;

export const hasReads = (j: Pick<JobSpec, 'rw'>): boolean =>
  j.rw !== 'write' && j.rw !== 'randwrite';
export const hasWrites = (j: Pick<JobSpec, 'rw'>): boolean =>
  j.rw !== 'read' && j.rw !== 'randread';

function parseDistribution(text: string): DistributionSpec {
  const [kind, ...params] = text.split(':');
  const bad = (why: string): BenchUsageError =>
    new BenchUsageError(`random_distribution="${text}" ${why}`);
  if (params.length > 1)
    throw bad('has a second (centre) value, which nvmf-bench does not support');
  const value =
    params[0] === undefined ? undefined : parseFloatValue('random_distribution', params[0]);
  switch (kind) {
    case 'random':
      if (value !== undefined) throw bad('takes no value');
      return { kind: 'random' };
    case 'zipf':
      // fio: "zipf theta must be different than 1.0" (its generator divides by 1 - theta).
      if (value === undefined || value <= 0 || value === 1)
        throw bad('needs a theta > 0 other than 1, e.g. zipf:1.2');
      return { kind: 'zipf', theta: value };
    case 'pareto':
      if (value === undefined || value <= 0 || value >= 1)
        throw bad('needs a power between 0 and 1, e.g. pareto:0.2');
      return { kind: 'pareto', h: value };
    case 'normal':
      if (value !== undefined && (value < 0 || value > PERCENT_MAX))
        throw bad('needs a deviation 0-100');
      return { kind: 'normal', devPercent: value ?? 0 };
    default:
      throw bad('is not random, zipf:THETA, pareto:H or normal[:DEV]');
  }
}

function parseRateIops(text: string): [number | undefined, number | undefined] {
  return splitPerDirection(text).map((v) =>
    v === undefined ? undefined : parseInteger('rate_iops', v, 1),
  ) as [number | undefined, number | undefined];
}

/** Resolves the merged option list of one job (later options win, as in fio). */
export function resolveJobOptions(name: string, options: readonly RawOption[]): JobSpec {
  const v = new Map<string, string | undefined>();
  const given: Record<string, string> = {};
  for (const o of options) {
    v.set(o.key, o.value);
    given[o.key] = o.value ?? '1';
  }
  const str = (k: string): string | undefined => (v.has(k) ? (v.get(k) ?? '') : undefined);
  const bool = (k: string, dflt: boolean): boolean => (v.has(k) ? parseBool(k, v.get(k)) : dflt);
  const int = (k: string, dflt: number, min = 0, max?: number): number => {
    const s = str(k);
    return s === undefined ? dflt : parseInteger(k, s, min, max);
  };

  const rwText = str('rw') ?? 'read';
  if (!(RW_MODES as readonly string[]).includes(rwText)) {
    throw new BenchUsageError(`rw="${rwText}" is not one of ${RW_MODES.join(', ')}`);
  }
  const rw = (rwText === 'readwrite' ? 'rw' : rwText) as RwMode;
  const verifyText = str('verify');
  if (verifyText !== undefined && !(VERIFY_KINDS as readonly string[]).includes(verifyText)) {
    throw new BenchUsageError(
      `verify="${verifyText}" is not supported; use one of ${VERIFY_KINDS.join(', ')}`,
    );
  }
  // fio's HOWTO: crc32c-intel is a synonym for crc32c (hardware use is automatic).
  const verify = verifyText === 'crc32c-intel' ? 'crc32c' : (verifyText as VerifyKind | undefined);
  const sizeText = str('size');
  const offsetText = str('offset');
  const runtime = str('runtime');
  const ramp = str('ramp_time');
  const rate = str('rate_iops');
  const dist = str('random_distribution');
  const pattern = str('verify_pattern');
  const compress = str('buffer_compress_percentage');

  const spec: JobSpec = {
    name,
    number: 0,
    clone: 0,
    groupId: 0,
    ioengine: str('ioengine') ?? DEFAULT_IOENGINE,
    filename: str('filename'),
    uri: str('uri'),
    rw,
    random: rw.startsWith('rand'),
    rwmixread: int('rwmixread', DEFAULT_RWMIXREAD, 0, PERCENT_MAX),
    bs: resolveBlockSizes({ bs: str('bs'), bsrange: str('bsrange'), bssplit: str('bssplit') }),
    iodepth: int('iodepth', 1, 1, MAX_IODEPTH),
    numjobs: int('numjobs', 1, 1, MAX_NUMJOBS),
    size: sizeText === undefined ? undefined : parseSizeValue('size', sizeText, true),
    offset: offsetText === undefined ? { bytes: 0 } : parseSizeValue('offset', offsetText, true),
    runtimeUsec: runtime === undefined ? undefined : parseTimeUsec('runtime', runtime),
    timeBased: bool('time_based', false),
    rampUsec: ramp === undefined ? 0 : parseTimeUsec('ramp_time', ramp),
    rateIops: rate === undefined ? [undefined, undefined] : parseRateIops(rate),
    distribution: dist === undefined ? { kind: 'random' } : parseDistribution(dist),
    norandommap: bool('norandommap', false),
    verify,
    verifyPattern: pattern === undefined ? undefined : parsePattern('verify_pattern', pattern),
    doVerify: bool('do_verify', true),
    verifyOnly: bool('verify_only', false),
    bufferCompressPercentage:
      compress === undefined
        ? undefined
        : parseInteger('buffer_compress_percentage', compress, 0, PERCENT_MAX),
    refillBuffers: bool('refill_buffers', false),
    groupReporting: bool('group_reporting', false),
    stonewall: bool('stonewall', false),
    latLog: str('write_lat_log'),
    iopsLog: str('write_iops_log'),
    bwLog: str('write_bw_log'),
    logAvgMsec: int('log_avg_msec', 0),
    logOffset: bool('log_offset', false),
    given,
  };
  checkJob(spec);
  return spec;
}

/** Cross-option rules, each refused with one sentence. */
function checkJob(j: JobSpec): void {
  const fail = (msg: string): never => {
    throw new BenchUsageError(`job "${j.name}": ${msg}`);
  };
  if (j.timeBased && j.runtimeUsec === undefined) fail('time_based needs a runtime');
  if (j.verify === 'pattern' && !j.verifyPattern) fail('verify=pattern needs verify_pattern');
  if (j.verifyOnly && !j.verify) fail('verify_only needs verify');
  if (j.verify && hasWrites(j) && j.timeBased) {
    fail(
      'verify of written data needs a finite write phase; drop time_based (fio HOWTO verify_only)',
    );
  }
  const variableBs = j.bs.some((b) => b.kind !== 'fixed');
  if (j.verify && hasWrites(j) && j.norandommap && j.random && variableBs) {
    fail(
      'verify with norandommap and varying block sizes would verify blocks that later writes overlapped',
    );
  }
}

/** Per-job options merged from the sections, fio-style: [global] sections apply to later jobs. */
export function buildJobs(
  sectionLists: readonly (readonly RawSection[])[],
  defaults: readonly RawOption[] = [],
): JobSpec[] {
  const jobs: JobSpec[] = [];
  let number = 0;
  let groupId = 0;
  for (const sections of sectionLists) {
    let globals: RawOption[] = [...defaults];
    for (const section of sections) {
      if (section.global) {
        globals = [...globals, ...section.options];
        continue;
      }
      const spec = resolveJobOptions(section.name, [...globals, ...section.options]);
      // fio: a stonewall job waits for the earlier ones and begins a new reporting group.
      if (spec.stonewall && jobs.length > 0) groupId++;
      for (let clone = 0; clone < spec.numjobs; clone++) {
        jobs.push({ ...spec, number: ++number, clone, groupId });
      }
    }
  }
  if (jobs.length === 0) throw new BenchUsageError('no jobs: give --name=… options or a job file');
  return jobs;
}

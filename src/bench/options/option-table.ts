/**
 * The options nvmf-bench accepts, by fio's names (fio HOWTO "Job file parameters"). Anything
 * else fio knows is refused with one line naming it — never silently ignored, so a job file never
 * measures something other than what it says.
 */
import { UnsupportedOptionError, BenchUsageError } from '../errors.js';

export type OptionScope = 'job' | 'command-line';
/** 'bool' options may appear bare (`time_based`, `--norandommap`), meaning 1. */
export type OptionValue = 'required' | 'bool';

export interface OptionDef {
  readonly name: string;
  readonly scope: OptionScope;
  readonly value: OptionValue;
  readonly help: string;
}

const job = (name: string, help: string, value: OptionValue = 'required'): OptionDef => ({
  name,
  scope: 'job',
  value,
  help,
});
const cli = (name: string, help: string, value: OptionValue = 'required'): OptionDef => ({
  name,
  scope: 'command-line',
  value,
  help,
});

export const OPTIONS: readonly OptionDef[] = [
  job('name', 'job name; on the command line it starts a new job'),
  job('ioengine', 'bdev | null | nbd | nvmf (and engines registered later: dpu, rdma)'),
  job(
    'filename',
    'bdev: mem:SIZE[:BS] | null:SIZE[:BS] | file:PATH:SIZE[:BS]; nvmf: "trtype=tcp traddr=… trsvcid=… subnqn=… ns=1"',
  ),
  job('uri', 'nbd engine: nbd://HOST:PORT/EXPORT or nbd+unix:///EXPORT?socket=PATH'),
  job('rw', 'read | write | randread | randwrite | rw | readwrite | randrw'),
  job('rwmixread', 'percentage of a mixed workload that is reads (default 50)'),
  job('bs', 'block size, or READ,WRITE sizes (default 4k)'),
  job('bsrange', 'block size range MIN-MAX (per direction with a comma)'),
  job('bssplit', 'weighted block sizes SIZE/PERCENT:SIZE/PERCENT…'),
  job('iodepth', 'I/Os in flight per job (default 1)'),
  job('numjobs', 'clones of this job (default 1)'),
  job('size', 'bytes of I/O and region size per job; N% of the device (default: the device)'),
  job('offset', 'start of the region; N% of the device (default 0)'),
  job('runtime', 'limit of the run time (s, or with a d/h/m/s/ms/us suffix)'),
  job('time_based', 'run for the whole runtime, wrapping around the region', 'bool'),
  job('ramp_time', 'run this long before recording statistics'),
  job('rate_iops', 'cap IOPS per direction: N or READ,WRITE'),
  job('random_distribution', 'random | zipf:THETA | pareto:H | normal[:DEV%]'),
  job(
    'norandommap',
    'random offsets without a map (blocks may repeat, some never touched)',
    'bool',
  ),
  job('verify', 'crc32c | crc32c-intel | md5 | pattern (fio verify headers)'),
  job('verify_pattern', 'pattern for verify=pattern: 0xHEX | decimal | "string"'),
  job('do_verify', 'verify after the write phase (default 1)', 'bool'),
  job('verify_only', 'only verify what an earlier identical run wrote', 'bool'),
  job('buffer_compress_percentage', 'make write buffers compress to about this percentage'),
  job('refill_buffers', 'new random data for every write', 'bool'),
  job('group_reporting', 'report each group, not each job', 'bool'),
  job('stonewall', 'wait for the jobs before this one; starts a new group', 'bool'),
  job('write_lat_log', 'write PREFIX_{slat,clat,lat}.N.log latency logs (ns)'),
  job('write_iops_log', 'write PREFIX_iops.N.log'),
  job('write_bw_log', 'write PREFIX_bw.N.log (KiB/s)'),
  job('log_avg_msec', 'average log entries over this many ms (default 0: every I/O)'),
  job('log_offset', 'add the I/O offset column to the logs', 'bool'),
  cli('output-format', 'normal | json | json+ (comma-separated for several)'),
  cli('output', 'write the report to this file instead of stdout'),
  cli('plot', 'write an SVG with the latency histogram and IOPS over time'),
  cli('help', 'print this help', 'bool'),
  cli('version', 'print the version', 'bool'),
];

/** fio's alternative names for the same options (fio options.c `.alias`). */
const ALIASES: Record<string, string> = {
  readwrite: 'rw',
  blocksize: 'bs',
  blocksize_range: 'bsrange',
};

const BY_NAME = new Map(OPTIONS.map((o) => [o.name, o]));

/** The definition of `name` (after aliases), or an UnsupportedOptionError naming it. */
export function lookupOption(name: string, where = ''): OptionDef {
  const canonical = ALIASES[name] ?? name;
  const def = BY_NAME.get(canonical);
  if (!def) throw new UnsupportedOptionError(name, where);
  return def;
}

/** Checks one `key[=value]` against the table; returns the canonical name. */
export function checkOption(
  name: string,
  value: string | undefined,
  scope: OptionScope,
  where = '',
): string {
  const def = lookupOption(name, where);
  if (def.scope === 'command-line' && scope === 'job') {
    throw new BenchUsageError(
      `option "${name}"${where} belongs on the command line (--${name}=…), not in a job`,
    );
  }
  if (def.value === 'required' && (value === undefined || value === '')) {
    throw new BenchUsageError(`option "${name}"${where} needs a value`);
  }
  return def.name;
}

/** Help text listing every supported option. */
export function optionsHelp(): string {
  const width = Math.max(...OPTIONS.map((o) => o.name.length)) + 2;
  return OPTIONS.map((o) => `  --${o.name.padEnd(width)}${o.help}`).join('\n');
}

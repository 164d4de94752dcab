/** Reading fio's JSON output (--output-format=json --output=FILE). */
import { readFile } from 'node:fs/promises';

export interface FioJob {
  jobname: string;
  error: number;
  write: { io_bytes: number; total_ios: number };
  read: { io_bytes: number; total_ios: number };
}

export async function fioJobs(file: string): Promise<FioJob[]> {
  const text = await readFile(file, 'utf8');
  // fio may print notices before the JSON document, even into --output.
  return (JSON.parse(text.slice(text.indexOf('{'))) as { jobs: FioJob[] }).jobs;
}

/**
 * fio's options for one 4 KiB QD32 job over its NBD engine (libnbd) against `uri`, with its JSON
 * result in `out`; `extra` adds the workload (--rw, --size, verify options ...).
 */
export function nbdFioArgs(name: string, uri: string, out: string, extra: readonly string[]) {
  return [
    `--name=${name}`,
    '--ioengine=nbd',
    `--uri=${uri}`,
    '--bs=4k',
    '--iodepth=32',
    // fio's verify state files would land in the working directory; they are not needed here.
    '--verify_state_save=0',
    '--output-format=json',
    `--output=${out}`,
    ...extra,
  ];
}

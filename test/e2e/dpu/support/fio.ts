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

/** The byte range of the device a job works on: offset and size, either may be a percentage. */
import { BenchUsageError } from '../errors.js';
import type { SizeValue } from '../options/fio-values.js';
import type { JobSpec } from '../options/job-spec.js';
import type { Region } from '../workload/io-pattern.js';

const PERCENT = 100;

function resolve(v: SizeValue, deviceBytes: number, blockSize: number): number {
  if ('bytes' in v) return v.bytes;
  // A percentage is of the device, rounded down to whole blocks.
  const bytes = Math.floor((deviceBytes * v.percent) / PERCENT);
  return bytes - (bytes % blockSize);
}

export function jobRegion(job: JobSpec, deviceBytes: number, blockSize: number): Region {
  const start = resolve(job.offset, deviceBytes, blockSize);
  const size =
    job.size === undefined ? deviceBytes - start : resolve(job.size, deviceBytes, blockSize);
  if (start >= deviceBytes) {
    throw new BenchUsageError(
      `job "${job.name}": offset ${start} is at or beyond the device's ${deviceBytes} bytes`,
    );
  }
  if (size <= 0 || start + size > deviceBytes) {
    throw new BenchUsageError(
      `job "${job.name}": size ${size} at offset ${start} does not fit the device's ${deviceBytes} bytes`,
    );
  }
  return { start, size };
}

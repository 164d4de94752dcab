/**
 * Runs all jobs of a bench: group after group (a stonewall waits for every earlier job), the jobs
 * of one group at the same time, each on the device its ioengine opens. Job failures (an I/O
 * error, a verify failure) end that job with fio's err= and the run goes on; a job that cannot
 * start (bad option for its device, engine cannot connect) fails the whole run, as in fio.
 */
import { getEngine, type OpenedDevice } from '../engines/io-engine.js';
import type { JobSpec } from '../options/job-spec.js';
import type { JobStats } from '../stats/job-stats.js';
import { JobRunner, type JobProgress } from './job-runner.js';

export interface RunningJob {
  spec: JobSpec;
  progress: JobProgress;
  /** Ends the job early; it still reports what it did. */
  stop(): void;
}

export interface BenchRunHooks {
  /** Called when a group's jobs start, with their live progress (for the status line). */
  onGroupStart?(jobs: RunningJob[]): void;
}

async function openDevice(spec: JobSpec): Promise<OpenedDevice> {
  return getEngine(spec.ioengine).open({
    jobName: spec.name,
    jobNumber: spec.number,
    filename: spec.filename,
    uri: spec.uri,
    sizeBytes: spec.size && 'bytes' in spec.size ? spec.size.bytes : undefined,
    iodepth: spec.iodepth,
  });
}

async function runGroup(jobs: readonly JobSpec[], hooks: BenchRunHooks): Promise<JobStats[]> {
  const opened = await Promise.allSettled(jobs.map(openDevice));
  const devices = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  try {
    if (failed) throw failed.reason;
    const runners = jobs.map(
      (spec, i) =>
        new JobRunner(
          spec,
          devices[i].bdev,
          devices[i].label,
          devices[i].readInto?.bind(devices[i]),
          devices[i].queue,
        ),
    );
    hooks.onGroupStart?.(
      runners.map((r, i) => ({ spec: jobs[i], progress: r.progress, stop: () => r.stop() })),
    );
    return await Promise.all(runners.map((r) => r.run()));
  } finally {
    await Promise.allSettled(devices.map((d) => d.release()));
  }
}

export interface BenchControl {
  /** Set when the run should end early: the running group stops, later groups do not start. */
  aborted: boolean;
}

export async function runBench(
  jobs: readonly JobSpec[],
  hooks: BenchRunHooks = {},
  control: BenchControl = { aborted: false },
): Promise<JobStats[]> {
  const groupIds = [...new Set(jobs.map((j) => j.groupId))].sort((a, b) => a - b);
  const results: JobStats[] = [];
  for (const id of groupIds) {
    if (control.aborted) break;
    results.push(
      ...(await runGroup(
        jobs.filter((j) => j.groupId === id),
        hooks,
      )),
    );
  }
  return results;
}

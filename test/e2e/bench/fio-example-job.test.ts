/**
 * fio's own examples/nbd.fio, unchanged, run the way its header comment says — with nvmf-bench
 * in place of fio: `nbdkit -U - memory size=256M --run 'export uri; nvmf-bench nbd.fio'`. Four
 * jobs at 64 MiB offsets, randrw at iodepth 64, time based for the file's 60 s, group reported.
 */
import t from 'tap';
import { join } from 'node:path';
import { BENCH_BIN, preflight, readJson, run, tempDir } from './support/bench-rig.js';

const JOB_FILE = new URL('./fixtures/nbd.fio', import.meta.url).pathname;
const FILE_RUNTIME_MS = 60_000;

t.test("fio's examples/nbd.fio runs unchanged", async (t) => {
  if (!preflight(t, ['nbdkit'])) return;
  const dir = await tempDir('nbd-fio');
  t.teardown(() => dir.remove());
  const out = join(dir.path, 'out.json');
  const cmd = `export uri; '${process.execPath}' '${BENCH_BIN}' --output-format=json --output='${out}' '${JOB_FILE}'`;
  const r = await run('nbdkit', ['-U', '-', 'memory', 'size=256M', '--run', cmd]);
  t.equal(r.code, 0, `nvmf-bench runs the job file ${r.stderr}`);
  const doc = await readJson(out);
  t.equal(doc.jobs.length, 1, 'group_reporting folds the four jobs into one');
  const job = doc.jobs[0];
  t.equal(job.error, 0, 'no error');
  t.ok(job.read.total_ios > 0 && job.write.total_ios > 0, 'randrw did reads and writes');
  t.ok(
    job.job_runtime >= FILE_RUNTIME_MS,
    `time_based ran the file's runtime (${job.job_runtime} ms)`,
  );
  t.equal(job['job options'].iodepth, '64', "with the file's iodepth");
});

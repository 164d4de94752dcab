/**
 * nvmf-bench's `dpu` ioengine: the virtual namespace built inside the bench process from a
 * farm.json (mirror) or from nvmf-dpu options (stripe), driven with crc32c verify; fio's JSON
 * schema comes out with zero errors.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { farm, farmUp, preflight } from './support/dpu-rig.js';
import { runBin, tempDir } from './support/processes.js';

interface BenchJob {
  error: number;
  'job options': { ioengine: string };
  write: { io_bytes: number };
  read: { io_bytes: number };
}

const SIZE_BYTES = 16 * 1024 * 1024;

t.test('nvmf-bench --ioengine=dpu on a farm: verify passes', async (t) => {
  if (!preflight(t, [])) return;
  const dir = await tempDir('bench-dpu');
  t.teardown(() => dir.remove());
  const farmDir = join(dir.path, 'farm');
  await farmUp(farmDir, 3, '32MiB');
  t.teardown(() => farm(farmDir, 'down'));
  const farmFile = join(farmDir, 'farm.json');

  for (const [what, filename] of [
    ['mirror from farm.json', farmFile],
    ['stripe from options', `farm=${farmFile} layout=stripe stripe-size=16KiB`],
  ]) {
    const out = join(dir.path, `${what.split(' ')[0]}.json`);
    const res = await runBin('nvmf-bench', [
      '--name=dpu-verify',
      '--ioengine=dpu',
      `--filename=${filename}`,
      '--rw=randwrite',
      '--bs=4k',
      '--iodepth=16',
      `--size=${SIZE_BYTES}`,
      '--verify=crc32c',
      '--do_verify=1',
      '--output-format=json',
      `--output=${out}`,
    ]);
    t.equal(res.code, 0, `${what}: nvmf-bench exits 0 ${res.stderr}`);
    const text = await readFile(out, 'utf8');
    const [job] = (JSON.parse(text.slice(text.indexOf('{'))) as { jobs: BenchJob[] }).jobs;
    t.equal(job.error, 0, `${what}: no error`);
    t.equal(job['job options'].ioengine, 'dpu');
    t.equal(job.write.io_bytes, SIZE_BYTES, `${what}: every block written`);
    t.equal(job.read.io_bytes, SIZE_BYTES, `${what}: every block verified`);
  }
});

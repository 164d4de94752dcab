/**
 * Real fio through the NBD shim on a 3-way mirror: randwrite with crc32c verify headers at QD32,
 * then fio reads every block back and checks it (fio's do_verify). Zero errors expected. The
 * mirror spreads those reads across the legs, so a leg that lost a write would show here.
 */
import t from 'tap';
import { join } from 'node:path';
import { Dpu, farm, farmUp, preflight } from './support/dpu-rig.js';
import { run, tempDir } from './support/processes.js';
import { fioJobs } from './support/fio.js';

const NODES = 3;
const NODE_SIZE = '64MiB';
const FIO_BYTES = 64 * 1024 * 1024;

t.test('fio randwrite + crc32c verify at QD32 on a mirror: zero errors', async (t) => {
  if (!preflight(t, ['fio'])) return;
  const dir = await tempDir('fio-verify');
  t.teardown(() => dir.remove());
  const farmDir = join(dir.path, 'farm');
  await farmUp(farmDir, NODES, NODE_SIZE);
  t.teardown(() => farm(farmDir, 'down'));
  const dpu = await Dpu.start([
    '--farm',
    join(farmDir, 'farm.json'),
    '--layout',
    'mirror',
    '--state-dir',
    join(dir.path, 'dpu'),
  ]);
  t.teardown(() => dpu.stop());

  const out = join(dir.path, 'fio.json');
  const fio = await run('fio', [
    '--name=mirror-verify',
    '--ioengine=nbd',
    `--uri=${dpu.uri}`,
    '--rw=randwrite',
    '--bs=4k',
    '--iodepth=32',
    `--size=${FIO_BYTES}`,
    '--verify=crc32c',
    '--do_verify=1',
    // fio's verify state files would land in the working directory; they are not needed here.
    '--verify_state_save=0',
    '--output-format=json',
    `--output=${out}`,
  ]);
  t.equal(fio.code, 0, `fio exits 0 ${fio.stderr}`);
  const [job] = await fioJobs(out);
  t.equal(job.error, 0, 'fio reports no error');
  t.equal(job.write.io_bytes, FIO_BYTES, 'every byte was written');
  t.equal(job.read.io_bytes, FIO_BYTES, 'every byte was read back and verified');
  t.notMatch(fio.stderr, /verify failed|bad magic header/, 'no verify failure');
  t.same(
    dpu.logs().filter((l) => l.msg === 'mirror leg degraded'),
    [],
    'no leg was degraded',
  );
});

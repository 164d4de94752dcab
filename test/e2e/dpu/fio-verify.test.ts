/**
 * Real fio through the NBD shim on a 3-way mirror: randwrite with crc32c verify headers at QD32,
 * then fio reads every block back and checks it (fio's do_verify). Zero errors expected. The
 * mirror spreads those reads across the legs, so a leg that lost a write would show here.
 */
import t from 'tap';
import { join } from 'node:path';
import { dpuOnFarm, preflight } from './support/dpu-rig.js';
import { run } from './support/processes.js';
import { fioJobs, nbdFioArgs } from './support/fio.js';

const NODES = 3;
const NODE_SIZE = '64MiB';
const FIO_BYTES = 64 * 1024 * 1024;

t.test('fio randwrite + crc32c verify at QD32 on a mirror: zero errors', async (t) => {
  if (!preflight(t, ['fio'])) return;
  const { dir, dpu } = await dpuOnFarm(t, 'fio-verify', {
    nodes: NODES,
    nodeSize: NODE_SIZE,
    layoutArgs: ['--layout', 'mirror'],
    stateDir: true,
  });

  const out = join(dir.path, 'fio.json');
  const fio = await run(
    'fio',
    nbdFioArgs('mirror-verify', dpu.uri, out, [
      '--rw=randwrite',
      `--size=${FIO_BYTES}`,
      '--verify=crc32c',
      '--do_verify=1',
    ]),
  );
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

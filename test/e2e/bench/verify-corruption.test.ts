/**
 * Verify catches a block corrupted behind the bench's back. nvmf-bench writes 16 MiB with fio
 * crc32c verify headers to nbdkit and reads them back (do_verify); real fio --verify_only accepts
 * those blocks, proving the headers are fio's format; then qemu-io overwrites one block, and both
 * nvmf-bench and fio --verify_only exit non-zero naming that block's offset.
 */
import t from 'tap';
import { join } from 'node:path';
import { nbdkitRig, readJson, run, runBench } from './support/bench-rig.js';

const SIZE = '16m';
const BAD_OFFSET = 5 * 1024 * 1024 + 12 * 4096;
const JOB = [
  '--name=v',
  '--ioengine=nbd',
  '--rw=randwrite',
  '--bs=4k',
  '--iodepth=16',
  `--size=${SIZE}`,
  '--verify=crc32c',
];

t.test('a corrupted block fails verify with its offset named', async (t) => {
  const rig = await nbdkitRig(t, 'verify', '64M', ['nbdkit', 'fio', 'qemu-io']);
  if (!rig) return;
  const { dir, server } = rig;
  const uri = `--uri=${server.uri}`;

  const out = join(dir, 'write.json');
  const w = await runBench([...JOB, uri, '--output-format=json', `--output=${out}`]);
  t.equal(w.code, 0, `nvmf-bench writes and verifies ${w.stderr}`);
  const job = (await readJson(out)).jobs[0];
  t.equal(job.write.io_bytes, 16 * 1024 * 1024, 'every block written');
  t.equal(job.read.io_bytes, 16 * 1024 * 1024, 'every block read back and verified');

  const fioClean = await run('fio', [...JOB, uri, '--verify_only', '--output=/dev/null']);
  t.equal(
    fioClean.code,
    0,
    `real fio --verify_only accepts nvmf-bench's blocks ${fioClean.stderr}`,
  );

  const q = await run('qemu-io', ['-f', 'raw', '-c', `write -P 0xab ${BAD_OFFSET} 4k`, server.uri]);
  t.equal(q.code, 0, `qemu-io overwrites the block at ${BAD_OFFSET} ${q.stderr}`);

  const ours = await runBench([
    ...JOB,
    uri,
    '--verify_only',
    '--output-format=json',
    `--output=${join(dir, 'bad.json')}`,
  ]);
  t.not(ours.code, 0, 'nvmf-bench --verify_only exits non-zero');
  t.match(
    ours.stderr,
    `verify: bad magic header abab, wanted acca at file ${server.uri} offset ${BAD_OFFSET}, length 4096`,
    'and names the offset as fio does',
  );
  t.equal(
    (await readJson(join(dir, 'bad.json'))).jobs[0].error,
    84,
    'the job reports err=84 (EILSEQ)',
  );

  const fioBad = await run('fio', [...JOB, uri, '--verify_only', '--output=/dev/null']);
  t.not(fioBad.code, 0, 'real fio --verify_only fails too');
  t.match(fioBad.stderr, `offset ${BAD_OFFSET}`, 'naming the same offset');
});

/**
 * nbdinfo (libnbd, strict about the handshake) against nvmf-dpu: the export's size, block size
 * constraints and transmission flags; `nbdinfo --map` (NBD base:allocation) agrees with what
 * qemu-io wrote and trimmed. The volume is a concat of two memory namespaces on two nvmf-target
 * processes (the leaf bdev with an exact allocation map), so the map crosses a leg boundary.
 * Also: --discover builds a single-leg volume from a discovery log.
 */
import t from 'tap';
import { Dpu, preflight, startTarget } from './support/dpu-rig.js';
import { run } from './support/processes.js';

const MiB = 1024 * 1024;
const LEG_BYTES = 32 * MiB;
const NQN_A = 'nqn.2024-01.io.nvmf-dpu:e2e-nbdinfo:a';
const NQN_B = 'nqn.2024-01.io.nvmf-dpu:e2e-nbdinfo:b';
/** NBD extent type bits (NBD protocol, "base:allocation" context): 1 = hole, 2 = zero. */
const NBD_STATE_HOLE = 1;

interface NbdinfoExport {
  'export-name': string;
  'export-size': number;
  block_size_minimum: number;
  block_size_preferred: number;
  block_size_maximum: number;
  is_read_only: boolean;
  can_flush: boolean;
  can_fua: boolean;
  can_trim: boolean;
  can_zero: boolean;
  can_multi_conn: boolean;
}

interface MapExtent {
  offset: number;
  length: number;
  type: number;
}

/** The allocated ranges of an `nbdinfo --map --json` answer, adjacent ones merged. */
function dataRanges(map: MapExtent[]): [number, number][] {
  const out: [number, number][] = [];
  for (const e of map) {
    if (e.type & NBD_STATE_HOLE) continue;
    const last = out[out.length - 1];
    if (last && last[1] === e.offset) last[1] = e.offset + e.length;
    else out.push([e.offset, e.offset + e.length]);
  }
  return out;
}

const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

t.test('nbdinfo and nbdinfo --map on a concat volume', async (t) => {
  if (!preflight(t, ['nbdinfo', 'qemu-io'])) return;
  const a = await startTarget(NQN_A, ['mem:32MiB:512']);
  t.teardown(() => a.child.stop());
  const b = await startTarget(NQN_B, ['mem:32MiB:512']);
  t.teardown(() => b.child.stop());
  const dpu = await Dpu.start(['--connect', a.uri, '--connect', b.uri, '--layout', 'concat']);
  t.teardown(() => dpu.stop());

  const info = await run('nbdinfo', ['--json', dpu.uri]);
  t.equal(info.code, 0, `nbdinfo --json succeeds ${info.stderr}`);
  const exp = (JSON.parse(info.stdout) as { exports: NbdinfoExport[] }).exports[0];
  t.equal(exp['export-name'], 'vol0', 'the export is vol0');
  t.equal(exp['export-size'], 2 * LEG_BYTES, 'size is the sum of the legs');
  t.equal(exp.block_size_minimum, 512, 'minimum block size is the legs’ logical block');
  t.ok(isPowerOfTwo(exp.block_size_preferred), 'preferred block size is a power of two');
  t.ok(exp.block_size_preferred >= exp.block_size_minimum, 'preferred ≥ minimum');
  t.ok(exp.block_size_maximum >= exp.block_size_preferred, 'maximum ≥ preferred');
  t.equal(exp.is_read_only, false, 'writable');
  t.equal(exp.can_flush, true, 'FLUSH');
  t.equal(exp.can_fua, true, 'FUA');
  t.equal(exp.can_trim, true, 'TRIM');
  t.equal(exp.can_zero, true, 'WRITE_ZEROES');
  t.equal(exp.can_multi_conn, true, 'multi-conn');

  const size = await run('nbdinfo', ['--size', dpu.uri]);
  t.equal(size.stdout.trim(), String(2 * LEG_BYTES), 'nbdinfo --size');

  const empty = await run('nbdinfo', ['--map', '--json', dpu.uri]);
  t.equal(empty.code, 0, `nbdinfo --map succeeds ${empty.stderr}`);
  t.same(dataRanges(JSON.parse(empty.stdout) as MapExtent[]), [], 'a fresh volume is all hole');

  // Writes on both legs, one that straddles the boundary between them, then a trim.
  const straddle = LEG_BYTES - MiB;
  const write = await run('qemu-io', [
    '-f',
    'raw',
    '-c',
    `write -P 0xab 0 ${MiB}`,
    '-c',
    `write -P 0xcd ${straddle} ${2 * MiB}`,
    '-c',
    `write -P 0xef ${40 * MiB} ${MiB}`,
    '-c',
    `discard 0 ${MiB / 2}`,
    dpu.uri,
  ]);
  t.equal(write.code, 0, 'qemu-io write and discard', { output: write.stdout + write.stderr });

  const map = await run('nbdinfo', ['--map', '--json', dpu.uri]);
  t.equal(map.code, 0);
  t.same(
    dataRanges(JSON.parse(map.stdout) as MapExtent[]),
    [
      [MiB / 2, MiB],
      [straddle, straddle + 2 * MiB],
      [40 * MiB, 41 * MiB],
    ],
    'the map shows exactly what was written and not trimmed',
  );

  const read = await run('qemu-io', [
    '-f',
    'raw',
    '-c',
    `read -P 0 0 ${MiB / 2}`,
    '-c',
    `read -P 0xab ${MiB / 2} ${MiB / 2}`,
    '-c',
    `read -P 0xcd ${straddle} ${2 * MiB}`,
    '-c',
    `read -P 0xef ${40 * MiB} ${MiB}`,
    '-c',
    `read -P 0 ${41 * MiB} ${MiB}`,
    dpu.uri,
  ]);
  t.equal(read.code, 0, 'the bytes read back are the ones written', {
    output: read.stdout + read.stderr,
  });
  t.notMatch(read.stdout, /Pattern verification failed/);
});

t.test('--discover builds a single-leg volume from the discovery log', async (t) => {
  if (!preflight(t, ['nbdinfo'])) return;
  const nqn = 'nqn.2024-01.io.nvmf-dpu:e2e-nbdinfo:discovered';
  const target = await startTarget(nqn, ['mem:16MiB:4096']);
  t.teardown(() => target.child.stop());
  const dpu = await Dpu.start(['--discover', `127.0.0.1:${target.port}`, '--layout', 'single']);
  t.teardown(() => dpu.stop());
  const info = await run('nbdinfo', ['--json', dpu.uri]);
  const exp = (JSON.parse(info.stdout) as { exports: NbdinfoExport[] }).exports[0];
  t.equal(exp['export-size'], 16 * MiB);
  t.equal(exp.block_size_minimum, 4096, 'a 4096-byte namespace gives a 4096-byte minimum');
  const connected = dpu.logs().find((l) => l.msg === 'leg connected');
  t.match(String(connected?.leg), nqn, 'the discovered subsystem is the leg');
});

/**
 * A storage node fails under load.
 * - Mirror: `nvmf-farm stop` one node while fio runs a crc32c verify job → fio finishes with zero
 *   errors; `nvmf-farm start` brings it back → the DPU's resync reports the blocks it copied, which
 *   are only the regions written while the leg was away (fio writes an 8 MiB range of a 32 MiB
 *   volume), and afterwards the three legs, read directly over NVMe/TCP with nvmf-ctl, are equal.
 * - Concat (no redundancy): the same stop gives fio a clean EIO, not a hang, and once the node is
 *   back I/O to its part of the volume succeeds again.
 */
import t from 'tap';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { dpuOnFarm, farm, preflight, type FarmInfo } from './support/dpu-rig.js';
import {
  Child,
  READY_TIMEOUT_MS,
  run,
  runBin,
  sha256File,
  sleep,
  type RunResult,
} from './support/processes.js';
import { fioJobs, nbdFioArgs } from './support/fio.js';

const MiB = 1024 * 1024;
const NODES = 3;
const NODE_SIZE = '32MiB';
const VOLUME_BYTES = 32 * MiB;
/** fio writes only this much of the volume, so resync must copy less than the whole. */
const FIO_RANGE_BYTES = 8 * MiB;
/** The mirror's default write-intent region (dpu-config DEFAULT_REGION_SIZE). */
const REGION_BYTES = MiB;
/**
 * Writes only (fio's read,write form) are capped, so the write phase (8 MiB of 4 KiB at this
 * rate: 8 s) outlasts the moment the node is stopped, and the degraded mirror takes writes.
 */
const FIO_WRITE_RATE = ',250';
/** The node is stopped once this much of the first node's file is written. */
const PROGRESS_BYTES = 256 * 1024;
const POLL_MS = 50;
const BLOCK_BYTES = 512;
const RESUME_ATTEMPTS = 120;
const RESUME_POLL_MS = 500;

/** A sleep that does not keep the suite's process alive once everything else is done. */
const unrefSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** Bytes allocated in a node's backing file (grows as writes land on it). */
async function allocated(farmDir: string, farmInfo: FarmInfo, node: number): Promise<number> {
  const s = await stat(join(farmDir, farmInfo.nodes[node].file));
  return s.blocks * BLOCK_BYTES;
}

async function waitForProgress(child: Child, farmDir: string, farmInfo: FarmInfo): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const start = await allocated(farmDir, farmInfo, 0);
  while ((await allocated(farmDir, farmInfo, 0)) - start < PROGRESS_BYTES) {
    if (!child.running) throw new Error(`fio ended before any progress was seen${child.tail()}`);
    if (Date.now() > deadline) throw new Error('fio made no progress');
    await sleep(POLL_MS);
  }
}

function fio(uri: string, out: string, extra: string[]): Child {
  return Child.spawn('fio', nbdFioArgs('failure', uri, out, extra));
}

t.test('mirror: a node stopped during fio verify; resync copies only dirty regions', async (t) => {
  if (!preflight(t, ['fio'])) return;
  const { dir, farmDir, farmInfo, dpu } = await dpuOnFarm(t, 'failure-mirror', {
    nodes: NODES,
    nodeSize: NODE_SIZE,
    layoutArgs: ['--layout', 'mirror'],
    stateDir: true,
  });

  const out = join(dir.path, 'fio.json');
  const job = fio(dpu.uri, out, [
    '--rw=randwrite',
    `--size=${FIO_RANGE_BYTES / MiB}M`,
    '--verify=crc32c',
    '--do_verify=1',
    `--rate_iops=${FIO_WRITE_RATE}`,
  ]);
  t.teardown(() => job.stop('SIGKILL'));
  await waitForProgress(job, farmDir, farmInfo);

  const stop = await farm(farmDir, 'stop', 'node2');
  t.equal(stop.code, 0, `nvmf-farm stop node2 ${stop.stderr}`);
  t.ok(job.running, 'fio is still running when the node is gone');
  await dpu.waitForLog('the mirror to degrade the leg', (l) =>
    l.msg === 'mirror leg degraded' ? true : undefined,
  );

  const ended = await job.exited;
  t.same(ended, { code: 0, signal: null }, `fio finishes cleanly ${job.tail()}`);
  const [result] = await fioJobs(out);
  t.equal(result.error, 0, 'fio reports zero errors');
  t.equal(result.write.io_bytes, FIO_RANGE_BYTES, 'every block was written');
  t.equal(result.read.io_bytes, FIO_RANGE_BYTES, 'every block was read back and verified');

  const start = await farm(farmDir, 'start', 'node2');
  t.equal(start.code, 0, `nvmf-farm start node2 ${start.stderr}`);
  const started = await dpu.waitForLog('the resync to start', (l) =>
    l.msg.startsWith('mirror resync started') ? l : undefined,
  );
  t.ok(
    Number(started.dirtyRegions) > 0,
    `resync started with ${started.dirtyRegions} dirty regions`,
  );
  const done = await dpu.waitForLog('the resync to finish', (l) =>
    l.msg.startsWith('mirror resync done') ? l : undefined,
  );
  const copied = Number(done.copiedBlocks);
  const volumeBlocks = VOLUME_BYTES / BLOCK_BYTES;
  t.ok(copied > 0, `resync copied ${copied} blocks`);
  t.ok(copied < volumeBlocks, 'resync copied less than the volume');
  t.ok(
    copied <= (FIO_RANGE_BYTES + REGION_BYTES) / BLOCK_BYTES,
    'resync copied no more than the regions fio wrote',
  );
  t.equal(Number(done.volumeBlocks), volumeBlocks, 'the log names the volume size');

  // Quiesce (the DPU flushes and disconnects), then read every leg directly over NVMe/TCP.
  t.same(await dpu.stop(), { code: 0, signal: null }, 'the DPU stops cleanly');
  const hashes: string[] = [];
  for (const node of farmInfo.nodes) {
    const file = join(dir.path, `${node.name}.img`);
    const read = await runBin('nvmf-ctl', [
      'read',
      `tcp://${node.addr}:${node.port}/${node.subnqn}`,
      '-n',
      String(node.nsid),
      '--start-block',
      '0',
      '--block-count',
      String(volumeBlocks),
      '--data',
      file,
    ]);
    t.equal(read.code, 0, `nvmf-ctl read ${node.name} ${read.stderr}`);
    hashes.push(await sha256File(file));
  }
  t.equal(hashes[1], hashes[0], 'the resynced leg equals the first leg');
  t.equal(hashes[2], hashes[0], 'the third leg equals the first leg');
});

t.test(
  'concat: a stopped node gives fio clean I/O errors; I/O resumes when it returns',
  async (t) => {
    if (!preflight(t, ['fio', 'qemu-io'])) return;
    const legBytes = 16 * MiB;
    const { dir, farmDir, farmInfo, dpu } = await dpuOnFarm(t, 'failure-concat', {
      nodes: 2,
      nodeSize: '16MiB',
      layoutArgs: ['--layout', 'concat'],
    });

    const out = join(dir.path, 'fio.json');
    const job = fio(dpu.uri, out, [
      '--rw=randwrite',
      '--size=32M',
      '--time_based',
      '--runtime=600',
      `--rate_iops=${FIO_WRITE_RATE}`,
    ]);
    t.teardown(() => job.stop('SIGKILL'));
    await waitForProgress(job, farmDir, farmInfo);
    const stop = await farm(farmDir, 'stop', 'node2');
    t.equal(stop.code, 0, 'nvmf-farm stop node2');

    // No hang: fio must end on its own, long before its 600 s runtime, with EIO.
    const ended = await Promise.race([
      job.exited,
      unrefSleep(READY_TIMEOUT_MS).then(() => 'hung' as const),
    ]);
    t.not(ended, 'hung', 'fio ends instead of hanging');
    t.not((ended as { code: number | null }).code, 0, 'fio exits non-zero');
    t.match(job.stderrLines.join('\n'), /Input\/output error/, 'fio saw EIO');

    const start = await farm(farmDir, 'start', 'node2');
    t.equal(start.code, 0, 'nvmf-farm start node2');
    // Node 2 holds the second half of the concat; poll until its controller is back.
    const offset = legBytes + MiB;
    const write = () => run('qemu-io', ['-f', 'raw', '-c', `write -P 0x5a ${offset} 64k`, dpu.uri]);
    const ok = (r: RunResult) => r.code === 0 && !/failed|error/i.test(r.stdout + r.stderr);
    let io = await write();
    for (let i = 0; !ok(io) && i < RESUME_ATTEMPTS; i++) {
      await sleep(RESUME_POLL_MS);
      io = await write();
    }
    t.ok(ok(io), 'a write to the returned node succeeds', { output: io.stdout + io.stderr });
    const read = await run('qemu-io', ['-f', 'raw', '-c', `read -P 0x5a ${offset} 64k`, dpu.uri]);
    t.equal(read.code, 0, 'and reads back');
    t.notMatch(read.stdout, /Pattern verification failed/);

    const verify = join(dir.path, 'verify.json');
    const again = fio(dpu.uri, verify, [
      '--rw=randwrite',
      '--size=32M',
      '--verify=crc32c',
      '--do_verify=1',
    ]);
    const verifyEnd = await again.exited;
    t.same(
      verifyEnd,
      { code: 0, signal: null },
      `fio verify over both legs passes again ${again.tail()}`,
    );
  },
);

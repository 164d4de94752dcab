/**
 * rate_iops on a mixed job, against real fio on one `nbdkit memory` server: with only the writes
 * paced (`--rw=randrw --rate_iops=,500`), fio issues a read whenever the next write is not due yet
 * (io_u.c rate_ddir switches to the direction that is behind, and an unpaced direction always is),
 * so the writes run at 500 a second and the reads as fast as the server allows. nvmf-bench's
 * RateGate does the same. Before it switched directions, nvmf-bench waited for every early write
 * and the whole job ran at about twice the write rate: this test against e9499fb's nvmf-bench gave
 * 478 reads and 500 writes a second, where fio read 44 000–54 000 a second.
 *
 * Asserted, per round and tool: the writes keep the rate (within 25 %, the median ratio to fio's
 * too), and the reads are not held back by it (more than ten times as many reads as writes; one
 * run: fio 44 000–54 000, nvmf-bench 41 000–47 000 reads a second). The read rates are each
 * client's own speed at iodepth 8 and are printed, not compared.
 */
import t from 'tap';
import { join } from 'node:path';
import { median, nbdkitRig, readJson, run, runBench } from './support/bench-rig.js';

const WRITE_RATE = 500;
const TOLERANCE = 0.25;
/** Reads per write at the least, for the reads to count as not paced by the writes' rate. */
const READS_PER_WRITE = 10;
const ROUNDS = 3;

const ARGS = [
  '--name=mix',
  '--ioengine=nbd',
  '--rw=randrw',
  '--bs=4k',
  '--iodepth=8',
  `--rate_iops=,${WRITE_RATE}`,
  '--ramp_time=1',
  '--runtime=2',
  '--time_based',
  '--size=1g',
  '--output-format=json',
];

interface Mix {
  readIops: number;
  writeIops: number;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
const mixOf = (doc: any): Mix => ({
  readIops: doc.jobs[0].read.iops,
  writeIops: doc.jobs[0].write.iops,
});

t.test(
  'randrw with rate_iops=,500: nvmf-bench paces the writes and lets the reads run, as fio does',
  async (t) => {
    const rig = await nbdkitRig(t, 'rate-mix', '1G', ['fio', 'nbdkit']);
    if (!rig) return;
    const { dir, server } = rig;

    const fio: Mix[] = [];
    const ours: Mix[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const fioOut = join(dir, `fio-${round}.json`);
      const f = await run('fio', [...ARGS, `--uri=${server.uri}`, `--output=${fioOut}`]);
      t.equal(f.code, 0, `fio round ${round} exits 0 ${f.stderr}`);
      fio.push(mixOf(await readJson(fioOut)));
      const ourOut = join(dir, `ours-${round}.json`);
      const o = await runBench([...ARGS, `--uri=${server.uri}`, `--output=${ourOut}`]);
      t.equal(o.code, 0, `nvmf-bench round ${round} exits 0 ${o.stderr}`);
      ours.push(mixOf(await readJson(ourOut)));
    }
    for (const [who, runs] of [
      ['fio', fio],
      ['nvmf-bench', ours],
    ] as const) {
      for (const [i, r] of runs.entries()) {
        const tag = `${who} round ${i}: ${r.writeIops.toFixed(0)} writes/s, ${r.readIops.toFixed(0)} reads/s`;
        t.ok(
          Math.abs(r.writeIops / WRITE_RATE - 1) <= TOLERANCE,
          `${tag}: the writes keep rate_iops`,
        );
        t.ok(r.readIops > READS_PER_WRITE * r.writeIops, `${tag}: the reads are not paced`);
      }
    }
    const writes = median(ours.map((o, i) => o.writeIops / fio[i].writeIops));
    t.ok(
      Math.abs(writes - 1) <= TOLERANCE,
      `write IOPS: median ratio nvmf-bench/fio ${writes.toFixed(3)}, within 25%`,
    );
    const reads = median(ours.map((o, i) => o.readIops / fio[i].readIops));
    t.comment(
      `read IOPS (each client's own speed): median ratio nvmf-bench/fio ${reads.toFixed(3)}`,
    );
  },
);

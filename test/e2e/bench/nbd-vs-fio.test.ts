/**
 * The same workload by real fio (--ioengine=nbd, libnbd) and by nvmf-bench (--ioengine=nbd, the
 * project's NbdClient) against one `nbdkit memory 1G` server. Both must run it and report it in the
 * same shape: the same clat percentile list as fio's JSON, io_bytes = total_ios × bs, ordered
 * percentiles. The figures and their ratios (medians of alternating runs, with each side's spread
 * as the measured run-to-run noise) are printed, not asserted: tests never assert a timing
 * (STYLE.md), and on two shared cores the ratio measures CPU contention between fio, nbdkit and
 * nvmf-bench as much as the tools. The within-25% comparison issue 3 asks for is made by
 * `npm run bench` and recorded in bench/RESULTS.md.
 */
import t from 'tap';
import { join } from 'node:path';
import {
  median,
  preflight,
  readJson,
  run,
  runBench,
  startNbdkit,
  tempDir,
} from './support/bench-rig.js';

const ROUNDS = 3;
const RUNTIME_S = '5';
const BLOCK_SIZE = 4096;
/** 4 KiB random reads at queue depth 32: the reference workload of ../shared/REAL-CLIENTS.md. */
const WORKLOAD = [
  '--rw=randread',
  '--bs=4k',
  '--iodepth=32',
  `--runtime=${RUNTIME_S}`,
  '--time_based',
  '--size=1g',
];

interface Figures {
  iops: number;
  p50: number;
  p99: number;
  percentileKeys: string[];
  percentiles: number[];
  ioBytes: number;
  totalIos: number;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
function figures(doc: any): Figures {
  const read = doc.jobs[0].read;
  const pct = read.clat_ns.percentile as Record<string, number>;
  return {
    iops: read.iops,
    p50: pct['50.000000'],
    p99: pct['99.000000'],
    percentileKeys: Object.keys(pct),
    percentiles: Object.values(pct),
    ioBytes: read.io_bytes,
    totalIos: read.total_ios,
  };
}

const ordered = (xs: number[]): boolean => xs.every((x, i) => i === 0 || xs[i - 1] <= x);

const spread = (xs: number[]): number => (Math.max(...xs) - Math.min(...xs)) / median(xs);

t.test(
  'nvmf-bench and fio run the same workload on nbdkit memory and report it alike',
  async (t) => {
    if (!preflight(t, ['fio', 'nbdkit'])) return;
    const dir = await tempDir('nbd-vs-fio');
    t.teardown(() => dir.remove());
    const server = await startNbdkit('1G', dir.path);
    t.teardown(() => server.stop());

    const fio: Figures[] = [];
    const ours: Figures[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const fioOut = join(dir.path, `fio-${round}.json`);
      const f = await run('fio', [
        '--name=cmp',
        '--ioengine=nbd',
        `--uri=${server.uri}`,
        ...WORKLOAD,
        '--output-format=json',
        `--output=${fioOut}`,
      ]);
      t.equal(f.code, 0, `fio run ${round} exits 0 ${f.stderr}`);
      fio.push(figures(await readJson(fioOut)));
      const ourOut = join(dir.path, `ours-${round}.json`);
      const o = await runBench([
        '--name=cmp',
        '--ioengine=nbd',
        `--uri=${server.uri}`,
        ...WORKLOAD,
        '--output-format=json',
        `--output=${ourOut}`,
      ]);
      t.equal(o.code, 0, `nvmf-bench run ${round} exits 0 ${o.stderr}`);
      ours.push(figures(await readJson(ourOut)));
    }
    for (const [who, runs] of [
      ['fio', fio],
      ['nvmf-bench', ours],
    ] as const) {
      for (const r of runs) {
        t.ok(r.totalIos > 0, `${who} completed I/O`);
        t.equal(r.ioBytes, r.totalIos * BLOCK_SIZE, `${who}: io_bytes = total_ios × 4 KiB`);
        t.ok(ordered(r.percentiles), `${who}: clat percentiles are ordered`);
      }
    }
    t.same(
      ours[0].percentileKeys,
      fio[0].percentileKeys,
      "nvmf-bench reports fio's percentile list",
    );
    for (const key of ['iops', 'p50', 'p99'] as const) {
      const f = median(fio.map((x) => x[key]));
      const o = median(ours.map((x) => x[key]));
      t.comment(
        `${key}: fio ${f.toFixed(0)} (runs ${fio.map((x) => x[key].toFixed(0)).join(', ')}; spread ${(spread(fio.map((x) => x[key])) * 100).toFixed(1)}%)` +
          ` · nvmf-bench ${o.toFixed(0)} (runs ${ours.map((x) => x[key].toFixed(0)).join(', ')}; spread ${(spread(ours.map((x) => x[key])) * 100).toFixed(1)}%)` +
          ` · ratio ${(o / f).toFixed(3)}`,
      );
    }
  },
);

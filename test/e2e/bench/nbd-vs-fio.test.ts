/**
 * The same workload by real fio (--ioengine=nbd, libnbd) and by nvmf-bench (--ioengine=nbd, the
 * project's NbdClient) against one `nbdkit memory 1G` server: IOPS, p50 and p99 completion latency
 * must agree within 25%. Runs alternate fio / nvmf-bench so both see the same machine load, and
 * each figure is the median of its runs; the spread of fio's own runs is printed as the measured
 * run-to-run noise.
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
const TOLERANCE = 0.25;
const RUNTIME_S = '5';
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
}

/* eslint-disable @typescript-eslint/no-explicit-any */
function figures(doc: any): Figures {
  const read = doc.jobs[0].read;
  return {
    iops: read.iops,
    p50: read.clat_ns.percentile['50.000000'],
    p99: read.clat_ns.percentile['99.000000'],
  };
}

const spread = (xs: number[]): number => (Math.max(...xs) - Math.min(...xs)) / median(xs);

t.test('nvmf-bench and fio agree on nbdkit memory (IOPS, p50, p99 within 25%)', async (t) => {
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
  for (const key of ['iops', 'p50', 'p99'] as const) {
    const f = median(fio.map((x) => x[key]));
    const o = median(ours.map((x) => x[key]));
    t.comment(
      `${key}: fio ${f.toFixed(0)} (runs ${fio.map((x) => x[key].toFixed(0)).join(', ')}; spread ${(spread(fio.map((x) => x[key])) * 100).toFixed(1)}%)` +
        ` · nvmf-bench ${o.toFixed(0)} (runs ${ours.map((x) => x[key].toFixed(0)).join(', ')}; spread ${(spread(ours.map((x) => x[key])) * 100).toFixed(1)}%)` +
        ` · ratio ${(o / f).toFixed(3)}`,
    );
    t.ok(
      Math.abs(o / f - 1) <= TOLERANCE,
      `${key}: nvmf-bench ${o.toFixed(0)} is within 25% of fio ${f.toFixed(0)}`,
    );
  }
});

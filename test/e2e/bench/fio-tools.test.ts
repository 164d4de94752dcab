/**
 * fio's own helper scripts read nvmf-bench's output: fio_jsonplus_clat2csv turns our json+ into
 * CSV and validates it against the bins (--validate), and fiologparser.py (shipped gzipped in
 * /usr/share/doc/fio) reads our latency, IOPS and bandwidth logs. The workload runs through the
 * nbd engine against nbdkit, as a user would run it.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIO_DOC, nbdkitRig, readJson, run, runBench } from './support/bench-rig.js';

t.test("fio's scripts accept nvmf-bench json+ and logs", async (t) => {
  const rig = await nbdkitRig(t, 'fio-tools', '256M', [
    'nbdkit',
    'fio_jsonplus_clat2csv',
    'python3',
  ]);
  if (!rig) return;
  const { dir, server } = rig;

  const json = join(dir, 'out.json');
  const prefix = join(dir, 'run');
  const r = await runBench([
    // Options before the first --name are global: both jobs log.
    `--write_lat_log=${prefix}`,
    `--write_iops_log=${prefix}`,
    `--write_bw_log=${prefix}`,
    '--ioengine=nbd',
    `--uri=${server.uri}`,
    '--size=16m',
    '--name=a',
    '--rw=randrw',
    '--bs=4k',
    '--iodepth=8',
    '--name=b',
    '--rw=read',
    '--bs=64k',
    '--iodepth=2',
    '--offset=64m',
    '--output-format=json+',
    `--output=${json}`,
  ]);
  t.equal(r.code, 0, `nvmf-bench exits 0 ${r.stderr}`);
  const doc = await readJson(json);
  t.equal(doc.jobs.length, 2, 'two jobs in the json+');

  const csv = join(dir, 'lat.csv');
  const conv = await run('fio_jsonplus_clat2csv', [json, csv]);
  t.equal(conv.code, 0, `fio_jsonplus_clat2csv converts ${conv.stderr}`);
  for (const job of [0, 1]) {
    const file = join(dir, `lat_job${job}.csv`);
    t.ok(existsSync(file), `it wrote ${file}`);
    const rows = readFileSync(file, 'utf8').trim().split('\n').slice(1);
    const readCounts = rows.map((row) => row.split(',')[4].trim()).filter((c) => c !== '');
    const total = readCounts.reduce((s, c) => s + Number(c), 0);
    t.equal(
      total,
      doc.jobs[job].read.clat_ns.N,
      `job ${job}: the CSV counts every read completion`,
    );
  }
  const validate = await run('fio_jsonplus_clat2csv', [json, csv, '--validate']);
  t.equal(validate.code, 0, `--validate agrees with the bins ${validate.stderr}`);
  t.match(validate.stdout, /lat_job0\.csv validated/);

  const parser = join(dir, 'fiologparser.py');
  writeFileSync(parser, execFileSync('zcat', [join(FIO_DOC, 'fiologparser.py.gz')]));
  for (const kind of ['clat', 'slat', 'lat', 'iops', 'bw']) {
    const log = `${prefix}_${kind}.1.log`;
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    t.equal(
      lines.length,
      doc.jobs[0].read.total_ios + doc.jobs[0].write.total_ios,
      `${kind} log: one line per I/O`,
    );
    for (const mode of [[], ['-s'], ['-a']]) {
      const p = await run('python3', [parser, ...mode, log, `${prefix}_${kind}.2.log`]);
      t.equal(p.code, 0, `fiologparser.py ${mode.join(' ')} reads the ${kind} logs ${p.stderr}`);
      t.match(p.stdout, /^\d/m, 'and prints figures');
    }
  }
});

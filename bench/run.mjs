#!/usr/bin/env node
// `npm run bench`: the first benchmark of nvmf-dpu (issue 2) and nvmf-bench's comparison with fio
// (issue 3), written as bench/RESULTS.md.
//
//  1. nvmf-target (a separate process, memory namespace) driven by nvmf-bench --ioengine=nvmf:
//     4 KiB random read and write at QD1 and QD32, 128 KiB sequential read.
//  2. References measured in the same run: a bare Node TCP pump moving the same bytes
//     (bench/tcp-pump.mjs), and real fio --ioengine=nbd on `nbdkit memory` (4 KiB randread QD32,
//     QD1, and QD32 at rate_iops=10000).
//  3. nvmf-bench --ioengine=nbd against the same nbdkit, for the nvmf-bench / fio ratio.
//  4. CPU profiles (node --cpu-prof) of nvmf-target serving 4 KiB randread QD32 and 128 KiB
//     sequential reads.
//
//  5. Then bench/dpu-shim.mjs (issue 4: fio through the DPU's NBD shim), with the same options; it
//     writes its own section of the file, which this script keeps when it rewrites its part.
//
// Options: --runtime=SECONDS (default 10)  --out=FILE (default bench/RESULTS.md)  --stdout
//          --no-profile  --no-fio  --no-dpu
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { spawnSync } from 'node:child_process';
import { summarizeProfile } from './profile-summary.mjs';
import { resultsMarkdown } from './results-md.mjs';
import { benchOptions } from './bench-options.mjs';
import {
  ROOT,
  bin as BIN,
  commands,
  nodeEnvOf,
  nodeFlagsOf,
  cpuSeconds,
  has,
  log,
  run,
  startServer,
  startWithPidFile,
  stop,
  stopAll,
} from './suite-process.mjs';

const NQN = 'nqn.2024-01.io.nvmf-dpu:bench';
const NAMESPACE = 'mem:256MiB:4096';
const NBDKIT_SIZE = '1G';
const PROFILE_TOP = 15;
const US_PER_S = 1e6;
const PERCENT = 100;
const FIRST_PORT = 20_000;
const DPU_SHIM_BEGIN = '<!-- dpu-shim:begin -->';
const DPU_SHIM_END = '<!-- dpu-shim:end -->';
const PORT_SPAN = 40_000;

const { args, runtime: RUNTIME, out: OUT } = benchOptions();
const tmp = mkdtempSync(join(os.tmpdir(), 'nvmf-bench-suite-'));
const timed = ['--time_based', `--runtime=${RUNTIME}`];
/** The rate-limited comparison with fio (issue 3): well below what either tool reaches. */
const RATE_IOPS = 10000;
const RATE_LABEL = `4 KiB randread QD32 rate_iops=${RATE_IOPS}`;

const WORKLOADS = [
  { label: '4 KiB randread QD1', args: ['--rw=randread', '--bs=4k', '--iodepth=1', ...timed] },
  { label: '4 KiB randread QD32', args: ['--rw=randread', '--bs=4k', '--iodepth=32', ...timed] },
  { label: '4 KiB randwrite QD1', args: ['--rw=randwrite', '--bs=4k', '--iodepth=1', ...timed] },
  { label: '4 KiB randwrite QD32', args: ['--rw=randwrite', '--bs=4k', '--iodepth=32', ...timed] },
  { label: '128 KiB seq read QD16', args: ['--rw=read', '--bs=128k', '--iodepth=16', ...timed] },
];

/** The figures of one fio-JSON job (nvmf-bench's or fio's), for its busier direction. */
function jobFigures(file) {
  const job = JSON.parse(readFileSync(file, 'utf8')).jobs[0];
  const d = job.read.total_ios >= job.write.total_ios ? job.read : job.write;
  const pct = d.clat_ns.percentile ?? {};
  const ios = job.read.total_ios + job.write.total_ios;
  const cpuShare = (job.usr_cpu + job.sys_cpu) / PERCENT;
  return {
    ios,
    iops: d.iops,
    mbps: d.bw_bytes / 1e6,
    meanUs: d.clat_ns.mean / 1000,
    p50Us: (pct['50.000000'] ?? 0) / 1000,
    p99Us: (pct['99.000000'] ?? 0) / 1000,
    cpuUsPerIo: ios ? (cpuShare * job.job_runtime * 1000) / ios : NaN,
  };
}

const slug = (label) => label.replace(/\W+/g, '-');

/** One nvmf-bench run; `serverPid` is the process serving it (its CPU per I/O is measured). */
function benchRun(label, engineArgs, workload, serverPid) {
  const out = join(tmp, `${slug(label)}.json`);
  const cpu0 = serverPid ? cpuSeconds(serverPid) : NaN;
  run(process.execPath, [
    BIN('nvmf-bench'),
    `--name=${slug(label)}`,
    ...engineArgs,
    ...workload,
    '--output-format=json',
    `--output=${out}`,
  ]);
  const f = jobFigures(out);
  f.serverUsPerIo = serverPid ? ((cpuSeconds(serverPid) - cpu0) * US_PER_S) / f.ios : NaN;
  log(
    `${label}: ${f.iops.toFixed(0)} IOPS, ${f.mbps.toFixed(1)} MB/s, p99 ${f.p99Us.toFixed(0)} µs`,
  );
  return f;
}

function fioRun(label, argv, serverPid) {
  const out = join(tmp, `fio-${slug(label)}.json`);
  const cpu0 = cpuSeconds(serverPid);
  run('fio', [`--name=${slug(label)}`, ...argv, '--output-format=json', `--output=${out}`]);
  const f = jobFigures(out);
  f.serverUsPerIo = ((cpuSeconds(serverPid) - cpu0) * US_PER_S) / f.ios;
  log(`fio ${label}: ${f.iops.toFixed(0)} IOPS, p99 ${f.p99Us.toFixed(0)} µs`);
  return f;
}

function pumpRun(serverPid, port, bytes, depth) {
  const cpu0 = cpuSeconds(serverPid);
  const line = run(process.execPath, [
    join(ROOT, 'bench', 'tcp-pump.mjs'),
    'client',
    String(port),
    String(bytes),
    String(depth),
    String(RUNTIME),
  ]);
  const r = JSON.parse(line.trim().split('\n').pop());
  r.serverUsPerOp = ((cpuSeconds(serverPid) - cpu0) * US_PER_S) / r.ops;
  log(`pump ${bytes} B QD${depth}: ${r.iops.toFixed(0)} ops/s, ${r.mbps.toFixed(1)} MB/s`);
  return r;
}

const nvmfFilename = (host, port) =>
  `--filename=trtype=tcp traddr=${host} trsvcid=${port} subnqn=${NQN.replace(/:/g, '\\:')} ns=1`;
const targetArgs = (extra = []) => [
  ...extra,
  ...nodeFlagsOf('nvmf-target'),
  BIN('nvmf-target'),
  '--listen',
  '127.0.0.1:0',
  '--nqn',
  NQN,
  '--ns',
  NAMESPACE,
  '--allow-any-host',
  '--log-level',
  'warn',
];

function machine() {
  const cpus = os.cpus();
  const version = (cmd, argv) =>
    has(cmd)
      ? spawnSync(cmd, argv, { encoding: 'utf8' }).stdout.split('\n')[0].trim()
      : 'not installed';
  return {
    cpu: `${cpus.length} × ${cpus[0]?.model ?? 'unknown'}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    fio: version('fio', ['--version']),
    nbdkit: version('nbdkit', ['--version']),
  };
}

async function nbdComparison() {
  const port = FIRST_PORT + Math.floor(Math.random() * PORT_SPAN);
  const pidFile = join(tmp, 'nbdkit.pid');
  const nbdArgs = [
    '-f',
    '--exit-with-parent',
    '-i',
    '127.0.0.1',
    '-p',
    String(port),
    '-P',
    pidFile,
    'memory',
    NBDKIT_SIZE,
  ];
  const nbdkit = await startWithPidFile(
    'nbdkit',
    nbdArgs,
    pidFile,
    `nbdkit -f -i 127.0.0.1 -p PORT -P TMP/nbdkit.pid memory ${NBDKIT_SIZE}`,
  );
  const uri = `--uri=nbd://127.0.0.1:${port}`;
  // Both tools get fio's --ramp_time: start-up (nvmf-bench's JIT warm-up) stays out of both results.
  const ramp = '--ramp_time=1';
  const qd32 = ['--rw=randread', '--bs=4k', '--iodepth=32', '--size=1g', ramp, ...timed];
  const qd1 = ['--rw=randread', '--bs=4k', '--iodepth=1', '--size=1g', ramp, ...timed];
  // rate_iops: both tools pace I/O one at a time (nvmf-bench's RateGate follows fio's rate_ddir).
  const rate = [...qd32, `--rate_iops=${RATE_IOPS}`];
  const out = {
    fioNbd: fioRun('4 KiB randread QD32', ['--ioengine=nbd', uri, ...qd32], nbdkit.pid),
    oursNbd: benchRun('nbd 4 KiB randread QD32', ['--ioengine=nbd', uri], qd32, nbdkit.pid),
    fioNbdQd1: fioRun('4 KiB randread QD1', ['--ioengine=nbd', uri, ...qd1], nbdkit.pid),
    oursNbdQd1: benchRun('nbd 4 KiB randread QD1', ['--ioengine=nbd', uri], qd1, nbdkit.pid),
    fioNbdRate: fioRun(RATE_LABEL, ['--ioengine=nbd', uri, ...rate], nbdkit.pid),
    oursNbdRate: benchRun(`nbd ${RATE_LABEL}`, ['--ioengine=nbd', uri], rate, nbdkit.pid),
    rateLabel: RATE_LABEL,
  };
  await stop(nbdkit);
  return out;
}

/**
 * A fresh target under `node --cpu-prof`, serving one workload and nothing else (no prefill, so
 * reads return the memory bdev's zeroes), its profile summarised.
 */
async function targetProfile(workload) {
  const profDir = join(tmp, `prof-${slug(workload.label)}`);
  const t = await startServer(
    process.execPath,
    targetArgs(['--cpu-prof', `--cpu-prof-dir=${profDir}`]),
    nodeEnvOf('nvmf-target'),
  );
  const nvmf = ['--ioengine=nvmf', nvmfFilename(t.host, t.port)];
  benchRun(`profiled ${workload.label}`, nvmf, workload.args, t.child.pid);
  await stop(t.child);
  const file = existsSync(profDir)
    ? readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))
    : undefined;
  const rows = file
    ? summarizeProfile(JSON.parse(readFileSync(join(profDir, file), 'utf8')), PROFILE_TOP)
    : [];
  return { label: workload.label, rows };
}

async function main() {
  if (!existsSync(BIN('nvmf-bench')) || !existsSync(join(ROOT, 'dist', 'cli', 'nvmf-target.js'))) {
    log('building dist/ (npm run build)');
    run('npx', ['tsc', '-p', 'tsconfig.build.json'], { record: false });
  }
  const info = machine();
  const load0 = os.loadavg();
  const started = new Date();
  const t0 = performance.now();

  const target = await startServer(process.execPath, targetArgs(), nodeEnvOf('nvmf-target'));
  const nvmf = ['--ioengine=nvmf', nvmfFilename(target.host, target.port)];
  log(
    `nvmf-target on ${target.host}:${target.port}; prefilling the namespace so reads return written data`,
  );
  benchRun('prefill', nvmf, ['--rw=write', '--bs=1m', '--iodepth=4'], target.child.pid);
  const nvmfResults = WORKLOADS.map((w) => ({
    ...w,
    f: benchRun(w.label, nvmf, w.args, target.child.pid),
  }));
  await stop(target.child);

  const pump = await startServer(process.execPath, [join(ROOT, 'bench', 'tcp-pump.mjs'), 'server']);
  const pump4k = pumpRun(pump.child.pid, pump.port, 4096, 32);
  const pump128k = pumpRun(pump.child.pid, pump.port, 131072, 16);
  await stop(pump.child);

  const nbd = !args['no-fio'] && has('fio') && has('nbdkit') ? await nbdComparison() : {};
  const profiles = [];
  if (!args['no-profile']) {
    for (const w of [WORKLOADS[1], WORKLOADS[4]]) profiles.push(await targetProfile(w));
  }

  const md = resultsMarkdown({
    info,
    load0,
    load1: os.loadavg(),
    started,
    runtime: RUNTIME,
    nvmfResults,
    pump4k,
    pump128k,
    ...nbd,
    profiles,
    commands,
  });
  if (args.stdout) process.stdout.write(md);
  else {
    writeFileSync(OUT, md + keptSections(OUT));
    log(`wrote ${OUT} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  if (!args['no-dpu'] && has('fio') && has('nbdkit')) {
    const dpu = spawnSync(
      process.execPath,
      [join(ROOT, 'bench', 'dpu-shim.mjs'), ...process.argv.slice(2)],
      {
        stdio: 'inherit',
      },
    );
    if (dpu.status !== 0) throw new Error('bench/dpu-shim.mjs failed');
  }
}

/**
 * The sections other bench scripts splice into the same file (bench/dpu-shim.mjs writes its own
 * between its markers): kept as they are when this script rewrites its part.
 */
function keptSections(file) {
  if (!existsSync(file)) return '';
  const old = readFileSync(file, 'utf8');
  const at = old.indexOf(DPU_SHIM_BEGIN);
  const end = old.indexOf(DPU_SHIM_END);
  return at >= 0 && end > at ? `\n${old.slice(at, end + DPU_SHIM_END.length)}\n` : '';
}

main()
  .catch((err) => {
    log(err.stack ?? String(err));
    process.exitCode = 1;
  })
  .finally(() => {
    stopAll();
    rmSync(tmp, { recursive: true, force: true });
  });

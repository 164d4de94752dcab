#!/usr/bin/env node
// `npm run bench`: the first benchmark of nvmf-dpu (issue 2) and nvmf-bench's comparison with fio
// (issue 3), written as bench/RESULTS.md.
//
//  1. nvmf-target (a separate process, memory namespace) driven by nvmf-bench --ioengine=nvmf:
//     4 KiB random read and write at QD1 and QD32, 128 KiB sequential read.
//  2. References measured in the same run: a bare Node TCP pump moving the same bytes
//     (bench/tcp-pump.mjs), and real fio --ioengine=nbd on `nbdkit memory` (4 KiB randread QD32).
//  3. nvmf-bench --ioengine=nbd against the same nbdkit, for the nvmf-bench/fio ratio.
//  4. A CPU profile (node --cpu-prof) of nvmf-target during 4 KiB randread QD32.
//
// Options: --runtime=SECONDS (default 10) --out=FILE (default bench/RESULTS.md) --stdout
//          --no-profile --no-fio
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarizeProfile } from './profile-summary.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = (name) => join(ROOT, 'bin', `${name}.js`);
const NQN = 'nqn.2024-01.io.nvmf-dpu:bench';
const NAMESPACE = 'mem:1GiB:4096';
const NBDKIT_SIZE = '1G';
const READY_TIMEOUT_MS = 60_000;
const CLK_TCK = 100; // /proc/PID/stat times are in clock ticks (sysconf(_SC_CLK_TCK) is 100 on Linux)

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? true];
  }),
);
const RUNTIME = Number(args.runtime ?? 10);
const OUT = args.out ?? join(ROOT, 'bench', 'RESULTS.md');
const tmp = mkdtempSync(join(os.tmpdir(), 'nvmf-bench-suite-'));
const commands = [];
const children = new Set();

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const shellQuote = (a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
const show = (cmd, argv) => [cmd, ...argv].map(shellQuote).join(' ');

function log(msg) {
  process.stderr.write(`[bench] ${msg}\n`);
}

function run(cmd, argv, { record = true } = {}) {
  if (record) commands.push(show(cmd === process.execPath ? 'node' : cmd, argv.map((a) => a.replace(ROOT, ''))));
  const r = spawnSync(cmd, argv, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${show(cmd, argv)} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Starts a long-running process and waits for its "listening on HOST:PORT" line. */
function startServer(cmd, argv, { record = true } = {}) {
  if (record) commands.push(`${show(cmd === process.execPath ? 'node' : cmd, argv.map((a) => a.replace(ROOT, '')))} &`);
  const child = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${cmd} did not become ready: ${out}`)), READY_TIMEOUT_MS);
    const onData = (d) => {
      out += d;
      const m = /listening on (\S+):(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, host: m[1], port: Number(m[2]) });
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', (d) => (out += d));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited (${code}) before it was ready: ${out}`));
    });
  });
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  children.delete(child);
}

/** utime+stime of a process in seconds (/proc/PID/stat fields 14 and 15). */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** One fio-JSON job from nvmf-bench or fio; returns the figures of the direction that did I/O. */
function jobFigures(file) {
  const job = JSON.parse(readFileSync(file, 'utf8')).jobs[0];
  const d = job.read.total_ios >= job.write.total_ios ? job.read : job.write;
  const pct = d.clat_ns.percentile ?? {};
  return {
    iops: d.iops,
    mbps: d.bw_bytes / 1e6,
    meanUs: d.clat_ns.mean / 1000,
    p50Us: (pct['50.000000'] ?? 0) / 1000,
    p99Us: (pct['99.000000'] ?? 0) / 1000,
    cpu: (job.usr_cpu + job.sys_cpu) / 100,
  };
}

function benchRun(label, engineArgs, workload, serverPid) {
  const out = join(tmp, `${label.replace(/\W+/g, '-')}.json`);
  const cpu0 = serverPid ? cpuSeconds(serverPid) : NaN;
  const t0 = performance.now();
  run(process.execPath, [BIN('nvmf-bench'), `--name=${label.replace(/\s+/g, '-')}`, ...engineArgs, ...workload, '--output-format=json', `--output=${out}`]);
  const wall = (performance.now() - t0) / 1000;
  const f = jobFigures(out);
  f.serverCpu = serverPid ? (cpuSeconds(serverPid) - cpu0) / wall : NaN;
  log(`${label}: ${f.iops.toFixed(0)} IOPS, ${f.mbps.toFixed(1)} MB/s, p99 ${f.p99Us.toFixed(0)} µs`);
  return f;
}

function fioRun(label, argv) {
  const out = join(tmp, `fio-${label.replace(/\W+/g, '-')}.json`);
  run('fio', [`--name=${label.replace(/\s+/g, '-')}`, ...argv, '--output-format=json', `--output=${out}`]);
  const f = jobFigures(out);
  log(`fio ${label}: ${f.iops.toFixed(0)} IOPS, p99 ${f.p99Us.toFixed(0)} µs`);
  return f;
}

function pumpRun(port, bytes, depth) {
  const line = run(process.execPath, [join(ROOT, 'bench', 'tcp-pump.mjs'), 'client', String(port), String(bytes), String(depth), String(RUNTIME)]);
  const r = JSON.parse(line.trim().split('\n').pop());
  log(`pump ${bytes} B QD${depth}: ${r.iops.toFixed(0)} ops/s, ${r.mbps.toFixed(1)} MB/s`);
  return r;
}

const timed = ['--time_based', `--runtime=${RUNTIME}`];
const WORKLOADS = [
  { label: '4 KiB randread QD1', args: ['--rw=randread', '--bs=4k', '--iodepth=1', ...timed] },
  { label: '4 KiB randread QD32', args: ['--rw=randread', '--bs=4k', '--iodepth=32', ...timed] },
  { label: '4 KiB randwrite QD1', args: ['--rw=randwrite', '--bs=4k', '--iodepth=1', ...timed] },
  { label: '4 KiB randwrite QD32', args: ['--rw=randwrite', '--bs=4k', '--iodepth=32', ...timed] },
  { label: '128 KiB seq read QD16', args: ['--rw=read', '--bs=128k', '--iodepth=16', ...timed] },
];

function machine() {
  const cpus = os.cpus();
  const version = (cmd, argv) => (has(cmd) ? spawnSync(cmd, argv, { encoding: 'utf8' }).stdout.split('\n')[0].trim() : 'not installed');
  return {
    cpu: `${cpus.length} × ${cpus[0]?.model ?? 'unknown'}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    fio: version('fio', ['--version']),
    nbdkit: version('nbdkit', ['--version']),
  };
}

const fmt = (v, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '—');
const pct = (v) => (Number.isFinite(v) ? `${(v * 100).toFixed(0)}%` : '—');

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'nvmf-bench.js')) || !existsSync(join(ROOT, 'dist', 'cli', 'nvmf-target.js'))) {
    log('building dist/ (npm run build)');
    run('npx', ['tsc', '-p', 'tsconfig.build.json'], { record: false });
  }
  const withFio = !args['no-fio'] && has('fio') && has('nbdkit');
  const info = machine();
  const load0 = os.loadavg();
  const started = new Date();

  // 1. nvmf-target with a memory namespace, prefilled so reads return written data.
  const target = await startServer(process.execPath, [BIN('nvmf-target'), '--listen', '127.0.0.1:0', '--nqn', NQN, '--ns', NAMESPACE, '--allow-any-host', '--log-level', 'warn']);
  const nvmf = [`--ioengine=nvmf`, `--filename=trtype=tcp traddr=${target.host} trsvcid=${target.port} subnqn=${NQN.replace(/:/g, '\\:')} ns=1`];
  log(`nvmf-target on ${target.host}:${target.port}; prefilling the namespace`);
  benchRun('prefill', nvmf, ['--rw=write', '--bs=1m', '--iodepth=4'], undefined);
  const nvmfResults = WORKLOADS.map((w) => ({ ...w, f: benchRun(w.label, nvmf, w.args, target.child.pid) }));
  await stop(target.child);

  // 2. References: the bare TCP pump and fio on nbdkit.
  const pump = await startServer(process.execPath, [join(ROOT, 'bench', 'tcp-pump.mjs'), 'server']);
  const pump4k = pumpRun(pump.port, 4096, 32);
  const pump128k = pumpRun(pump.port, 131072, 16);
  await stop(pump.child);

  let fioNbd, oursNbd, fioNbdQd1, oursNbdQd1;
  if (withFio) {
    const nbdPort = 10_000 + Math.floor(Math.random() * 50_000);
    const pidFile = join(tmp, 'nbdkit.pid');
    commands.push(`nbdkit -f -i 127.0.0.1 -p PORT -P PIDFILE memory ${NBDKIT_SIZE} &`);
    const nbdkit = spawn('nbdkit', ['-f', '--exit-with-parent', '-i', '127.0.0.1', '-p', String(nbdPort), '-P', pidFile, 'memory', NBDKIT_SIZE], { stdio: 'ignore' });
    children.add(nbdkit);
    for (let i = 0; !existsSync(pidFile); i++) {
      if (i > READY_TIMEOUT_MS / 50) throw new Error('nbdkit did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    const uri = `nbd://127.0.0.1:${nbdPort}`;
    const qd32 = ['--rw=randread', '--bs=4k', '--iodepth=32', '--size=1g', ...timed];
    const qd1 = ['--rw=randread', '--bs=4k', '--iodepth=1', '--size=1g', ...timed];
    fioNbd = fioRun('4 KiB randread QD32', ['--ioengine=nbd', `--uri=${uri}`, ...qd32]);
    oursNbd = benchRun('nbd 4 KiB randread QD32', ['--ioengine=nbd', `--uri=${uri}`], qd32, nbdkit.pid);
    fioNbdQd1 = fioRun('4 KiB randread QD1', ['--ioengine=nbd', `--uri=${uri}`, ...qd1]);
    oursNbdQd1 = benchRun('nbd 4 KiB randread QD1', ['--ioengine=nbd', `--uri=${uri}`], qd1, nbdkit.pid);
    await stop(nbdkit);
  }

  // 4. Where the target's time goes at 4 KiB randread QD32.
  let profile = [];
  if (!args['no-profile']) {
    const profDir = join(tmp, 'prof');
    const profiled = await startServer(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, BIN('nvmf-target'), '--listen', '127.0.0.1:0', '--nqn', NQN, '--ns', NAMESPACE, '--allow-any-host', '--log-level', 'warn']);
    const pnvmf = [`--ioengine=nvmf`, `--filename=trtype=tcp traddr=${profiled.host} trsvcid=${profiled.port} subnqn=${NQN.replace(/:/g, '\\:')} ns=1`];
    benchRun('profiled 4 KiB randread QD32', pnvmf, WORKLOADS[1].args, profiled.child.pid);
    await stop(profiled.child);
    const file = existsSync(profDir) ? readdirSync(profDir).find((f) => f.endsWith('.cpuprofile')) : undefined;
    if (file) profile = summarizeProfile(JSON.parse(readFileSync(join(profDir, file), 'utf8')), 15);
  }

  const load1 = os.loadavg();
  const md = report({ info, load0, load1, started, nvmfResults, pump4k, pump128k, fioNbd, oursNbd, fioNbdQd1, oursNbdQd1, profile });
  if (args.stdout) process.stdout.write(md);
  else {
    writeFileSync(OUT, md);
    log(`wrote ${OUT}`);
  }
}

function report(r) {
  const byLabel = new Map(r.nvmfResults.map((x) => [x.label, x.f]));
  const rr32 = byLabel.get('4 KiB randread QD32');
  const seq = byLabel.get('128 KiB seq read QD16');
  const lines = [
    '# Benchmarks',
    '',
    `Produced by \`npm run bench\` (bench/run.mjs) on ${r.started.toISOString()}, ${RUNTIME} s per run.`,
    'Every figure below comes from that one run; references were measured in the same run on the same machine.',
    '',
    '## Machine',
    '',
    '| | |',
    '| --- | --- |',
    ...Object.entries(r.info).map(([k, v]) => `| ${k} | ${v} |`),
    `| load average (1 min) | ${r.load0[0].toFixed(2)} at start, ${r.load1[0].toFixed(2)} at end |`,
    '',
    'A load average above the CPU count means other processes competed for the CPUs during the run,',
    'and every figure is correspondingly noisy; compare ratios within one run, not absolute numbers across runs.',
    '',
    '## NVMe/TCP: nvmf-bench --ioengine=nvmf → nvmf-target (memory namespace, one connection)',
    '',
    '| workload | IOPS | MB/s | mean clat (µs) | p99 clat (µs) | nvmf-bench CPU | nvmf-target CPU |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.nvmfResults.map(
      ({ label, f }) => `| ${label} | ${fmt(f.iops)} | ${fmt(f.mbps, 1)} | ${fmt(f.meanUs, 1)} | ${fmt(f.p99Us, 1)} | ${pct(f.cpu)} | ${pct(f.serverCpu)} |`,
    ),
    '',
    'CPU is the share of one CPU over the run (user + system).',
    '',
    '### References, same run',
    '',
    '| reference | ops/s | MB/s | p99 clat (µs) |',
    '| --- | ---: | ---: | ---: |',
    `| bare Node TCP pump (bench/tcp-pump.mjs), 4 KiB replies, 32 in flight | ${fmt(r.pump4k.iops)} | ${fmt(r.pump4k.mbps, 1)} | — |`,
    `| bare Node TCP pump, 128 KiB replies, 16 in flight | ${fmt(r.pump128k.iops)} | ${fmt(r.pump128k.mbps, 1)} | — |`,
    r.fioNbd
      ? `| ${r.info.fio} --ioengine=nbd on nbdkit memory, 4 KiB randread QD32 | ${fmt(r.fioNbd.iops)} | ${fmt(r.fioNbd.mbps, 1)} | ${fmt(r.fioNbd.p99Us, 1)} |`
      : '| fio on nbdkit | not measured (fio or nbdkit missing, or --no-fio) | | |',
    '',
    '### Against the aims of issue 2',
    '',
    '| aim | measured | ratio |',
    '| --- | --- | ---: |',
    r.fioNbd
      ? `| 4 KiB randread QD32 through nvmf-target ≥ fio on nbdkit memory | ${fmt(rr32.iops)} vs ${fmt(r.fioNbd.iops)} IOPS | ${(rr32.iops / r.fioNbd.iops).toFixed(2)} |`
      : '| 4 KiB randread QD32 ≥ fio on nbdkit | fio not measured | — |',
    `| 128 KiB sequential read ≥ 0.8 × bare TCP pump | ${fmt(seq.mbps, 1)} vs ${fmt(r.pump128k.mbps, 1)} MB/s | ${(seq.mbps / r.pump128k.mbps).toFixed(2)} |`,
    `| (for scale) 4 KiB randread QD32 vs bare TCP pump at 4 KiB | ${fmt(rr32.iops)} vs ${fmt(r.pump4k.iops)} ops/s | ${(rr32.iops / r.pump4k.iops).toFixed(2)} |`,
    '',
  ];
  if (r.fioNbd) {
    const row = (label, f, o) =>
      `| ${label} | ${fmt(f.iops)} | ${fmt(o.iops)} | ${(o.iops / f.iops).toFixed(2)} | ${fmt(f.p50Us, 1)} | ${fmt(o.p50Us, 1)} | ${(o.p50Us / f.p50Us).toFixed(2)} | ${fmt(f.p99Us, 1)} | ${fmt(o.p99Us, 1)} | ${(o.p99Us / f.p99Us).toFixed(2)} |`;
    lines.push(
      '## nvmf-bench vs fio on nbdkit memory (issue 3)',
      '',
      'The same workload by real fio (--ioengine=nbd, libnbd) and by nvmf-bench (--ioengine=nbd, the',
      "project's NbdClient) against one `nbdkit memory 1G`; ratio = nvmf-bench / fio.",
      '',
      '| workload | fio IOPS | nvmf-bench IOPS | ratio | fio p50 (µs) | nvmf-bench p50 | ratio | fio p99 (µs) | nvmf-bench p99 | ratio |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      row('4 KiB randread QD32', r.fioNbd, r.oursNbd),
      row('4 KiB randread QD1', r.fioNbdQd1, r.oursNbdQd1),
      '',
    );
  }
  if (r.profile.length) {
    lines.push(
      '## Where nvmf-target spends its time (4 KiB randread QD32)',
      '',
      '`node --cpu-prof` of the target process during one run; self time, top entries:',
      '',
      '| self % | function | location |',
      '| ---: | --- | --- |',
      ...r.profile.map((p) => `| ${p.percent.toFixed(1)} | ${p.name || '(anonymous)'} | ${p.location} |`),
      '',
    );
  }
  lines.push('## Commands', '', 'Ports are ephemeral; PORT stands for the one the server printed.', '', '```', ...commands.map((c) => c.replace(/trsvcid=\d+/, 'trsvcid=PORT').replace(/nbd:\/\/127\.0\.0\.1:\d+/, 'nbd://127.0.0.1:PORT').replace(/client \d+/, 'client PORT')), '```', '');
  return lines.join('\n');
}

const cleanup = () => {
  for (const c of children) c.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
};
main()
  .catch((err) => {
    log(err.stack ?? String(err));
    process.exitCode = 1;
  })
  .finally(cleanup);

#!/usr/bin/env node
// The DPU's benchmark (issue 4): real fio --ioengine=nbd through nvmf-dpu's NBD shim, on a single
// remote namespace and on a 3-way mirror over a farm of nvmf-target nodes, next to fio on
// `nbdkit memory` in the same run: 4 KiB random read and write at QD1 and QD32. The aim: the
// mirror at QD32 reaches half of nbdkit's IOPS for reads and a third for writes.
// Writes its section of bench/RESULTS.md between the dpu-shim markers, leaving the rest as it is.
//
//   node bench/dpu-shim.mjs [--runtime=SECONDS (10)] [--out=FILE] [--stdout]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { benchOptions } from './bench-options.mjs';
import { summarizeProfile } from './profile-summary.mjs';
import { bin as BIN, cpuSeconds } from './suite-process.mjs';

const NODES = 3;
const NODE_SIZE = '1GiB';
const NBDKIT_SIZE = '1G';
/** The part of the volume the jobs use, written once before the reads. */
const WORKING_SET = '256M';
const READY_TIMEOUT_MS = 60_000;
const US_PER_S = 1e6;
const PERCENT = 100;
const AIM_READ = 0.5;
const AIM_WRITE = 1 / 3;
const PROFILE_TOP = 12;
/** The profiled run's queue depth: the QD32 workloads' hot path. */
const PROFILE_DEPTH = 32;
const BEGIN = '<!-- dpu-shim:begin -->';
const END = '<!-- dpu-shim:end -->';

const { args, runtime: RUNTIME, out: OUT } = benchOptions();
const tmp = mkdtempSync(join(os.tmpdir(), 'nvmf-dpu-shim-bench-'));
const children = new Set();
const log = (line) => process.stderr.write(`${line}\n`);

const WORKLOADS = [
  { label: '4 KiB randread QD1', rw: 'randread', depth: 1 },
  { label: '4 KiB randread QD32', rw: 'randread', depth: 32 },
  { label: '4 KiB randwrite QD1', rw: 'randwrite', depth: 1 },
  { label: '4 KiB randwrite QD32', rw: 'randwrite', depth: 32 },
];

function run(cmd, argv) {
  const res = spawnSync(cmd, argv, { encoding: 'utf8', cwd: tmp, maxBuffer: 64 << 20 });
  if (res.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

const cpuOf = (pids) => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);

function freePort() {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts a long-running child and resolves once a stdout line matches `ready`. */
function startChild(cmd, argv, ready) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'], cwd: tmp });
    children.add(child);
    const timer = setTimeout(() => reject(new Error(`${cmd} did not get ready`)), READY_TIMEOUT_MS);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = ready.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m });
      }
    });
    child.once('exit', (code) => reject(new Error(`${cmd} exited with ${code} before ready`)));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const POLL_MS = 50;

/** True once something accepts connections on the port. */
function answers(port) {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** nbdkit -f prints nothing when it is ready: wait until its port answers. */
async function startNbdkit(port) {
  const child = spawn(
    'nbdkit',
    ['-f', '--exit-with-parent', '-i', '127.0.0.1', '-p', String(port), 'memory', NBDKIT_SIZE],
    { stdio: 'ignore' },
  );
  children.add(child);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await answers(port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('nbdkit did not start');
    await sleep(POLL_MS);
  }
  return child;
}

/**
 * nvmf-dpu with `dpuArgs` (after `nodeOptions` for Node itself), serving NBD on an ephemeral
 * loopback port; resolves with the child and the NBD URI it prints.
 */
async function startDpu(dpuArgs, nodeOptions = []) {
  const { child, match } = await startChild(
    process.execPath,
    [
      ...nodeOptions,
      BIN('nvmf-dpu'),
      ...dpuArgs,
      '--nbd-listen',
      '127.0.0.1:0',
      '--log-level',
      'warn',
    ],
    /^(nbd:\/\/\S+)$/,
  );
  return { child, uri: match[1] };
}

async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  children.delete(child);
}

/** fio's figures for the direction that did I/O. */
function figures(file, rw) {
  const text = readFileSync(file, 'utf8');
  const job = JSON.parse(text.slice(text.indexOf('{'))).jobs[0];
  const d = rw === 'randread' ? job.read : job.write;
  const pct = d.clat_ns.percentile ?? {};
  return {
    ios: d.total_ios,
    iops: d.iops,
    meanUs: d.clat_ns.mean / 1000,
    p99Us: (pct['99.000000'] ?? 0) / 1000,
    fioCpu: (job.usr_cpu + job.sys_cpu) / PERCENT,
  };
}

/** fio's options for one timed 4 KiB job over its NBD engine on the working set. */
const timedJob = (name, uri, rw, depth) => [
  `--name=${name}`,
  '--ioengine=nbd',
  `--uri=${uri}`,
  `--rw=${rw}`,
  '--bs=4k',
  `--iodepth=${depth}`,
  `--size=${WORKING_SET}`,
  `--runtime=${RUNTIME}`,
  '--time_based',
];

/** The four workloads against one NBD URI; `dpuPid`/`nodePids` are measured for CPU per I/O. */
function suite(name, uri, dpuPid, nodePids) {
  run('fio', [
    '--name=fill',
    '--ioengine=nbd',
    `--uri=${uri}`,
    '--rw=write',
    '--bs=1M',
    '--iodepth=8',
    `--size=${WORKING_SET}`,
    '--output-format=json',
    `--output=${join(tmp, 'fill.json')}`,
  ]);
  return WORKLOADS.map((w) => {
    const out = join(tmp, `${name}-${w.rw}-${w.depth}.json`.replace(/\W+/g, '-'));
    const dpu0 = dpuPid ? cpuSeconds(dpuPid) : 0;
    const nodes0 = cpuOf(nodePids);
    run('fio', [...timedJob(w.rw, uri, w.rw, w.depth), '--output-format=json', `--output=${out}`]);
    const f = figures(out, w.rw);
    f.dpuUsPerIo = dpuPid ? ((cpuSeconds(dpuPid) - dpu0) * US_PER_S) / f.ios : NaN;
    f.nodesUsPerIo = ((cpuOf(nodePids) - nodes0) * US_PER_S) / f.ios;
    log(`${name} ${w.label}: ${f.iops.toFixed(0)} IOPS, p99 ${f.p99Us.toFixed(0)} µs`);
    return { target: name, ...w, f };
  });
}

async function main() {
  const load0 = os.loadavg();
  const started = new Date();
  const farmDir = join(tmp, 'farm');
  run(process.execPath, [
    BIN('nvmf-farm'),
    'up',
    '--nodes',
    String(NODES),
    '--dir',
    farmDir,
    '--base-port',
    '0',
    '--size',
    NODE_SIZE,
  ]);
  const farm = JSON.parse(readFileSync(join(farmDir, 'farm.json'), 'utf8'));
  const nodePids = farm.nodes.map((n) => n.pid);
  const results = [];
  let profile = [];
  try {
    const port = await freePort();
    const nbdkit = await startNbdkit(port);
    results.push(...suite('nbdkit memory', `nbd://127.0.0.1:${port}`, undefined, [nbdkit.pid]));
    await stopChild(nbdkit);

    const node1 = farm.nodes[0];
    const single = await startDpu([
      '--connect',
      `tcp://127.0.0.1:${node1.port}/${node1.subnqn}`,
      '--layout',
      'single',
    ]);
    results.push(...suite('DPU single', single.uri, single.child.pid, [node1.pid]));
    await stopChild(single.child);

    const mirrorArgs = [
      '--farm',
      join(farmDir, 'farm.json'),
      '--layout',
      'mirror',
      '--state-dir',
      join(tmp, 'dpu'),
    ];
    const mirror = await startDpu(mirrorArgs);
    results.push(...suite('DPU mirror ×3', mirror.uri, mirror.child.pid, nodePids));
    await stopChild(mirror.child);

    // Where the mirror DPU spends its CPU, from a separate profiled run (the profiler's own cost
    // stays out of the figures above).
    const profDir = join(tmp, 'prof');
    const profiled = await startDpu(mirrorArgs, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
    for (const rw of ['randread', 'randwrite']) {
      run('fio', timedJob(`prof-${rw}`, profiled.uri, rw, PROFILE_DEPTH));
    }
    await stopChild(profiled.child);
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (file) {
      profile = summarizeProfile(
        JSON.parse(readFileSync(join(profDir, file), 'utf8')),
        PROFILE_TOP,
      );
    }
  } finally {
    spawnSync(process.execPath, [BIN('nvmf-farm'), 'down', '--dir', farmDir], { stdio: 'ignore' });
  }
  return { started, load0, load1: os.loadavg(), results, profile };
}

const fmt = (v, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '—');

function markdown({ started, load0, load1, results, profile }) {
  const get = (target, label) => results.find((r) => r.target === target && r.label === label)?.f;
  const ratio = (label) => get('DPU mirror ×3', label).iops / get('nbdkit memory', label).iops;
  const readRatio = ratio('4 KiB randread QD32');
  const writeRatio = ratio('4 KiB randwrite QD32');
  const verdict = (r, aim) =>
    `${r.toFixed(2)} × nbdkit (aim ≥ ${aim.toFixed(2)}: ${r >= aim ? 'met' : `missed by ${((1 - r / aim) * PERCENT).toFixed(0)} %`})`;
  return [
    BEGIN,
    '## DPU: fio through the NBD shim, single namespace and mirror, next to nbdkit (issue 4)',
    '',
    `Produced by \`node bench/dpu-shim.mjs\` on ${started.toISOString()}, ${RUNTIME} s per run; load average ${load0[0].toFixed(2)} at start, ${load1[0].toFixed(2)} at end on ${os.cpus().length} CPUs.`,
    `Storage: a farm of ${NODES} \`nvmf-target\` processes (file-backed ${NODE_SIZE} namespaces, 512-byte blocks) on loopback;`,
    `\`nvmf-dpu\` serves NBD on loopback; every job uses the first ${WORKING_SET} of the device, written once before the runs.`,
    '',
    '| target | workload | IOPS | mean clat (µs) | p99 clat (µs) | DPU CPU µs/IO | storage nodes CPU µs/IO (server for nbdkit) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...results.map(
      (r) =>
        `| ${r.target} | ${r.label} | ${fmt(r.f.iops)} | ${fmt(r.f.meanUs, 1)} | ${fmt(r.f.p99Us, 1)} | ${fmt(r.f.dpuUsPerIo, 1)} | ${fmt(r.f.nodesUsPerIo, 1)} |`,
    ),
    '',
    `Mirror at QD32: random read ${verdict(readRatio, AIM_READ)}; random write ${verdict(writeRatio, AIM_WRITE)}.`,
    '',
    `Where nvmf-dpu spends its busy CPU time (self time, idle excluded) serving the mirror at QD32, random read then random write, ${RUNTIME} s each, from \`node --cpu-prof\`:`,
    '',
    '| share | function | where |',
    '| ---: | --- | --- |',
    ...profile.map(
      (p) => `| ${p.percent.toFixed(1)} % | ${p.name || '(anonymous)'} | ${p.location} |`,
    ),
    '',
    'Commands (PORT and paths from the run):',
    '```',
    `nvmf-farm up --nodes ${NODES} --dir DIR --base-port 0 --size ${NODE_SIZE}`,
    `nbdkit -f -i 127.0.0.1 -p PORT memory ${NBDKIT_SIZE}`,
    'nvmf-dpu --connect tcp://127.0.0.1:NODE1PORT/NODE1NQN --layout single --nbd-listen 127.0.0.1:0',
    'nvmf-dpu --farm DIR/farm.json --layout mirror --state-dir STATE --nbd-listen 127.0.0.1:0',
    `fio --name=fill --ioengine=nbd --uri=URI --rw=write --bs=1M --iodepth=8 --size=${WORKING_SET}`,
    `fio --name=JOB --ioengine=nbd --uri=URI --rw=randread|randwrite --bs=4k --iodepth=1|32 --size=${WORKING_SET} --runtime=${RUNTIME} --time_based --output-format=json`,
    '```',
    END,
  ].join('\n');
}

function writeSection(section) {
  if (args.stdout) {
    process.stdout.write(`${section}\n`);
    return;
  }
  const old = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '# Benchmarks\n';
  const at = old.indexOf(BEGIN);
  const end = old.indexOf(END);
  const next =
    at >= 0 && end > at
      ? old.slice(0, at) + section + old.slice(end + END.length)
      : `${old.trimEnd()}\n\n${section}\n`;
  writeFileSync(OUT, next);
  log(`wrote the DPU section of ${OUT}`);
}

const cleanup = () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
};
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

main()
  .then((r) => writeSection(markdown(r)))
  .then(cleanup, (err) => {
    cleanup();
    console.error(`dpu-shim bench: ${err.message}`);
    process.exit(1);
  });

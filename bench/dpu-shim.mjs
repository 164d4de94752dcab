#!/usr/bin/env node
// The DPU's benchmark (issue 4): real fio --ioengine=nbd through nvmf-dpu's NBD shim, on a single
// remote namespace and on a 3-way mirror over a farm of nvmf-target nodes (file-backed, and
// memory-backed like for like with the reference), next to fio on `nbdkit memory` in the same run: 4 KiB random read and write at QD1 and QD32, and 128 KiB sequential writes at QD8 (large PDUs). The aim: the
// mirror at QD32 reaches half of nbdkit's IOPS for reads and a third for writes.
// Writes its section of bench/RESULTS.md between the dpu-shim markers, leaving the rest as it is.
//
//   node bench/dpu-shim.mjs [--runtime=SECONDS (10)] [--rounds=N (1)] [--out=FILE] [--stdout]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { benchOptions } from './bench-options.mjs';
import { summarizeProfile } from './profile-summary.mjs';
import { bin as BIN, cpuSeconds, nodeEnvOf, nodeFlagsOf } from './suite-process.mjs';

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
/** Rounds per workload and target (`--rounds=N`); each figure is the median-IOPS round. */
const ROUNDS = Number(args.rounds ?? 1);
const NBDKIT = 'nbdkit memory';
const MIRROR_FILE = 'DPU mirror ×3 (file nodes)';
const MIRROR_MEM = 'DPU mirror ×3 (memory nodes)';
const tmp = mkdtempSync(join(os.tmpdir(), 'nvmf-dpu-shim-bench-'));
const children = new Set();
const log = (line) => process.stderr.write(`${line}\n`);

const WORKLOADS = [
  { label: '4 KiB randread QD1', rw: 'randread', depth: 1, bs: '4k' },
  { label: '4 KiB randread QD32', rw: 'randread', depth: 32, bs: '4k' },
  { label: '4 KiB randwrite QD1', rw: 'randwrite', depth: 1, bs: '4k' },
  { label: '4 KiB randwrite QD32', rw: 'randwrite', depth: 32, bs: '4k' },
  { label: '128 KiB write QD8', rw: 'write', depth: 8, bs: '128k' },
];

function run(cmd, argv) {
  const res = spawnSync(cmd, argv, { encoding: 'utf8', cwd: tmp, maxBuffer: 64 << 20 });
  if (res.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

const cpuOf = (pids) => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);

/** /proc/stat's first line counts in USER_HZ ticks (100 per second on Linux). */
const USER_HZ = 100;
/** The aggregate "cpu" line's fields: user nice system idle iowait irq softirq steal. */
const IDLE_FIELDS = new Set([3, 4]);
const BUSY_FIELDS = 8;

/**
 * The whole machine's busy and idle CPU seconds so far, every process and kernel thread included
 * (softirq work and page-cache writeback that no per-process figure shows).
 */
function machineCpu() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1);
  let busy = 0;
  let idle = 0;
  for (let i = 0; i < BUSY_FIELDS; i++) {
    if (IDLE_FIELDS.has(i)) idle += Number(fields[i]);
    else busy += Number(fields[i]);
  }
  return { busy: busy / USER_HZ, idle: idle / USER_HZ };
}

function freePort() {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts a long-running child (in `env`) and resolves once a stdout line matches `ready`. */
function startChild(cmd, argv, ready, env = process.env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'], cwd: tmp, env });
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
      ...nodeFlagsOf('nvmf-dpu'),
      BIN('nvmf-dpu'),
      ...dpuArgs,
      '--nbd-listen',
      '127.0.0.1:0',
      '--log-level',
      'warn',
    ],
    /^(nbd:\/\/\S+)$/,
    nodeEnvOf('nvmf-dpu'),
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

/** fio's options for one timed job over its NBD engine on the working set. */
const timedJob = (name, uri, rw, depth, bs) => [
  `--name=${name}`,
  '--ioengine=nbd',
  `--uri=${uri}`,
  `--rw=${rw}`,
  `--bs=${bs}`,
  `--iodepth=${depth}`,
  `--size=${WORKING_SET}`,
  `--runtime=${RUNTIME}`,
  '--time_based',
];

/** Writes the working set once, so that reads find data on every target. */
function fill(uri) {
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
}

/** One fio run of workload `w` against `target`, with the CPU per I/O of its processes. */
function measure(target, w, round) {
  const out = join(tmp, `${target.name}-${w.rw}-${w.depth}-${round}.json`.replace(/\W+/g, '-'));
  const dpu0 = target.dpuPid ? cpuSeconds(target.dpuPid) : 0;
  const nodes0 = cpuOf(target.nodePids);
  const machine0 = machineCpu();
  run('fio', [
    ...timedJob(w.rw, target.uri, w.rw, w.depth, w.bs),
    '--output-format=json',
    `--output=${out}`,
  ]);
  const machine1 = machineCpu();
  const f = figures(out, w.rw);
  f.machineUsPerIo = ((machine1.busy - machine0.busy) * US_PER_S) / f.ios;
  f.idlePercent =
    (PERCENT * (machine1.idle - machine0.idle)) /
    (machine1.idle - machine0.idle + machine1.busy - machine0.busy);
  f.fioUsPerIo = (f.fioCpu * RUNTIME * US_PER_S) / f.ios;
  f.dpuUsPerIo = target.dpuPid ? ((cpuSeconds(target.dpuPid) - dpu0) * US_PER_S) / f.ios : NaN;
  f.nodesUsPerIo = ((cpuOf(target.nodePids) - nodes0) * US_PER_S) / f.ios;
  log(
    `${target.name} ${w.label} #${round + 1}: ${f.iops.toFixed(0)} IOPS, p99 ${f.p99Us.toFixed(0)} µs, machine ${f.machineUsPerIo.toFixed(1)} µs/IO, idle ${f.idlePercent.toFixed(0)} %`,
  );
  return f;
}

/**
 * Every workload on every target, interleaved: for each workload, round after round, the targets
 * one after the other, so that nbdkit and the DPU see the same machine within seconds of each
 * other. Each target's figure is its median-IOPS run of the rounds.
 */
function interleaved(targets) {
  const results = [];
  for (const w of WORKLOADS) {
    const runs = new Map(targets.map((t) => [t.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of targets) runs.get(t.name).push(measure(t, w, round));
    }
    for (const t of targets) {
      const sorted = runs.get(t.name).sort((a, b) => a.iops - b.iops);
      results.push({ target: t.name, ...w, f: sorted[Math.floor(sorted.length / 2)] });
    }
  }
  return results;
}

function farmUp(dir, backing) {
  run(process.execPath, [
    BIN('nvmf-farm'),
    'up',
    '--nodes',
    String(NODES),
    '--dir',
    dir,
    '--base-port',
    '0',
    '--size',
    NODE_SIZE,
    '--backing',
    backing,
  ]);
  return JSON.parse(readFileSync(join(dir, 'farm.json'), 'utf8'));
}

const mirrorArgs = (farmDir, stateDir) => [
  '--farm',
  join(farmDir, 'farm.json'),
  '--layout',
  'mirror',
  '--state-dir',
  stateDir,
];

async function main() {
  const load0 = os.loadavg();
  const started = new Date();
  const fileFarmDir = join(tmp, 'farm');
  const memFarmDir = join(tmp, 'farm-mem');
  let profile = [];
  let results;
  try {
    const fileFarm = farmUp(fileFarmDir, 'file');
    const memFarm = farmUp(memFarmDir, 'memory');
    const port = await freePort();
    const nbdkit = await startNbdkit(port);
    const node1 = fileFarm.nodes[0];
    const single = await startDpu([
      '--connect',
      `tcp://127.0.0.1:${node1.port}/${node1.subnqn}`,
      '--layout',
      'single',
    ]);
    const mirror = await startDpu(mirrorArgs(fileFarmDir, join(tmp, 'dpu')));
    const memMirror = await startDpu(mirrorArgs(memFarmDir, join(tmp, 'dpu-mem')));
    const targets = [
      { name: NBDKIT, uri: `nbd://127.0.0.1:${port}`, nodePids: [nbdkit.pid] },
      { name: 'DPU single', uri: single.uri, dpuPid: single.child.pid, nodePids: [node1.pid] },
      {
        name: MIRROR_FILE,
        uri: mirror.uri,
        dpuPid: mirror.child.pid,
        nodePids: fileFarm.nodes.map((n) => n.pid),
      },
      {
        name: MIRROR_MEM,
        uri: memMirror.uri,
        dpuPid: memMirror.child.pid,
        nodePids: memFarm.nodes.map((n) => n.pid),
      },
    ];
    for (const t of targets) fill(t.uri);
    results = interleaved(targets);
    for (const c of [nbdkit, single.child, mirror.child, memMirror.child]) await stopChild(c);

    // Where the mirror DPU spends its CPU, from a separate profiled run (the profiler's own cost
    // stays out of the figures above).
    const profDir = join(tmp, 'prof');
    const profiled = await startDpu(mirrorArgs(fileFarmDir, join(tmp, 'dpu')), [
      '--cpu-prof',
      `--cpu-prof-dir=${profDir}`,
    ]);
    for (const rw of ['randread', 'randwrite']) {
      run('fio', timedJob(`prof-${rw}`, profiled.uri, rw, PROFILE_DEPTH, '4k'));
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
    for (const dir of [fileFarmDir, memFarmDir]) {
      spawnSync(process.execPath, [BIN('nvmf-farm'), 'down', '--dir', dir], { stdio: 'ignore' });
    }
  }
  return { started, load0, load1: os.loadavg(), results, profile };
}

const fmt = (v, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '—');

function markdown({ started, load0, load1, results, profile }) {
  const get = (target, label) => results.find((r) => r.target === target && r.label === label)?.f;
  const ratio = (mirror, label) => get(mirror, label).iops / get(NBDKIT, label).iops;
  const verdict = (r, aim) =>
    `${r.toFixed(2)} × nbdkit (aim ≥ ${aim.toFixed(2)}: ${r >= aim ? 'met' : `missed by ${((1 - r / aim) * PERCENT).toFixed(0)} %`})`;
  const verdicts = (mirror) =>
    `random read ${verdict(ratio(mirror, '4 KiB randread QD32'), AIM_READ)}; random write ${verdict(ratio(mirror, '4 KiB randwrite QD32'), AIM_WRITE)}`;
  return [
    BEGIN,
    '## DPU: fio through the NBD shim, single namespace and mirror, next to nbdkit (issue 4)',
    '',
    `Produced by \`node bench/dpu-shim.mjs${ROUNDS > 1 ? ` --rounds=${ROUNDS}` : ''}\` on ${started.toISOString()}, ${RUNTIME} s per run; load average ${load0[0].toFixed(2)} at start, ${load1[0].toFixed(2)} at end on ${os.cpus().length} CPUs.`,
    `Storage: two farms of ${NODES} \`nvmf-target\` processes on loopback, one with file-backed ${NODE_SIZE} namespaces (the default, \`--file-io auto\`), one with memory-backed ones (\`--backing memory\`, like for like with \`nbdkit memory\`), 512-byte blocks;`,
    `one \`nvmf-dpu\` per target serves NBD on loopback; every job uses the first ${WORKING_SET} of the device, written once before the runs.`,
    `The runs are interleaved: for each workload, ${ROUNDS > 1 ? `${ROUNDS} rounds of ` : ''}nbdkit, then each DPU target, one after the other${ROUNDS > 1 ? '; each row is the median-IOPS round' : ''}.`,
    '',
    '| target | workload | IOPS | mean clat (µs) | p99 clat (µs) | fio CPU µs/IO | DPU CPU µs/IO | storage nodes CPU µs/IO (server for nbdkit) | machine busy CPU µs/IO | machine idle |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.map(
      (r) =>
        `| ${r.target} | ${r.label} | ${fmt(r.f.iops)} | ${fmt(r.f.meanUs, 1)} | ${fmt(r.f.p99Us, 1)} | ${fmt(r.f.fioUsPerIo, 1)} | ${fmt(r.f.dpuUsPerIo, 1)} | ${fmt(r.f.nodesUsPerIo, 1)} | ${fmt(r.f.machineUsPerIo, 1)} | ${fmt(r.f.idlePercent)} % |`,
    ),
    '',
    "Machine busy CPU counts every process and kernel thread (loopback softirq, page-cache writeback) from /proc/stat; fio CPU is fio's own usr+sys.",
    '',
    `Mirror at QD32 over file-backed nodes: ${verdicts(MIRROR_FILE)}.`,
    '',
    `Mirror at QD32 over memory-backed nodes: ${verdicts(MIRROR_MEM)}.`,
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
    `nvmf-farm up --nodes ${NODES} --dir DIR --base-port 0 --size ${NODE_SIZE} --backing file|memory`,
    `nbdkit -f -i 127.0.0.1 -p PORT memory ${NBDKIT_SIZE}`,
    'nvmf-dpu --connect tcp://127.0.0.1:NODE1PORT/NODE1NQN --layout single --nbd-listen 127.0.0.1:0',
    'nvmf-dpu --farm DIR/farm.json --layout mirror --state-dir STATE --nbd-listen 127.0.0.1:0   # one per farm',
    `fio --name=fill --ioengine=nbd --uri=URI --rw=write --bs=1M --iodepth=8 --size=${WORKING_SET}`,
    `fio --name=JOB --ioengine=nbd --uri=URI --rw=randread|randwrite --bs=4k --iodepth=1|32 --size=${WORKING_SET} --runtime=${RUNTIME} --time_based --output-format=json`,
    `fio --name=JOB --ioengine=nbd --uri=URI --rw=write --bs=128k --iodepth=8 --size=${WORKING_SET} --runtime=${RUNTIME} --time_based --output-format=json`,
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

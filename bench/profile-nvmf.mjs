#!/usr/bin/env node
/**
 * profile-nvmf — CPU cost per I/O of the NVMe/TCP data path, measured so that a busy 2-core
 * machine still gives comparable numbers: besides IOPS (wall clock, noisy under load) it reports
 * CPU microseconds per operation of the host process (process.cpuUsage) and of the target child
 * (/proc/PID/stat utime+stime), next to the same figures for
 *   - raw: a bare Node TCP ping-pong moving the same bytes in the same buffers per op
 *     (72-byte request; 24-byte header + payload + 24-byte trailer back), the floor for Node;
 *   - nbdkit: real fio (ioengine=nbd) against `nbdkit memory` (the issue 2 reference), if present.
 *
 *   node bench/profile-nvmf.mjs [--seconds 5] [--warmup 1] [--bs 4096] [--qd 32]
 *        [--rw randread|read] [--size 256MiB] [--prefill] [--runs nvmf,raw,nbdkit,loop,loop-raw]
 *        [--ops N] [--target-node-args "--trace-gc …"] [--target-log FILE] [--heap-prof DIR]
 *        [--v8-flags "…"]  (v8.setFlagsFromString in this process, the host, before the runs)
 *        [--dist DIR] [--prof DIR] [--syscalls] [--json]
 *
 * --prof DIR writes V8 CPU profiles of the measured window: host-*.cpuprofile (inspector, this
 * process) and target-*.cpuprofile (the child runs with --cpu-prof); summarize them with
 * `node bench/cpuprofile-top.mjs FILE`. --dist points at another build of src (default ../dist).
 * --syscalls counts each side's read/writev/epoll_wait system calls per op over the window with
 * `perf stat` (syscall tracepoints): how well writes and reads are batched.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import v8 from 'node:v8';
import { Duplex } from 'node:stream';
import path from 'node:path';
import { Session } from 'node:inspector/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const NQN = 'nqn.2024-01.io.nvmf-dpu:profile';
/** Linux USER_HZ: /proc/PID/stat counts CPU time in these ticks. */
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;
const MICROS_PER_SECOND = 1e6;
const KIB = 1024;
/** V8 sampling interval of the profiles (default 1000 µs is too coarse for µs-scale ops). */
const PROFILE_INTERVAL_US = 200;
/** Mean bytes between allocation samples of --heap-prof. */
const HEAP_SAMPLING_BYTES = 1024;
/** Raw ping-pong framing: the NVMe/TCP byte counts of a read (CapsuleCmd; C2HData hdr, CapsuleResp). */
const RAW_REQUEST_BYTES = 72;
const RAW_HEADER_BYTES = 24;
const RAW_TRAILER_BYTES = 24;

function parseArgs(argv) {
  const o = {
    seconds: 5,
    ops: 0,
    targetNodeArgs: [],
    targetLog: undefined,
    heapProf: undefined,
    v8Flags: undefined,
    warmup: 1,
    bs: 4096,
    qd: 32,
    rw: 'randread',
    size: '256MiB',
    prefill: false,
    runs: 'nvmf,raw',
    dist: path.join(HERE, '..', 'dist'),
    prof: undefined,
    syscalls: false,
    json: false,
    rawServer: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    switch (a) {
      case '--target-node-args':
        o.targetNodeArgs = next().split(' ').filter(Boolean);
        break;
      case '--v8-flags':
        o.v8Flags = next();
        break;
      case '--heap-prof':
        o.heapProf = path.resolve(next());
        break;
      case '--target-log':
        o.targetLog = path.resolve(next());
        break;
      case '--ops':
        o.ops = Number(next());
        break;
      case '--seconds':
        o.seconds = Number(next());
        break;
      case '--warmup':
        o.warmup = Number(next());
        break;
      case '--bs':
        o.bs = parseBytes(next());
        break;
      case '--qd':
        o.qd = Number(next());
        break;
      case '--rw':
        o.rw = next();
        break;
      case '--size':
        o.size = next();
        break;
      case '--prefill':
        o.prefill = true;
        break;
      case '--runs':
        o.runs = next();
        break;
      case '--dist':
        o.dist = path.resolve(next());
        break;
      case '--prof':
        o.prof = path.resolve(next());
        break;
      case '--json':
        o.json = true;
        break;
      case '--syscalls':
        o.syscalls = true;
        break;
      case '--raw-server':
        o.rawServer = true;
        break;
      default:
        throw new Error(`unknown option ${a}`);
    }
  }
  if (!['randread', 'read'].includes(o.rw)) throw new Error(`--rw ${o.rw}: randread or read`);
  return o;
}

function parseBytes(text) {
  const m = /^(\d+)\s*([kmg]?)(i?b?)$/i.exec(text);
  if (!m) throw new Error(`bad size ${text}`);
  return Number(m[1]) * { '': 1, k: KIB, m: KIB ** 2, g: KIB ** 3 }[m[2].toLowerCase()];
}

/** CPU microseconds (user, system; all threads) a process used so far. */
function procCpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 (utime, stime) are at 11 and 12 after the command name.
  const us = (ticks) => (Number(ticks) / CLK_TCK) * MICROS_PER_SECOND;
  // Field 10 (minflt): page faults served without I/O, mostly first touches of fresh memory.
  return { user: us(f[11]), system: us(f[12]), minflt: Number(f[7]) };
}

function selfCpuMicros() {
  return { ...process.cpuUsage(), minflt: process.resourceUsage().minorPageFault };
}

function nodeArgs(prof, name) {
  if (!prof) return [];
  return [
    '--cpu-prof',
    '--cpu-prof-dir',
    prof,
    '--cpu-prof-name',
    `${name}.cpuprofile`,
    '--cpu-prof-interval',
    String(PROFILE_INTERVAL_US),
  ];
}

/** Spawns a child and resolves with it once `pattern` appears on its stdout. */
async function startChild(cmd, args, pattern) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const match = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = pattern.exec(out);
      if (m) resolve(m);
    });
    child.once('exit', (code) => reject(new Error(`${cmd} exited ${code}: ${err.slice(-2000)}`)));
  });
  return { child, match, output: () => out + err };
}

async function stopChild(child) {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/**
 * Runs `qd` loops of `op()` for warmup+seconds and measures the window after the warm-up:
 * operations, wall time, this process's CPU and the peer's (`peerCpu()`).
 */
async function drive(o) {
  const { qd, warmup, seconds, op, peerCpu, peerPid, prof, profName, syscalls } = o;
  let ops = 0;
  // --ops: the windows end after a count of operations instead of a time (for instruction
  // counting under valgrind, where time means nothing).
  let reach = -1;
  let reached = () => {};
  const window = (secs, count) =>
    o.ops > 0
      ? new Promise((resolve) => {
          reach = ops + count;
          reached = resolve;
        })
      : sleep(secs * 1000);
  let stop = false;
  let failure;
  const loops = [];
  for (let i = 0; i < qd; i++) {
    loops.push(
      (async () => {
        while (!stop) {
          await op();
          ops++;
          if (ops === reach) reached();
        }
      })().catch((err) => {
        failure ??= err;
        stop = true;
      }),
    );
  }
  await window(warmup, Math.ceil(o.ops / 4));
  let session;
  let heapSession;
  if (o.heapProf) {
    // Sampled allocations of the window, including those the GC already collected: what makes
    // the young generation fill.
    heapSession = new Session();
    heapSession.connect();
    await heapSession.post('HeapProfiler.enable');
    await heapSession.post('HeapProfiler.startSampling', {
      samplingInterval: HEAP_SAMPLING_BYTES,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }
  if (prof) {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: PROFILE_INTERVAL_US });
    await session.post('Profiler.start');
  }
  const counters = syscalls
    ? [countSyscalls(process.pid, seconds), countSyscalls(peerPid, seconds)]
    : undefined;
  const t0 = process.hrtime.bigint();
  const ops0 = ops;
  const cpu0 = selfCpuMicros();
  const peer0 = peerCpu();
  await window(seconds, o.ops);
  const t1 = process.hrtime.bigint();
  const ops1 = ops;
  const cpu1 = selfCpuMicros();
  const peer1 = peerCpu();
  if (heapSession) {
    const { profile } = await heapSession.post('HeapProfiler.stopSampling');
    mkdirSync(o.heapProf, { recursive: true });
    writeFileSync(path.join(o.heapProf, `${profName}.heapprofile`), JSON.stringify(profile));
    heapSession.disconnect();
  }
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(path.join(prof, `${profName}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
  stop = true;
  await Promise.all(loops);
  if (failure) throw failure;
  const n = ops1 - ops0;
  const wall = Number(t1 - t0) / 1e9;
  const perOp = (counts) =>
    Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, +(v / n).toFixed(3)]));
  const [hostCalls, peerCalls] = counters ? await Promise.all(counters) : [];
  return {
    ...(counters
      ? { hostSyscallsPerOp: perOp(hostCalls), peerSyscallsPerOp: perOp(peerCalls) }
      : {}),
    ops: n,
    seconds: wall,
    iops: n / wall,
    ...cpuFields('host', cpu0, cpu1, n, wall),
    ...cpuFields('peer', peer0, peer1, n, wall),
  };
}

/** CPU per op (all, system part) and percent of one CPU between two {user, system} readings. */
function cpuFields(who, a, b, n, wall) {
  const total = b.user + b.system - a.user - a.system;
  return {
    [`${who}UsPerOp`]: total / n,
    [`${who}SysUsPerOp`]: (b.system - a.system) / n,
    [`${who}CpuPct`]: (total / (wall * MICROS_PER_SECOND)) * 100,
    [`${who}FaultsPerOp`]: ((b.minflt ?? 0) - (a.minflt ?? 0)) / n,
  };
}

const SYSCALLS = ['read', 'writev', 'write', 'epoll_wait'];

/** System calls `pid` makes in the next `seconds` (perf stat on the syscall tracepoints). */
async function countSyscalls(pid, seconds) {
  const events = SYSCALLS.map((s) => `syscalls:sys_enter_${s}`).join(',');
  const perf = spawn(
    'perf',
    ['stat', '-x,', '-e', events, '-p', String(pid), '--', 'sleep', String(seconds)],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let text = '';
  perf.stderr.on('data', (d) => (text += d));
  await once(perf, 'exit');
  const counts = {};
  for (const line of text.split('\n')) {
    const [value, , event] = line.split(',');
    const name = event?.replace('syscalls:sys_enter_', '');
    if (name && SYSCALLS.includes(name)) counts[name] = Number(value) || 0;
  }
  return counts;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function offsets(o, blockCount, blocksPerIo) {
  const slots = Math.floor(blockCount / blocksPerIo);
  let cursor = 0;
  return o.rw === 'randread'
    ? () => Math.floor(Math.random() * slots) * blocksPerIo
    : () => {
        const lba = cursor * blocksPerIo;
        cursor = (cursor + 1) % slots;
        return lba;
      };
}

async function runNvmf(o) {
  const target = await startChild(
    process.execPath,
    [
      ...nodeArgs(o.prof, 'target'),
      ...o.targetNodeArgs,
      path.join(o.dist, 'cli', 'nvmf-target.js'),
      '--listen',
      '127.0.0.1:0',
      '--nqn',
      NQN,
      '--ns',
      `mem:${o.size}`,
      '--allow-any-host',
      '--log-level',
      'warn',
    ],
    /listening on [^\s]+:(\d+)/,
  );
  const port = Number(target.match[1]);
  const { openRemoteBdev } = await import(
    pathToFileURL(path.join(o.dist, 'initiator', 'index.js'))
  );
  const bdev = await openRemoteBdev(
    { traddr: '127.0.0.1', trsvcid: port, subnqn: NQN },
    { nrIoQueues: 1, queueDepth: 128, kato: 0 },
  );
  try {
    const blocksPerIo = o.bs / bdev.blockSize;
    if (o.prefill) {
      const chunk = Buffer.alloc(128 * KIB, 0xa5);
      const per = chunk.length / bdev.blockSize;
      for (let lba = 0; lba + per <= bdev.blockCount; lba += per) await bdev.write(lba, chunk);
    }
    const next = offsets(o, bdev.blockCount, blocksPerIo);
    return await drive({
      ...o,
      op: () => bdev.read(next(), blocksPerIo),
      peerCpu: () => procCpuMicros(target.child.pid),
      peerPid: target.child.pid,
      profName: 'host',
    });
  } finally {
    await bdev.close();
    await stopChild(target.child);
    if (o.targetLog) writeFileSync(o.targetLog, target.output());
  }
}

/**
 * Both ends in this process over an in-memory socket pair (MemorySocket): what the protocol code
 * costs in user space per op, without the kernel and without the scheduler of a loaded machine,
 * which make two-process figures swing ±50% here. `loop-raw` is the same pair with the raw
 * ping-pong, the floor of this setup (stream machinery and one copy per batch).
 */
class MemorySocket extends Duplex {
  constructor() {
    super();
    this.peer = undefined;
    this.remoteAddress = '127.0.0.1';
    this.remotePort = 0;
    this.pending = [];
    this.scheduled = false;
  }
  setNoDelay() {
    return this;
  }
  setKeepAlive() {
    return this;
  }
  _read() {}
  // A corked batch reaches the peer as one chunk, a macrotask later, like a writev through the
  // kernel; the copy stands for the kernel's.
  _writev(chunks, cb) {
    this.deliver(chunks.length === 1 ? chunks[0].chunk : Buffer.concat(chunks.map((c) => c.chunk)));
    cb();
  }
  _write(chunk, _enc, cb) {
    this.deliver(chunk);
    cb();
  }
  _final(cb) {
    setImmediate(() => this.peer.push(null));
    cb();
  }
  _destroy(err, cb) {
    setImmediate(() => this.peer?.destroy());
    cb(err);
  }
  deliver(buf) {
    this.pending.push(buf);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
      this.pending = [];
      this.peer.push(all);
    });
  }
}

function memorySocketPair() {
  const a = new MemorySocket();
  const b = new MemorySocket();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

async function runLoop(o) {
  // The target's listener and the host's connect meet in memory instead of on loopback TCP.
  let server;
  const createServer = net.createServer;
  const connect = net.connect;
  net.createServer = (...args) => (server = createServer(...args));
  net.connect = () => {
    const [client, side] = memorySocketPair();
    setImmediate(() => server.emit('connection', side));
    return client;
  };
  const { NvmfTarget } = await import(pathToFileURL(path.join(o.dist, 'target', 'index.js')));
  const { MemoryBdev } = await import(pathToFileURL(path.join(o.dist, 'bdev', 'index.js')));
  const { openRemoteBdev } = await import(
    pathToFileURL(path.join(o.dist, 'initiator', 'index.js'))
  );
  const target = new NvmfTarget({});
  const sub = target.addSubsystem({ nqn: NQN, allowAnyHost: true, allowedHosts: [] });
  const size = parseBytes(o.size);
  sub.addNamespace(new MemoryBdev({ name: 'mem0', blockSize: 4096, blockCount: size / 4096 }));
  await target.listen({ host: '127.0.0.1', port: 0 });
  try {
    const bdev = await openRemoteBdev(
      { traddr: '127.0.0.1', trsvcid: 4420, subnqn: NQN },
      { nrIoQueues: 1, queueDepth: 128, kato: 0 },
    );
    try {
      const blocksPerIo = o.bs / bdev.blockSize;
      const next = offsets(o, bdev.blockCount, blocksPerIo);
      return await drive({
        ...o,
        syscalls: false,
        op: () => bdev.read(next(), blocksPerIo),
        peerCpu: () => ({ user: 0, system: 0 }),
        profName: 'loop',
      });
    } finally {
      await bdev.close();
    }
  } finally {
    await target.close();
    net.createServer = createServer;
    net.connect = connect;
  }
}

/** The raw ping-pong of runRaw over the in-memory pair, both ends in this process. */
async function runLoopRaw(o) {
  const [client, side] = memorySocketPair();
  rawResponder(side, o.bs);
  return pingPong(o, client, () => ({ user: 0, system: 0 }), undefined, 'loop-raw');
}

/** The raw server side: per 72-byte request, a 24-byte header, `bs` payload and 24-byte trailer. */
function rawResponder(socket, bs) {
  const header = Buffer.alloc(RAW_HEADER_BYTES, 1);
  const payload = Buffer.alloc(bs, 2);
  const trailer = Buffer.alloc(RAW_TRAILER_BYTES, 3);
  let pending = 0;
  socket.on('data', (chunk) => {
    pending += chunk.length;
    socket.cork();
    while (pending >= RAW_REQUEST_BYTES) {
      pending -= RAW_REQUEST_BYTES;
      socket.write(header);
      socket.write(payload);
      socket.write(trailer);
    }
    socket.uncork();
  });
  socket.on('error', () => {});
}

function rawServer(o) {
  const server = net.createServer({ noDelay: true }, (socket) => rawResponder(socket, o.bs));
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`listening on 127.0.0.1:${server.address().port}\n`);
  });
  process.on('SIGTERM', () => process.exit(0));
}

/** The raw client side: `qd` requests in flight, each a 72-byte write answered in order. */
function pingPong(o, socket, peerCpu, peerPid, profName) {
  const request = Buffer.alloc(RAW_REQUEST_BYTES, 4);
  const responseBytes = RAW_HEADER_BYTES + o.bs + RAW_TRAILER_BYTES;
  /** Completion callbacks in order; the server answers in order. */
  const waiters = [];
  let received = 0;
  socket.on('data', (chunk) => {
    received += chunk.length;
    socket.cork();
    while (received >= responseBytes) {
      received -= responseBytes;
      waiters.shift()();
    }
    // Uncork after the completions' continuations have written their next requests.
    setImmediate(() => socket.uncork());
  });
  return drive({
    ...o,
    op: () =>
      new Promise((resolve) => {
        waiters.push(resolve);
        socket.write(request);
      }),
    peerCpu,
    peerPid,
    profName,
  });
}

async function runRaw(o) {
  const server = await startChild(
    process.execPath,
    [
      ...nodeArgs(o.prof, 'raw-server'),
      fileURLToPath(import.meta.url),
      '--raw-server',
      '--bs',
      String(o.bs),
    ],
    /listening on [^\s]+:(\d+)/,
  );
  const socket = net.connect({ host: '127.0.0.1', port: Number(server.match[1]), noDelay: true });
  await once(socket, 'connect');
  try {
    const pid = server.child.pid;
    return await pingPong(o, socket, () => procCpuMicros(pid), pid, 'raw-client');
  } finally {
    socket.destroy();
    await stopChild(server.child);
  }
}

/** fio (ioengine=nbd) against nbdkit memory: the reference issue 2 names. */
async function runNbdkit(o) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const nbdkit = spawn('nbdkit', ['-f', '-p', String(port), 'memory', o.size.replace(/iB$/i, '')], {
    stdio: 'ignore',
  });
  try {
    await sleep(500);
    const out = path.join('/tmp', `profile-nvmf-fio-${process.pid}.json`);
    const cpu0 = procCpuMicros(nbdkit.pid);
    const fioArgs = [
      '--name=t',
      '--ioengine=nbd',
      `--uri=nbd://127.0.0.1:${port}`,
      `--rw=${o.rw}`,
      `--bs=${o.bs}`,
      `--iodepth=${o.qd}`,
      `--ramp_time=${o.warmup}`,
      `--runtime=${o.seconds}`,
      '--time_based',
      '--output-format=json',
      `--output=${out}`,
    ];
    // The shell's children times (stat fields 16, 17) hold fio's and its job process's CPU.
    const fio = spawnSync(
      'sh',
      ['-c', 'fio "$@" >&2 || exit 1; cat /proc/$$/stat', 'sh', ...fioArgs],
      {
        encoding: 'utf8',
      },
    );
    const cpu1 = procCpuMicros(nbdkit.pid);
    if (fio.status !== 0) throw new Error(`fio failed: ${fio.stderr}`);
    const shStat = fio.stdout.slice(fio.stdout.lastIndexOf(')') + 2).split(' ');
    const ticks = (i) => (Number(shStat[i]) / CLK_TCK) * MICROS_PER_SECOND;
    const fioCpu = { user: ticks(13), system: ticks(14) };
    const job = JSON.parse(readFileSync(out, 'utf8')).jobs[0];
    rmSync(out, { force: true });
    const wall = job.read.runtime / 1000;
    // fio and nbdkit also worked through the ramp (and fio its start): spread their CPU over
    // the operations of ramp + run alike.
    const whole = o.seconds + o.warmup;
    const totalOps = job.read.total_ios * (whole / wall);
    const zero = { user: 0, system: 0 };
    return {
      ops: job.read.total_ios,
      seconds: wall,
      iops: job.read.iops,
      ...cpuFields('host', zero, fioCpu, totalOps, whole),
      ...cpuFields('peer', cpu0, cpu1, totalOps, whole),
    };
  } finally {
    nbdkit.kill('SIGTERM');
    await once(nbdkit, 'exit');
  }
}

function format(name, r, bs) {
  const mib = (r.iops * bs) / KIB ** 2;
  const calls = (c) =>
    Object.entries(c)
      .map(([k, v]) => `${k} ${v}`)
      .join(' ');
  const syscalls = r.hostSyscallsPerOp
    ? `\n        syscalls/op host: ${calls(r.hostSyscallsPerOp)} | server: ${calls(r.peerSyscallsPerOp)}`
    : '';
  return (
    `${name.padEnd(7)} ${Math.round(r.iops).toString().padStart(7)} IOPS ${mib.toFixed(0).padStart(6)} MiB/s` +
    `  host ${r.hostUsPerOp.toFixed(2).padStart(6)} µs/op (sys ${r.hostSysUsPerOp.toFixed(2)}, ${r.hostCpuPct.toFixed(0)}% cpu)` +
    `  server ${r.peerUsPerOp.toFixed(2).padStart(6)} µs/op (sys ${r.peerSysUsPerOp.toFixed(2)}, ${r.peerCpuPct.toFixed(0)}% cpu)` +
    `  total ${(r.hostUsPerOp + r.peerUsPerOp).toFixed(2)} µs/op` +
    `  page faults/op host ${r.hostFaultsPerOp.toFixed(2)} server ${r.peerFaultsPerOp.toFixed(2)}` +
    syscalls
  );
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.rawServer) return rawServer(o);
  if (o.v8Flags) v8.setFlagsFromString(o.v8Flags);
  if (o.prof) {
    mkdirSync(o.prof, { recursive: true });
    for (const f of readdirSync(o.prof))
      if (f.endsWith('.cpuprofile')) rmSync(path.join(o.prof, f));
  }
  const results = {};
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  if (!o.json) {
    console.log(
      `${o.rw} bs=${o.bs} qd=${o.qd} ${o.seconds}s after ${o.warmup}s warm-up, load ${load}, dist ${o.dist}`,
    );
  }
  const runners = {
    nvmf: runNvmf,
    raw: runRaw,
    nbdkit: runNbdkit,
    loop: runLoop,
    'loop-raw': runLoopRaw,
  };
  for (const name of o.runs.split(',')) {
    const run = runners[name];
    if (!run) throw new Error(`--runs: unknown run ${name} (${Object.keys(runners).join(', ')})`);
    results[name] = await run(o);
    if (!o.json) console.log(format(name, results[name], o.bs));
  }
  if (o.json) console.log(JSON.stringify({ options: o, load, results }, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

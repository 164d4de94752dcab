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
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import v8 from 'node:v8';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { memorySocketPair } from './memory-socket.mjs';
import { runNbdkit } from './profile-nbdkit.mjs';
import { PROFILE_INTERVAL_US, drive, procCpuMicros } from './profile-measure.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const NQN = 'nqn.2024-01.io.nvmf-dpu:profile';
const KIB = 1024;
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
  const inProcess = { ...o, syscalls: false };
  return pingPong(inProcess, client, () => ({ user: 0, system: 0 }), undefined, 'loop-raw');
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

/**
 * The measuring half of profile-nvmf.mjs: runs a closed loop of operations at a queue depth and
 * reports, for the window after a warm-up, operations, wall time and CPU per operation of this
 * process and of a peer process (/proc/PID/stat), optional syscall counts (perf stat) and V8
 * CPU / allocation profiles of this process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Session } from 'node:inspector/promises';

/** Linux USER_HZ: /proc/PID/stat counts CPU time in these ticks. */
export const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;
export const MICROS_PER_SECOND = 1e6;
/** V8 sampling interval of the profiles (default 1000 µs is too coarse for µs-scale ops). */
export const PROFILE_INTERVAL_US = 200;
/** Mean bytes between allocation samples of --heap-prof. */
const HEAP_SAMPLING_BYTES = 1024;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** CPU microseconds (user, system; all threads) a process used so far. */
export function procCpuMicros(pid) {
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

/**
 * Runs `qd` loops of `op()` for warmup+seconds and measures the window after the warm-up:
 * operations, wall time, this process's CPU and the peer's (`peerCpu()`).
 */
export async function drive(o) {
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
export function cpuFields(who, a, b, n, wall) {
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

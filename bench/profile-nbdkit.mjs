/**
 * profile-nvmf.mjs's reference run: real fio (ioengine=nbd) against `nbdkit memory`, the
 * comparison issue 2 names, with fio's and nbdkit's CPU per operation.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { CLK_TCK, MICROS_PER_SECOND, cpuFields, procCpuMicros, sleep } from './profile-measure.mjs';

/** fio (ioengine=nbd) against nbdkit memory: the reference issue 2 names. */
export async function runNbdkit(o) {
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

// Process plumbing for the bench scripts (bench/run.mjs, bench/dpu-shim.mjs): runs commands
// (recording each one for RESULTS.md), starts servers that print "listening on HOST:PORT", stops
// them, and reads a process's CPU time.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** One of the project's built commands, bin/NAME.js. */
export const bin = (name) => join(ROOT, 'bin', `${name}.js`);
/** A command's bin script's `#!` line. */
const shebangOf = (name) => readFileSync(bin(name), 'utf8').split('\n')[0];
/**
 * The Node flags a command's bin script gives node on its `#!` line (the data-path commands' V8
 * heap flags, src/cli/node-flags.ts), for starting it as `node FLAGS bin/NAME.js` like the shell would.
 */
export const nodeFlagsOf = (name) =>
  shebangOf(name)
    .replace(/^#!.*?\bnode\b/, '')
    .split(/\s+/)
    .filter(Boolean);
/**
 * This process's environment plus the NAME=VALUE settings a command's bin script gives `env -S`
 * before node on its `#!` line (the data-path commands' malloc settings, src/cli/node-flags.ts).
 */
export const nodeEnvOf = (name) => {
  const head = /^#!\S*env -S (.*?)\bnode\b/.exec(shebangOf(name));
  const set = (head?.[1] ?? '')
    .split(/\s+/)
    .filter((a) => a.includes('='))
    .map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]);
  return { ...process.env, ...Object.fromEntries(set) };
};
const READY_TIMEOUT_MS = 60_000;
/** /proc/PID/stat times are in clock ticks; sysconf(_SC_CLK_TCK) is 100 on Linux. */
const CLK_TCK = 100;
const STAT_UTIME = 11;
const STAT_STIME = 12;
const MAX_OUTPUT = 64 * 1024 * 1024;

/** Every command run, in order, as a shell line (the Commands section of RESULTS.md). */
export const commands = [];
const children = new Set();

export const has = (cmd) =>
  spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const shellQuote = (a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
const show = (cmd, argv) =>
  [cmd === process.execPath ? 'node' : cmd, ...argv.map((a) => a.replace(ROOT, ''))]
    .map(shellQuote)
    .join(' ');

export function log(msg) {
  process.stderr.write(`[bench] ${msg}\n`);
}

/** Runs a command to completion; throws with its stderr when it fails. */
export function run(cmd, argv, { record = true } = {}) {
  if (record) commands.push(show(cmd, argv));
  const r = spawnSync(cmd, argv, { cwd: ROOT, encoding: 'utf8', maxBuffer: MAX_OUTPUT });
  if (r.status !== 0) throw new Error(`${show(cmd, argv)} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/**
 * Starts a long-running process (in `env`, default this one's) and waits for its "listening on
 * HOST:PORT" line.
 */
export function startServer(cmd, argv, env = process.env) {
  commands.push(`${show(cmd, argv)} &`);
  const child = spawn(cmd, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`${cmd} did not become ready: ${out}`)),
      READY_TIMEOUT_MS,
    );
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const m = /listening on (\S+):(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, host: m[1], port: Number(m[2]) });
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d) => (out += d));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited (${code}) before it was ready: ${out}`));
    });
  });
}

/** Starts a process that signals readiness by creating `readyFile` (nbdkit -P). */
export async function startWithPidFile(cmd, argv, readyFile, shown) {
  commands.push(`${shown ?? show(cmd, argv)} &`);
  const { existsSync } = await import('node:fs');
  const child = spawn(cmd, argv, { cwd: ROOT, stdio: 'ignore' });
  children.add(child);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!existsSync(readyFile)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${cmd} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

export async function stop(child) {
  children.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

export function stopAll() {
  for (const c of children) c.kill('SIGTERM');
  children.clear();
}

/** utime+stime of a process in seconds (/proc/PID/stat fields 14 and 15). */
export function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
    return (Number(fields[STAT_UTIME]) + Number(fields[STAT_STIME])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

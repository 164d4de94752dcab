/**
 * One storage node of a farm as an operating-system process: an `nvmf-target` started detached
 * (its own session, so a Ctrl-C at the terminal that ran `nvmf-farm up` does not reach it), its
 * stdout and stderr appended to the node's target.log, ready when it prints `listening on`.
 * A node is alive when its recorded pid runs and is that node's nvmf-target (not a reused pid).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveFarmPath, type FarmDescription, type FarmNode } from '../dpu/farm-description.js';
import { DATA_PATH_NODE_FLAGS, dataPathEnv } from './node-flags.js';

/** The nvmf-target entry point next to this file's package (dist/cli → bin). */
export const TARGET_BIN = fileURLToPath(new URL('../../bin/nvmf-target.js', import.meta.url));

/** How long a node may take to print `listening on` (it opens and sizes its file first). */
export const NODE_START_TIMEOUT_MS = 20_000;
/** How long a node may take to exit after SIGTERM before it gets SIGKILL. */
export const NODE_STOP_TIMEOUT_MS = 10_000;
const POLL_MS = 50;
const PROBE_TIMEOUT_MS = 2_000;
/** Lines of target.log quoted when a node fails to start. */
const LOG_TAIL_LINES = 5;
const LISTENING_RE = /listening on (\S+):(\d+)/;

export class FarmError extends Error {
  readonly code = 'ERR_NVMF_FARM';
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The command line nvmf-target is started with for this node. */
export function targetArgs(farmFile: string, farm: FarmDescription, node: FarmNode): string[] {
  const file = resolveFarmPath(farmFile, node.file);
  const args = [
    TARGET_BIN,
    '--listen',
    `${node.addr.includes(':') ? `[${node.addr}]` : node.addr}:${node.port}`,
    '--nqn',
    node.subnqn,
    '--ns',
    farm.backing === 'memory'
      ? `mem:${farm.size}:${farm.blockSize}`
      : `file:${file}:${farm.size}:${farm.blockSize}${farm.fileIo ? `:io=${farm.fileIo}` : ''}`,
  ];
  if (farm.hostnqn) args.push('--allow-host', farm.hostnqn);
  else args.push('--allow-any-host');
  return args;
}

/**
 * True when `pid` is a running (not zombie) nvmf-target serving `subnqn`. Reads /proc so that a pid
 * reused by another program after the node died is not taken for the node.
 */
export async function isNodeProcess(pid: number | null, subnqn: string): Promise<boolean> {
  if (pid === null) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/PID/stat: "pid (comm) state …"; the state follows the last ')'.
    const statLine = await readFile(`/proc/${pid}/stat`, 'utf8');
    if (statLine.slice(statLine.lastIndexOf(')') + 2).startsWith('Z')) return false;
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    return argv.some((a) => a.endsWith('nvmf-target.js')) && argv.includes(subnqn);
  } catch {
    // No /proc (not Linux): the signal probe above is all there is.
    return true;
  }
}

/** True when something accepts TCP connections at the node's address. */
export function isListening(addr: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: addr, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

async function tail(file: string, from: number): Promise<string> {
  try {
    const text = (await readFile(file)).subarray(from).toString('utf8');
    return text.trim().split('\n').slice(-LOG_TAIL_LINES).join('\n');
  } catch {
    return '';
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/**
 * Starts the node's nvmf-target and waits for its `listening on HOST:PORT` line; resolves to the
 * pid and the port it listens on (the real one when the node was given port 0).
 */
export async function startNodeProcess(
  farmFile: string,
  farm: FarmDescription,
  node: FarmNode,
): Promise<{ pid: number; port: number }> {
  const logFile = resolveFarmPath(farmFile, node.log);
  await mkdir(dirname(logFile), { recursive: true });
  await mkdir(dirname(resolveFarmPath(farmFile, node.file)), { recursive: true });
  const from = await fileSize(logFile);
  const fd = openSync(logFile, 'a');
  let child;
  try {
    child = spawn(
      process.execPath,
      [...DATA_PATH_NODE_FLAGS, ...targetArgs(farmFile, farm, node)],
      {
        detached: true,
        env: dataPathEnv(),
        stdio: ['ignore', fd, fd],
      },
    );
  } finally {
    closeSync(fd);
  }
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = signal ? `was killed by ${signal}` : `exited with status ${code}`;
  });
  child.once('error', (err) => {
    exited = `could not be started: ${err.message}`;
  });
  child.unref();
  const pid = child.pid;
  const deadline = Date.now() + NODE_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const text = (await readFile(logFile).catch(() => Buffer.alloc(0))).subarray(from).toString();
    const m = LISTENING_RE.exec(text);
    if (m && pid !== undefined) return { pid, port: Number(m[2]) };
    if (exited !== undefined || pid === undefined) {
      const last = await tail(logFile, from);
      throw new FarmError(
        `${node.name}: nvmf-target ${exited ?? 'did not start'}${last ? `; its log ends:\n${last}` : ''}`,
      );
    }
    await sleep(POLL_MS);
  }
  child.kill('SIGKILL');
  throw new FarmError(
    `${node.name}: nvmf-target printed no "listening on" line within ${NODE_START_TIMEOUT_MS / 1000} s; see ${logFile}`,
  );
}

/** Stops a node: SIGTERM (the target closes its queues and flushes), SIGKILL if it lingers. */
export async function stopNodeProcess(
  node: FarmNode,
  opts: { kill?: boolean } = {},
): Promise<void> {
  const pid = node.pid;
  if (pid === null || !(await isNodeProcess(pid, node.subnqn))) return;
  process.kill(pid, opts.kill ? 'SIGKILL' : 'SIGTERM');
  const deadline = Date.now() + NODE_STOP_TIMEOUT_MS;
  while (await isNodeProcess(pid, node.subnqn)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      await sleep(POLL_MS);
      if (!(await isNodeProcess(pid, node.subnqn))) return;
      throw new FarmError(`${node.name}: pid ${pid} did not exit after SIGKILL`);
    }
    await sleep(POLL_MS);
  }
}

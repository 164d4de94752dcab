/**
 * The DPU's moving parts as the suites drive them: a farm (`nvmf-farm` on ephemeral ports so that
 * suites cannot collide), standalone `nvmf-target` processes, and `nvmf-dpu` serving NBD on an
 * ephemeral port. nvmf-dpu's stderr is pino JSON when not on a TTY; `logs()` parses it.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Test } from 'tap';
import { DATA_PATH_NODE_FLAGS, dataPathEnv } from '../../../../src/cli/node-flags.js';
import {
  Child,
  CI,
  bin,
  isBuilt,
  killIfRunning,
  missingTools,
  onExitSync,
  runBin,
  tempDir,
  type RunResult,
} from './processes.js';

export interface FarmNodeInfo {
  name: string;
  addr: string;
  port: number;
  subnqn: string;
  pid: number | null;
  nsid: number;
  file: string;
}

export interface FarmInfo {
  size: number;
  blockSize: number;
  nodes: FarmNodeInfo[];
}

/**
 * Fails (under CI) or skips (elsewhere) a suite whose tools or build are missing; returns false
 * when the suite must not run.
 */
export function preflight(t: Test, tools: readonly string[]): boolean {
  const missing = missingTools(tools);
  const problems = [
    ...(missing.length
      ? [`missing tools: ${missing.join(', ')} (node tools/ensure-tools.mjs)`]
      : []),
    ...(isBuilt() ? [] : ['dist/ is not built (npm run build)']),
  ];
  if (problems.length === 0) return true;
  if (CI) t.fail(problems.join('; '));
  else t.pass(problems.join('; '), { skip: problems.join('; ') });
  return false;
}

export async function farm(dir: string, ...args: string[]): Promise<RunResult> {
  return runBin('nvmf-farm', [...args, '--dir', dir]);
}

/** Kills every node recorded in DIR/farm.json, synchronously (the exit-time safety net). */
function killFarmSync(dir: string): void {
  const info = JSON.parse(readFileSync(join(dir, 'farm.json'), 'utf8')) as FarmInfo;
  for (const n of info.nodes) if (n.pid !== null) killIfRunning(n.pid, n.subnqn);
}

const guardedFarms = new Set<string>();

/** `nvmf-farm up` on ephemeral ports; throws with its output when it fails. */
export async function farmUp(dir: string, nodes: number, size: string): Promise<FarmInfo> {
  if (!guardedFarms.has(dir)) {
    guardedFarms.add(dir);
    onExitSync(() => killFarmSync(dir));
  }
  const res = await farm(dir, 'up', '--nodes', String(nodes), '--size', size, '--base-port', '0');
  if (res.code !== 0)
    throw new Error(`nvmf-farm up failed (${res.code}): ${res.stderr}${res.stdout}`);
  return readFarm(dir);
}

export async function readFarm(dir: string): Promise<FarmInfo> {
  return JSON.parse(await readFile(join(dir, 'farm.json'), 'utf8')) as FarmInfo;
}

export const nodeUri = (n: FarmNodeInfo) => `tcp://${n.addr}:${n.port}/${n.subnqn}`;

/** A standalone nvmf-target on an ephemeral loopback port. */
export async function startTarget(
  nqn: string,
  ns: string[],
): Promise<{ child: Child; port: number; uri: string }> {
  const args = [
    ...DATA_PATH_NODE_FLAGS,
    bin('nvmf-target'),
    '--listen',
    '127.0.0.1:0',
    '--nqn',
    nqn,
    '--allow-any-host',
  ];
  for (const spec of ns) args.push('--ns', spec);
  const child = Child.spawn(process.execPath, args, dataPathEnv());
  const m = await child.waitForStdout(/listening on (\S+):(\d+)/);
  const port = Number(m[2]);
  return { child, port, uri: `tcp://127.0.0.1:${port}/${nqn}` };
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** The pino JSON lines a child wrote to stderr so far. */
export function logLines(child: Child): LogLine[] {
  const out: LogLine[] = [];
  for (const line of child.stderrLines) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      // not a log line
    }
  }
  return out;
}

export class Dpu {
  constructor(
    readonly child: Child,
    readonly uri: string,
    readonly port: number,
  ) {}

  /** Starts nvmf-dpu with `args` plus an ephemeral NBD port; resolves when it prints its URI. */
  static async start(args: readonly string[]): Promise<Dpu> {
    const child = Child.spawn(
      process.execPath,
      [...DATA_PATH_NODE_FLAGS, bin('nvmf-dpu'), '--nbd-listen', '127.0.0.1:0', ...args],
      dataPathEnv(),
    );
    try {
      const m = await child.waitForStdout(/^(nbd:\/\/[^:]+:(\d+)\/\S+)$/);
      return new Dpu(child, m[1], Number(m[2]));
    } catch (err) {
      await child.stop('SIGKILL');
      throw err;
    }
  }

  /** nvmf-dpu's pino lines so far. */
  logs(): LogLine[] {
    return logLines(this.child);
  }

  /** Waits for a log line for which `pick` returns a value. */
  waitForLog<T>(what: string, pick: (l: LogLine) => T | undefined, timeoutMs?: number): Promise<T> {
    return this.child.waitFor(
      what,
      () => {
        for (const l of this.logs()) {
          const v = pick(l);
          if (v !== undefined) return v;
        }
        return undefined;
      },
      timeoutMs,
    );
  }

  /** SIGTERM and wait: the DPU closes its sessions, flushes and disconnects, then exits. */
  stop() {
    return this.child.stop('SIGTERM');
  }
}

export interface DpuOnFarm {
  dir: Awaited<ReturnType<typeof tempDir>>;
  farmDir: string;
  farmInfo: FarmInfo;
  dpu: Dpu;
}

/**
 * The suites' common setup: a temp dir, a farm of `nodes` × `nodeSize` in DIR/farm, and nvmf-dpu
 * over its farm.json with `layoutArgs` (plus `--state-dir DIR/dpu` when `stateDir` is set, for a
 * mirror's write-intent bitmap). All three are torn down with `t`.
 */
export async function dpuOnFarm(
  t: Test,
  prefix: string,
  o: { nodes: number; nodeSize: string; layoutArgs: readonly string[]; stateDir?: boolean },
): Promise<DpuOnFarm> {
  const dir = await tempDir(prefix);
  t.teardown(() => dir.remove());
  const farmDir = join(dir.path, 'farm');
  const farmInfo = await farmUp(farmDir, o.nodes, o.nodeSize);
  t.teardown(() => farm(farmDir, 'down'));
  const dpu = await Dpu.start([
    '--farm',
    join(farmDir, 'farm.json'),
    ...o.layoutArgs,
    ...(o.stateDir ? ['--state-dir', join(dir.path, 'dpu')] : []),
  ]);
  t.teardown(() => dpu.stop());
  return { dir, farmDir, farmInfo, dpu };
}

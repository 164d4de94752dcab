/**
 * Process-level helpers for the nvmf-bench end-to-end suites: nvmf-bench runs from bin/ (the
 * built dist/), third-party tools (fio, nbdkit, qemu-io, fio's scripts) from PATH. A missing tool
 * skips a suite locally and fails it under CI=true.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { CI, ROOT, missingTools, run as runCommand, type RunResult } from '../../support/run.js';

export { CI, ROOT, missingTools, type RunResult } from '../../support/run.js';
export const BENCH_BIN = join(ROOT, 'bin', 'nvmf-bench.js');
const READY_TIMEOUT_MS = 30_000;
const POLL_MS = 50;

/** Runs a command to completion in ROOT with `env`; never throws on a non-zero exit. */
export const run = (
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunResult> => runCommand(cmd, args, { env });

/** Runs the built nvmf-bench with this Node. */
export const runBench = (args: readonly string[], env?: NodeJS.ProcessEnv) =>
  run(process.execPath, [BENCH_BIN, ...args], env);

/** True when the suite can run; otherwise skips (locally) or fails (CI=true) with the reason. */
export function preflight(t: Test, tools: readonly string[]): boolean {
  const missing = missingTools(tools);
  const problems = [
    ...(missing.length
      ? [`missing tools: ${missing.join(', ')} (node tools/ensure-tools.mjs)`]
      : []),
    ...(existsSync(join(ROOT, 'dist', 'cli', 'nvmf-bench.js'))
      ? []
      : ['dist/ is not built (npm run build)']),
  ];
  if (problems.length === 0) return true;
  if (CI) t.fail(problems.join('; '));
  else t.pass(problems.join('; '), { skip: problems.join('; ') });
  return false;
}

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `nvmf-bench-e2e-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A TCP port free right now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface NbdkitServer {
  uri: string;
  port: number;
  stop(): Promise<void>;
}

/** `nbdkit -f -p PORT memory SIZE` on loopback; ready when its pid file appears. */
export async function startNbdkit(size: string, dir: string): Promise<NbdkitServer> {
  const port = await freePort();
  const pidFile = join(dir, `nbdkit-${port}.pid`);
  const child: ChildProcess = spawn(
    'nbdkit',
    [
      '-f',
      '--exit-with-parent',
      '-i',
      '127.0.0.1',
      '-p',
      String(port),
      '-P',
      pidFile,
      'memory',
      size,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!existsSync(pidFile)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nbdkit did not start on port ${port}: ${stderr}`);
    }
    await sleep(POLL_MS);
  }
  return {
    uri: `nbd://127.0.0.1:${port}`,
    port,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * The common start of a test against `nbdkit memory SIZE`: the tools checked (preflight), a
 * temporary directory and the server, both removed when the test ends. Undefined when the test
 * cannot run (preflight has said why).
 */
export async function nbdkitRig(
  t: Test,
  name: string,
  size: string,
  tools: readonly string[],
): Promise<{ dir: string; server: NbdkitServer } | undefined> {
  if (!preflight(t, tools)) return undefined;
  const dir = await tempDir(name);
  t.teardown(() => dir.remove());
  const server = await startNbdkit(size, dir.path);
  t.teardown(() => server.stop());
  return { dir: dir.path, server };
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export async function readJson(path: string): Promise<any> {
  return JSON.parse(await readFile(path, 'utf8'));
}

/** fio's compressed helper scripts (Debian ships fiologparser.py only gzipped). */
export const FIO_DOC = '/usr/share/doc/fio';

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

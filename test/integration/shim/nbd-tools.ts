/**
 * Running the real NBD tools of ../shared/REAL-CLIENTS.md from the NBD shim's integration tests.
 * A missing tool skips the suite on a developer machine, and fails it under CI=true (the tools
 * are part of the test environment, installed by `node tools/ensure-tools.mjs`).
 */
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { expect } from 'vitest';

export const CI = process.env.CI === 'true' || process.env.CI === '1';

export const hasTool = (cmd: string): boolean =>
  spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** True when the suite should run; under CI a missing tool is a failing assertion instead. */
export function toolsAvailable(...cmds: string[]): boolean {
  const missing = cmds.filter((c) => !hasTool(c));
  return missing.length === 0 || CI;
}

/** Asserts the tools exist (the first test of each suite, so CI reports what is missing). */
export function expectTools(...cmds: string[]): void {
  expect(
    cmds.filter((c) => !hasTool(c)),
    'missing tools (run node tools/ensure-tools.mjs)',
  ).toEqual([]);
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion without blocking the event loop (the server runs in-process). */
export function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a tool and expects exit 0, showing its output when it fails. */
export async function runOk(cmd: string, args: string[], timeoutMs?: number): Promise<string> {
  const r = await run(cmd, args, timeoutMs);
  expect(r.code, `${cmd} ${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** A free TCP port on loopback (for nbdkit, which needs one before it starts). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Waits until something accepts TCP connections on the port. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

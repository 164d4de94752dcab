/**
 * Process-level helpers for the DPU end-to-end suites: the project's commands are started from
 * bin/*.js (the built dist/), third-party tools from PATH. Everything a suite starts is tracked so
 * that its teardown can stop it even when an assertion failed half-way.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, run } from '../../support/run.js';

export { CI, ROOT, missingTools, run, type RunResult } from '../../support/run.js';
export { Child, READY_TIMEOUT_MS, onExitSync, sleep } from '../../support/child.js';

export const bin = (name: string) => join(ROOT, 'bin', `${name}.js`);

/** Runs one of the project's commands (bin/NAME.js) with this Node. */
export const runBin = (name: string, args: readonly string[]) =>
  run(process.execPath, [bin(name), ...args]);

/** True when the built entry points exist (`npm test` builds before tap runs). */
export const isBuilt = () =>
  ['nvmf-dpu', 'nvmf-farm', 'nvmf-target', 'nvmf-ctl'].every((n) =>
    existsSync(join(ROOT, 'dist', 'cli', `${n}.js`)),
  );

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `nvmf-dpu-e2e-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** SIGKILLs `pid` only if it still runs a command line containing `marker` (pids get reused). */
export function killIfRunning(pid: number, marker: string): void {
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) return;
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

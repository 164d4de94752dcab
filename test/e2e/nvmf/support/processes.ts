/**
 * Processes for the nvmf end-to-end suites: `nvmf-target` and `nvmf-ctl` from bin/ (the built
 * dist/), tshark from PATH. Every long-running child is stopped in teardown, also after a failed
 * assertion.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { DATA_PATH_NODE_FLAGS, dataPathEnv } from '../../../../src/cli/node-flags.js';
import { Child } from '../../support/child.js';
import { ROOT, run, type RunResult } from '../../support/run.js';

export { CI, ROOT, missingTools, run, type RunResult } from '../../support/run.js';
export { Child, READY_TIMEOUT_MS } from '../../support/child.js';

export const bin = (name: string): string => join(ROOT, 'bin', `${name}.js`);

/** `nvmf-ctl ARGS` with this Node. */
export const nvmfCtl = (args: readonly string[]): Promise<RunResult> =>
  run(process.execPath, [bin('nvmf-ctl'), ...args]);

/** The built entry points exist (`npm test` builds before tap runs). */
export const isBuilt = (): boolean =>
  ['nvmf-target', 'nvmf-ctl'].every((n) => existsSync(join(ROOT, 'dist', 'cli', `${n}.js`)));

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `nvmf-e2e-${prefix}-`));
  // NVMF_E2E_KEEP=1 keeps the files (captures, logs) for a look after a failure.
  const keep = process.env.NVMF_E2E_KEEP === '1';
  return {
    path,
    remove: async () => (keep ? undefined : rm(path, { recursive: true, force: true })),
  };
}

/** `nvmf-target ARGS` on 127.0.0.1 port 0; resolves once it printed `listening on HOST:PORT`. */
export async function startNvmfTarget(
  args: readonly string[],
): Promise<{ child: Child; port: number }> {
  const child = Child.spawn(
    process.execPath,
    [
      ...DATA_PATH_NODE_FLAGS,
      bin('nvmf-target'),
      '--listen',
      '127.0.0.1:0',
      '--log-level',
      'warn',
      ...args,
    ],
    dataPathEnv(),
  );
  const m = await child.waitForLine(/^listening on 127\.0\.0\.1:(\d+)$/);
  return { child, port: Number(m[1]) };
}

/**
 * The suites' open target: subsystem `nqn` with a 64 MiB namespace of 512-byte blocks (nsid 1)
 * and a 16 MiB one of 4 KiB blocks (nsid 2), any host allowed; stopped in `t`'s teardown.
 */
export async function startOpenTarget(
  t: Test,
  nqn: string,
): Promise<{ child: Child; port: number; uri: string }> {
  const target = await startNvmfTarget([
    '--nqn',
    nqn,
    '--ns',
    'mem:64MiB',
    '--ns',
    'mem:16MiB:4096',
    '--allow-any-host',
  ]);
  t.teardown(() => target.child.stop());
  return { ...target, uri: `tcp://127.0.0.1:${target.port}/${nqn}` };
}

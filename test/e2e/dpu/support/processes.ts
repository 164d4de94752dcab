/**
 * Process-level helpers for the DPU end-to-end suites: the project's commands are started from
 * bin/*.js (the built dist/), third-party tools from PATH. Everything a suite starts is tracked so
 * that its teardown can stop it even when an assertion failed half-way.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const bin = (name: string) => join(ROOT, 'bin', `${name}.js`);

export const CI = process.env.CI === 'true' || process.env.CI === '1';

/** Bound on waiting for a process to print its ready line (2 busy cores: be generous). */
export const READY_TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export { sleep };

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, capturing its output; never throws on a non-zero exit. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? ROOT,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (opts.input !== undefined) {
      // A command that exits without reading its input must not crash the suite with EPIPE.
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(opts.input);
    }
  });
}

/** Runs one of the project's commands (bin/NAME.js) with this Node. */
export const runBin = (name: string, args: readonly string[]) =>
  run(process.execPath, [bin(name), ...args]);

/** The tools a suite needs that are not on PATH. */
export function missingTools(tools: readonly string[]): string[] {
  return tools.filter(
    (t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0,
  );
}

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

/** A long-running child whose stdout lines and stderr lines are kept for assertions. */
export class Child {
  readonly stdoutLines: string[] = [];
  readonly stderrLines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(readonly proc: ChildProcess) {
    createInterface({ input: proc.stdout! }).on('line', (l) => this.push(this.stdoutLines, l));
    createInterface({ input: proc.stderr! }).on('line', (l) => this.push(this.stderrLines, l));
    onExitSync(() => {
      if (this.running) proc.kill('SIGKILL');
    });
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        this.notify();
        resolve(this.exitInfo);
      });
    });
  }

  static spawn(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Child {
    return new Child(
      spawn(cmd, args, { cwd: ROOT, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] }),
    );
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  private push(lines: string[], line: string): void {
    lines.push(line);
    this.notify();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /**
   * Waits until `pick` returns a value from the output so far (re-checked on every new line);
   * rejects when the process exits first or after `timeoutMs`, quoting its last stderr lines.
   */
  waitFor<T>(what: string, pick: () => T | undefined, timeoutMs = READY_TIMEOUT_MS): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = pick();
        if (value !== undefined) return finish(() => resolve(value));
        if (this.exitInfo) {
          return finish(() =>
            reject(
              new Error(
                `process exited (${JSON.stringify(this.exitInfo)}) before ${what}${this.tail()}`,
              ),
            ),
          );
        }
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`timed out waiting for ${what}${this.tail()}`))),
        timeoutMs,
      );
      const finish = (f: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        f();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Waits for a stdout line matching `re`; resolves to its match. */
  waitForStdout(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray> {
    let seen = 0;
    return this.waitFor(
      `a line matching ${re}`,
      () => {
        for (; seen < this.stdoutLines.length; seen++) {
          const m = re.exec(this.stdoutLines[seen]);
          if (m) return m;
        }
        return undefined;
      },
      timeoutMs,
    );
  }

  tail(lines = 15): string {
    const last = this.stderrLines.slice(-lines).join('\n');
    return last ? `; last stderr lines:\n${last}` : '';
  }

  /** Sends `signal` and waits for the exit; SIGKILL after `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000) {
    if (this.running) {
      this.proc.kill(signal);
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exited;
  }
}

/**
 * Last-resort cleanup that runs even when a suite dies before its teardown (an uncaught error):
 * synchronous actions run at process exit, newest first. Teardowns still do the orderly work.
 */
const exitActions: (() => void)[] = [];
process.on('exit', () => {
  for (const action of exitActions.splice(0).reverse()) {
    try {
      action();
    } catch {
      // best effort
    }
  }
});

export function onExitSync(action: () => void): void {
  exitActions.push(action);
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

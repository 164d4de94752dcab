/**
 * Processes for the nvmf end-to-end suites: `nvmf-target` and `nvmf-ctl` from bin/ (the built
 * dist/), tshark from PATH. Every long-running child is stopped in teardown, also after a failed
 * assertion.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const bin = (name: string): string => join(ROOT, 'bin', `${name}.js`);
export const CI = process.env.CI === 'true' || process.env.CI === '1';
/** Bound on a child printing its ready line (two busy cores: generous). */
export const READY_TIMEOUT_MS = 60_000;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion and captures its output; never throws on a non-zero exit. */
export function run(cmd: string, args: readonly string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `nvmf-ctl ARGS` with this Node. */
export const nvmfCtl = (args: readonly string[]): Promise<RunResult> =>
  run(process.execPath, [bin('nvmf-ctl'), ...args]);

export const missingTools = (tools: readonly string[]): string[] =>
  tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0);

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

/** A long-running child; its output lines are kept and can be waited for. */
export class Child {
  readonly stdoutLines: string[] = [];
  readonly stderrLines: string[] = [];
  readonly exited: Promise<number | null>;
  private done = false;
  private readonly waiters = new Set<() => void>();

  constructor(readonly proc: ChildProcess) {
    createInterface({ input: proc.stdout! }).on('line', (l) => this.push(this.stdoutLines, l));
    createInterface({ input: proc.stderr! }).on('line', (l) => this.push(this.stderrLines, l));
    this.exited = new Promise((resolve) =>
      proc.on('exit', (code) => {
        this.done = true;
        this.notify();
        resolve(code);
      }),
    );
  }

  static spawn(cmd: string, args: readonly string[]): Child {
    return new Child(spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  private push(lines: string[], line: string): void {
    lines.push(line);
    this.notify();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves with the first match of `re` in stdout or stderr (as `stream` says). */
  waitForLine(re: RegExp, stream: 'stdout' | 'stderr' = 'stdout'): Promise<RegExpExecArray> {
    const lines = stream === 'stdout' ? this.stdoutLines : this.stderrLines;
    return new Promise((resolve, reject) => {
      const check = () => {
        for (const l of lines) {
          const m = re.exec(l);
          if (m) return finish(() => resolve(m));
        }
        if (this.done)
          finish(() => reject(new Error(`exited before printing ${re}${this.tail()}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`no line matching ${re} in time${this.tail()}`))),
        READY_TIMEOUT_MS,
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

  tail(): string {
    const last = this.stderrLines.slice(-10).join('\n');
    return last ? `; last stderr lines:\n${last}` : '';
  }

  /** Sends `signal`, waits for the exit (SIGKILL after 20 s). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (!this.done) {
      this.proc.kill(signal);
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 20_000);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exited;
  }
}

/** `nvmf-target ARGS` on 127.0.0.1 port 0; resolves once it printed `listening on HOST:PORT`. */
export async function startNvmfTarget(
  args: readonly string[],
): Promise<{ child: Child; port: number }> {
  const child = Child.spawn(process.execPath, [
    bin('nvmf-target'),
    '--listen',
    '127.0.0.1:0',
    '--log-level',
    'warn',
    ...args,
  ]);
  const m = await child.waitForLine(/^listening on 127\.0\.0\.1:(\d+)$/);
  return { child, port: Number(m[1]) };
}

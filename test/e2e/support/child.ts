/**
 * Long-running children for every end-to-end suite: output kept line by line for assertions and
 * waits, and an exit-time safety net so that nothing a suite started outlives it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ROOT } from './run.js';

/** Bound on waiting for a process to print its ready line (2 busy cores: be generous). */
export const READY_TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export { sleep };

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

  /** Waits for a line of `stream` matching `re`; resolves to its match. */
  waitForLine(
    re: RegExp,
    stream: 'stdout' | 'stderr' = 'stdout',
    timeoutMs?: number,
  ): Promise<RegExpExecArray> {
    const lines = stream === 'stdout' ? this.stdoutLines : this.stderrLines;
    let seen = 0;
    return this.waitFor(
      `a line matching ${re}`,
      () => {
        for (; seen < lines.length; seen++) {
          const m = re.exec(lines[seen]);
          if (m) return m;
        }
        return undefined;
      },
      timeoutMs,
    );
  }

  /** Waits for a stdout line matching `re`; resolves to its match. */
  waitForStdout(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray> {
    return this.waitForLine(re, 'stdout', timeoutMs);
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

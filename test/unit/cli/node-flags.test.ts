import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import {
  DATA_PATH_ENV,
  DATA_PATH_NODE_FLAGS,
  DATA_PATH_SHEBANG,
} from '../../../src/cli/node-flags.js';

const binFile = (name: string) =>
  fileURLToPath(new URL(`../../../bin/${name}.js`, import.meta.url));
const DATA_PATH_COMMANDS = ['nvmf-target', 'nvmf-dpu'];

/** The command line the kernel shows for `pid`, split at its NULs. */
const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');

describe('data-path Node flags', () => {
  it.each(DATA_PATH_COMMANDS)('bin/%s.js carries them on its #! line', (name) => {
    const first = readFileSync(binFile(name), 'utf8').split('\n')[0];
    expect(first).toBe(DATA_PATH_SHEBANG);
    for (const flag of DATA_PATH_NODE_FLAGS) expect(first).toContain(flag);
  });

  it.runIf(process.platform === 'linux')(
    'run as a program, nvmf-target is node with the flags and the malloc settings',
    async () => {
      // Executed directly, as npm's bin links and a shell run it: the kernel reads the #! line.
      const child = spawn(binFile('nvmf-target'), [
        '--listen',
        '127.0.0.1:0',
        '--nqn',
        'nqn.2026-11.io.nvmf-dpu:node-flags',
        '--ns',
        'null:1MiB',
        '--allow-any-host',
      ]);
      try {
        const lines = createInterface({ input: child.stdout });
        for await (const line of lines) if (line.startsWith('listening on')) break;
        const argv = cmdline(child.pid ?? 0);
        expect(argv.slice(1, 1 + DATA_PATH_NODE_FLAGS.length)).toEqual([...DATA_PATH_NODE_FLAGS]);
        expect(argv[1 + DATA_PATH_NODE_FLAGS.length]).toBe(binFile('nvmf-target'));
        const environ = readFileSync(`/proc/${child.pid ?? 0}/environ`, 'utf8').split('\0');
        for (const [name, value] of Object.entries(DATA_PATH_ENV)) {
          expect(environ).toContain(`${name}=${value}`);
        }
      } finally {
        child.kill('SIGTERM');
      }
    },
  );
});

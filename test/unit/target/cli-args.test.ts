import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommandLine, parseListen, UsageError } from '../../../src/cli/nvmf-target-args.js';
import { HOST_A, HOST_B } from './support/harness.js';

const NQN = 'nqn.2024-01.io.nvmf-dpu:cli';

describe('nvmf-target command line', () => {
  it('builds the configuration of the documented form', async () => {
    const inv = await parseCommandLine([
      '--listen',
      '127.0.0.1:4420',
      '--nqn',
      NQN,
      '--ns',
      'mem:64MiB:4096',
      '--ns',
      'file:/tmp/a.img:1GiB',
      '--allow-host',
      HOST_A,
      '--allow-host',
      HOST_B,
    ]);
    if (inv === 'help') throw new Error('unexpected help');
    expect(inv.config).toEqual({
      listeners: [{ host: '127.0.0.1', port: 4420 }],
      subsystems: [
        {
          nqn: NQN,
          allowAnyHost: false,
          allowedHosts: [HOST_A, HOST_B],
          namespaces: [{ bdev: 'mem:64MiB:4096' }, { bdev: 'file:/tmp/a.img:1GiB' }],
        },
      ],
    });
    expect(inv.logLevel).toBe('info');
  });

  it('adds --discovery-listen as one more listener and reads IPv6 addresses', async () => {
    const inv = await parseCommandLine([
      '--listen',
      '[::1]:4420',
      '--discovery-listen',
      '127.0.0.1:8009',
      '--nqn',
      NQN,
      '--ns',
      'null:1GiB',
      '--allow-any-host',
    ]);
    if (inv === 'help') throw new Error('unexpected help');
    expect(inv.config.listeners).toEqual([
      { host: '::1', port: 4420 },
      { host: '127.0.0.1', port: 8009 },
    ]);
  });

  it('refuses bad flags with one sentence', async () => {
    const bad = (args: string[]) => parseCommandLine(args);
    await expect(bad(['--nqn', NQN, '--ns', 'mem:1MiB'])).rejects.toThrow(
      /--allow-any-host or one or more --allow-host/,
    );
    await expect(
      bad(['--nqn', NQN, '--ns', 'mem:1MiB', '--allow-any-host', '--allow-host', HOST_A]),
    ).rejects.toThrow(UsageError);
    await expect(bad(['--nqn', 'nope', '--ns', 'mem:1MiB', '--allow-any-host'])).rejects.toThrow(
      /--nqn: NQN "nope"/,
    );
    await expect(bad(['--nqn', NQN, '--ns', 'disk:1MiB', '--allow-any-host'])).rejects.toThrow(
      /--ns: bdev spec/,
    );
    await expect(bad(['--nqn', NQN, '--allow-any-host'])).rejects.toThrow(/--ns/);
    await expect(bad(['--frobnicate'])).rejects.toThrow(UsageError);
    await expect(bad(['--log-level', 'loud', '--nqn', NQN])).rejects.toThrow(/--log-level "loud"/);
    expect(() => parseListen('localhost')).toThrow(/HOST:PORT/);
    expect(() => parseListen('1.2.3.4:99999')).toThrow(/HOST:PORT/);
  });

  it('reads --config, lets --listen replace its listeners, and refuses subsystem flags beside it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nvmf-target-cli-'));
    try {
      const file = join(dir, 'c.json');
      await writeFile(
        file,
        JSON.stringify({
          listeners: [{ host: '0.0.0.0', port: 4420 }],
          subsystems: [{ nqn: NQN, allowAnyHost: true }],
        }),
      );
      const inv = await parseCommandLine([
        '--config',
        file,
        '--listen',
        '127.0.0.1:0',
        '--save-config',
        join(dir, 's.json'),
      ]);
      if (inv === 'help') throw new Error('unexpected help');
      expect(inv.config.listeners).toEqual([{ host: '127.0.0.1', port: 0 }]);
      expect(inv.saveTo).toBe(join(dir, 's.json'));
      await expect(parseCommandLine(['--config', file, '--nqn', NQN])).rejects.toThrow(
        /--nqn cannot be combined/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers --help', async () => {
    expect(await parseCommandLine(['--help'])).toBe('help');
  });
});

/**
 * nvmf-dpu's command line and config file share one schema: flags and file keys give the same
 * config, flags override the file, and every mistake is refused with one sentence naming it.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDpuCommandLine } from '../../../src/cli/dpu-flags.js';
import { ConfigError } from '../../../src/dpu/schema-check.js';

const A = 'tcp://127.0.0.1:4420/nqn.2024-01.io.example:a';
const B = 'tcp://127.0.0.1:4421/nqn.2024-01.io.example:b';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dpu-flags-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function refused(argv: string[]): Promise<string> {
  const err = await parseDpuCommandLine(argv).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  const message = (err as Error).message;
  expect(message).not.toContain('\n');
  return message;
}

describe('nvmf-dpu flags', () => {
  it('builds a config from repeatable --connect and the layout flags', async () => {
    const cmd = await parseDpuCommandLine([
      '--connect',
      A,
      '--connect',
      B,
      '--layout',
      'stripe',
      '--stripe-size',
      '128KiB',
      '--nbd-listen',
      '127.0.0.1:10900',
      '--reconnect-delay-ms',
      '100',
    ]);
    expect(cmd.config).toEqual({
      connect: [A, B],
      layout: 'stripe',
      stripeSize: '128KiB',
      nbdListen: '127.0.0.1:10900',
      reconnectDelayMs: 100,
    });
  });

  it('defaults the layout to single for one leg and mirror for several', async () => {
    expect((await parseDpuCommandLine(['--connect', A])).config?.layout).toBe('single');
    expect((await parseDpuCommandLine(['--connect', A, '--connect', B])).config?.layout).toBe(
      'mirror',
    );
  });

  it('makes paths absolute and keeps the mirror bitmap next to the farm unless --state-dir says otherwise', async () => {
    const farm = join(dir, 'farm', 'farm.json');
    expect((await parseDpuCommandLine(['--farm', farm])).config?.stateDir).toBe(
      join(dir, 'farm', 'dpu'),
    );
    const relative = await parseDpuCommandLine(['--farm', 'rel/farm.json']);
    expect(relative.config).toMatchObject({
      farm: resolve('rel/farm.json'),
      stateDir: resolve('rel/dpu'),
    });
    const explicit = await parseDpuCommandLine(['--farm', farm, '--state-dir', '/var/x']);
    expect(explicit.config?.stateDir).toBe('/var/x');
  });

  it('reads --config, resolves its paths against its folder, and lets flags override it', async () => {
    const file = join(dir, 'dpu.json');
    await writeFile(
      file,
      JSON.stringify({
        farm: 'f/farm.json',
        layout: 'mirror',
        stateDir: 'state',
        logLevel: 'warn',
      }),
    );
    const fromFile = await parseDpuCommandLine(['--config', file]);
    expect(fromFile.config).toEqual({
      farm: join(dir, 'f/farm.json'),
      layout: 'mirror',
      stateDir: join(dir, 'state'),
      logLevel: 'warn',
    });
    const overridden = await parseDpuCommandLine([
      '--config',
      file,
      '--connect',
      A,
      '--layout',
      'single',
    ]);
    expect(overridden.config).toEqual({
      connect: [A],
      layout: 'single',
      stateDir: join(dir, 'state'),
      logLevel: 'warn',
    });
  });

  it('refuses mistakes with one sentence naming the value', async () => {
    expect(await refused(['--connect', A, '--layout', 'raid5'])).toBe(
      '--layout "raid5" is not one of single, concat, stripe, mirror',
    );
    expect(await refused(['--layout', 'mirror'])).toMatch(/names no storage/);
    expect(await refused(['--connect', A, '--farm', 'x/farm.json'])).toMatch(/exactly one/);
    expect(await refused(['--connect', A, '--connect', B, '--layout', 'single'])).toMatch(
      /single takes one leg/,
    );
    expect(await refused(['--connect', A, '--layout', 'mirror'])).toMatch(/at least two legs/);
    expect(await refused(['--connect', A, '--connect', B, '--stripe-size', '64KiB'])).toMatch(
      /stripe size applies only/,
    );
    expect(await refused(['--connect', A, '--nbd-listen', 'localhost'])).toMatch(
      /--nbd-listen "localhost" is not HOST:PORT/,
    );
    expect(await refused(['--connect', A, '--nbd-listen', '127.0.0.1:70000'])).toMatch(/HOST:PORT/);
    expect(await refused(['--connect', A, '--reconnect-delay-ms', 'soon'])).toMatch(
      /--reconnect-delay-ms "soon" is not a whole number/,
    );
    expect(await refused(['--connect', A, '--frobnicate'])).toBe(
      'unknown option --frobnicate; nvmf-dpu --help lists the options',
    );
    expect(await refused(['--connect', A, 'extra'])).toMatch(/no positional argument \("extra"\)/);
    expect(await refused(['--connect', A, '--log-level', 'loud'])).toMatch(
      /--log-level "loud" is not one of silent/,
    );
    expect(await refused(['--connect', 'x'])).toMatch(/--connect: "x" is not a transport ID/);
    expect(await refused(['--connect', A, '--layout', 'stripe', '--stripe-size', 'lots'])).toBe(
      '--stripe-size "lots" is not a size in bytes, such as 65536 or 64KiB',
    );
    expect(await refused(['--connect'])).toMatch(/--connect/);
    expect(await refused(['--config', join(dir, 'missing.json')])).toMatch(/missing\.json/);
  });

  it('names the key of a config file that does not match the schema', async () => {
    const file = join(dir, 'wrong.json');
    await writeFile(file, JSON.stringify({ farm: 'f.json', layout: 'mirror', stripes: 3 }));
    expect(await refused(['--config', file])).toMatch(
      new RegExp(`^--config ${file}: /stripes is not a known key; known keys: connect, discover`),
    );
    await writeFile(file, JSON.stringify({ farm: 'f.json', layout: 'raid0' }));
    expect(await refused(['--config', file])).toBe(
      `--config ${file}: /layout "raid0" is not one of single, concat, stripe, mirror`,
    );
  });

  it('answers --help without a config', async () => {
    expect(await parseDpuCommandLine(['--help'])).toEqual({ help: true });
  });
});

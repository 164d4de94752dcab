/**
 * The TypeBox configuration: defaults, one-sentence errors, bdev objects, a target started from
 * it, and identifiers that survive a restart when the saved configuration is reused.
 */
import { describe, expect, it, afterEach } from 'vitest';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  parseTargetConfig,
  bdevSpecOf,
  startTargetFromConfig,
  saveTargetConfig,
  loadTargetConfig,
  TargetConfigError,
  type TargetConfig,
} from '../../../src/target/config.js';
import { silent } from './support/harness.js';

const NQN = 'nqn.2024-01.io.nvmf-dpu:cfg';

describe('target configuration', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('fills defaults and accepts both bdev forms', () => {
    const cfg = parseTargetConfig({
      listeners: [{ host: '127.0.0.1', port: 4420 }],
      subsystems: [
        {
          nqn: NQN,
          namespaces: [
            { bdev: 'mem:1MiB' },
            { bdev: { type: 'file', path: '/tmp/x:y.img', size: '2MiB', blockSize: 4096 } },
          ],
        },
      ],
    });
    expect(cfg.subsystems[0]).toMatchObject({ allowAnyHost: false, allowedHosts: [] });
    expect(cfg.subsystems[0].namespaces.map((n) => bdevSpecOf(n.bdev))).toEqual([
      'mem:1MiB',
      'file:/tmp/x:y.img:2MiB:4096',
    ]);
  });

  it('carries a file bdev I/O mode into its spec, and refuses it on other kinds', () => {
    expect(
      bdevSpecOf({ type: 'file', path: '/tmp/a.img', size: '1MiB', blockSize: 512, io: 'pool' }),
    ).toBe('file:/tmp/a.img:1MiB:512:io=pool');
    expect(() => bdevSpecOf({ type: 'mem', size: '1MiB', io: 'sync' })).toThrow(
      /io is an option of file bdevs, not of type mem/,
    );
    expect(() =>
      parseTargetConfig({
        listeners: [{ host: 'h', port: 1 }],
        subsystems: [
          { nqn: NQN, namespaces: [{ bdev: { type: 'file', path: '/x', size: 1, io: 'fast' } }] },
        ],
      }),
    ).toThrow(/\/subsystems\/0\/namespaces\/0\/bdev/);
  });

  it('names the bad value in one sentence', () => {
    const bad = (v: unknown) => () => parseTargetConfig(v, 'test.json');
    expect(bad({ listeners: [] })).toThrow(TargetConfigError);
    expect(bad({ listeners: [{ host: 'h', port: 70000 }] })).toThrow(
      /test\.json: \/listeners\/0\/port/,
    );
    expect(bad({ listeners: [{ host: 'h', port: 1 }], extra: 1 })).toThrow(/test\.json/);
    expect(
      bad({
        listeners: [{ host: 'h', port: 1 }],
        subsystems: [{ nqn: NQN, namespaces: [{ bdev: 'mem:1M', nguid: 'xyz' }] }],
      }),
    ).toThrow(/nguid/);
  });

  it('starts a target, and a saved configuration gives file namespaces the same identifiers again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nvmf-target-cfg-'));
    dirs.push(dir);
    const input: TargetConfig = {
      listeners: [{ host: '127.0.0.1', port: 0 }],
      subsystems: [
        {
          nqn: NQN,
          allowAnyHost: true,
          allowedHosts: [],
          namespaces: [
            { bdev: `file:${join(dir, 'a.img')}:1MiB` },
            { bdev: 'mem:1MiB:4096', nsid: 4 },
          ],
        },
      ],
    };
    const first = await startTargetFromConfig(structuredClone(input), { logger: silent });
    expect(first.addresses[0].port).toBeGreaterThan(0);
    const ns = first.effective.subsystems[0].namespaces;
    expect(ns.map((n) => n.nsid)).toEqual([1, 4]);
    expect(ns[0].nguid).toMatch(/^[0-9a-f]{32}$/);
    const saved = join(dir, 'saved.json');
    await saveTargetConfig(saved, first.effective);
    await first.target.close();

    // Derived again from the same path: the same NGUID without the saved file.
    const second = await startTargetFromConfig(structuredClone(input), { logger: silent });
    expect(second.effective.subsystems[0].namespaces[0].nguid).toBe(ns[0].nguid);
    expect(second.effective.subsystems[0].namespaces[0].uuid).toBe(ns[0].uuid);
    await second.target.close();

    const reloaded = await loadTargetConfig(saved);
    expect(reloaded.subsystems[0].namespaces[1]).toMatchObject({
      nsid: 4,
      nguid: ns[1].nguid,
      uuid: ns[1].uuid,
    });
    expect(JSON.parse(await readFile(saved, 'utf8'))).toEqual(reloaded);
  });

  it('closes what it opened when a later step fails', async () => {
    const cfg = parseTargetConfig({
      listeners: [{ host: '127.0.0.1', port: 0 }],
      subsystems: [
        {
          nqn: NQN,
          allowAnyHost: true,
          namespaces: [
            { bdev: 'mem:1MiB', nsid: 1 },
            { bdev: 'mem:1MiB', nsid: 1 },
          ],
        },
      ],
    });
    await expect(startTargetFromConfig(cfg, { logger: silent })).rejects.toThrow(
      /NSID 1 is already in use/,
    );
  });

  it('reports a missing file and bad JSON as configuration errors', async () => {
    await expect(loadTargetConfig('/nonexistent/x.json')).rejects.toThrow(
      /cannot read config file/,
    );
    const dir = await mkdtemp(join(tmpdir(), 'nvmf-target-cfg-'));
    dirs.push(dir);
    await saveTargetConfig(join(dir, 'x.json'), {
      listeners: [{ host: 'h', port: 1 }],
      subsystems: [],
    });
    const text = await readFile(join(dir, 'x.json'), 'utf8');
    expect(JSON.parse(text)).toEqual({ listeners: [{ host: 'h', port: 1 }], subsystems: [] });
  });
});

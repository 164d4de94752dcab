/**
 * The bench's `dpu` ioengine and the one-string DPU spec it takes: a farm.json, an nvmf-dpu config
 * file, or option pairs build the same virtual namespace nvmf-dpu builds, over real NvmfTargets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBdev } from '../../../src/bdev/index.js';
import { NvmfTarget } from '../../../src/target/nvmf-target.js';
import { dpuEngine } from '../../../src/bench/engines/dpu-engine.js';
import { BenchUsageError } from '../../../src/bench/errors.js';
import { dpuConfigFromSpec } from '../../../src/dpu/dpu-spec.js';
import { writeFarmDescription, type FarmDescription } from '../../../src/dpu/farm-description.js';
import { firstDifference, patternBlocks } from '../../support/pattern.js';

const BLOCK = 512;
const NODE_BLOCKS = 4096;
const NODES = 2;

let dir: string;
let farmFile: string;
const targets: NvmfTarget[] = [];
const nodes: { nqn: string; port: number }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dpu-engine-'));
  for (let i = 1; i <= NODES; i++) {
    const target = new NvmfTarget();
    const nqn = `nqn.2024-01.io.nvmf-dpu:it-engine:node${i}`;
    target
      .addSubsystem({ nqn, allowAnyHost: true, allowedHosts: [] })
      .addNamespace(new MemoryBdev({ name: `n${i}`, blockSize: BLOCK, blockCount: NODE_BLOCKS }));
    const { port } = await target.listen({ host: '127.0.0.1', port: 0 });
    targets.push(target);
    nodes.push({ nqn, port });
  }
  const farm: FarmDescription = {
    version: 1,
    size: NODE_BLOCKS * BLOCK,
    blockSize: BLOCK,
    nodes: nodes.map((n, i) => ({
      name: `node${i + 1}`,
      addr: '127.0.0.1',
      port: n.port,
      subnqn: n.nqn,
      pid: null,
      nsid: 1,
      file: `node${i + 1}/ns1.img`,
      log: `node${i + 1}/target.log`,
    })),
  };
  farmFile = join(dir, 'farm.json');
  await writeFarmDescription(farmFile, farm);
});

afterAll(async () => {
  await Promise.all(targets.map((t) => t.close()));
  await rm(dir, { recursive: true, force: true });
});

const job = (filename: string | undefined, jobNumber = 1) => ({
  jobName: 'dpu-test',
  jobNumber,
  filename,
  iodepth: 8,
});

describe('DPU spec', () => {
  it('reads a farm.json as a mirror over the farm', async () => {
    expect(await dpuConfigFromSpec(farmFile)).toEqual({ farm: farmFile, layout: 'mirror' });
  });

  it('reads nvmf-dpu options as pairs, with fio-escaped colons', async () => {
    const a = `tcp://127.0.0.1:${nodes[0].port}/${nodes[0].nqn}`;
    const b = `tcp://127.0.0.1:${nodes[1].port}/${nodes[1].nqn}`;
    const escaped = `connect=${a},${b} layout=stripe stripe-size=8KiB`.replace(/:/g, '\\:');
    expect(await dpuConfigFromSpec(escaped)).toEqual({
      connect: [a, b],
      layout: 'stripe',
      stripeSize: '8KiB',
    });
  });

  it('reads an nvmf-dpu config file', async () => {
    const file = join(dir, 'dpu.json');
    await writeFile(file, JSON.stringify({ farm: 'farm.json', layout: 'concat' }));
    expect(await dpuConfigFromSpec(file)).toEqual({ farm: farmFile, layout: 'concat' });
  });

  it('refuses a spec it cannot read with one sentence', async () => {
    await expect(dpuConfigFromSpec('farm=x.json raid=5')).rejects.toThrow(
      /"raid=5" in the DPU spec is not OPTION=VALUE/,
    );
    await expect(dpuConfigFromSpec('somewhere')).rejects.toThrow(/neither a farm\.json/);
  });
});

describe('ioengine=dpu', () => {
  it('drives the volume in-process; jobs on one spec share it', async () => {
    const first = await dpuEngine.open(job(farmFile, 1));
    const second = await dpuEngine.open(job(farmFile, 2));
    expect(second.bdev).toBe(first.bdev);
    expect(first.bdev.blockCount).toBe(NODE_BLOCKS);
    expect(first.label).toMatch(/^dpu:mirror\(tcp:\/\/127\.0\.0\.1:/);

    const data = patternBlocks(100, 64, BLOCK, 7);
    await first.bdev.write(100, data);
    expect(firstDifference(await second.bdev.read(100, 64), data)).toBeUndefined();
    await first.release();
    // Still open for the second job.
    expect(firstDifference(await second.bdev.read(100, 64), data)).toBeUndefined();
    await second.release();

    // Released by both: a new open builds a new volume over the same, still written, legs.
    const again = await dpuEngine.open(job(`farm=${farmFile} layout=concat`));
    expect(again.bdev.blockCount).toBe(NODES * NODE_BLOCKS);
    expect(firstDifference(await again.bdev.read(100, 64), data)).toBeUndefined();
    await again.release();
  });

  it('refuses a job without a spec or with a bad one as a usage error', async () => {
    await expect(dpuEngine.open(job(undefined))).rejects.toBeInstanceOf(BenchUsageError);
    await expect(dpuEngine.open(job('layout=raid5 farm=x.json'))).rejects.toThrow(
      /ioengine=dpu: DPU spec "layout=raid5 farm=x.json": layout "raid5" is not one of/,
    );
  });
});

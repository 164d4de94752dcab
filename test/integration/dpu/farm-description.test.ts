/**
 * farm.json, the contract between nvmf-farm and its readers (nvmf-dpu --farm, the bench's dpu
 * engine): written atomically, checked on read with one sentence per fault, and turned into the
 * transport IDs the DPU connects to.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  nodeTransportId,
  readFarmDescription,
  resolveFarmPath,
  writeFarmDescription,
  type FarmDescription,
} from '../../../src/dpu/farm-description.js';
import { resolveLegs } from '../../../src/dpu/leg-source.js';

const farm: FarmDescription = {
  version: 1,
  size: 64 * 1024 * 1024,
  blockSize: 512,
  nodes: [1, 2].map((i) => ({
    name: `node${i}`,
    addr: '127.0.0.1',
    port: 4419 + i,
    subnqn: `nqn.2024-01.io.nvmf-dpu:farm:node${i}`,
    pid: null,
    nsid: 1,
    file: `node${i}/ns1.img`,
    log: `node${i}/target.log`,
  })),
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'farm-desc-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('farm description', () => {
  it('round-trips through farm.json', async () => {
    const file = join(dir, 'farm.json');
    await writeFarmDescription(file, farm);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(farm);
    expect(await readFarmDescription(file)).toEqual(farm);
    expect(resolveFarmPath(file, farm.nodes[0].file)).toBe(join(dir, 'node1/ns1.img'));
  });

  it('names the transport ID of each node, which the DPU resolves in node order', async () => {
    expect(nodeTransportId(farm.nodes[1])).toBe(
      'tcp://127.0.0.1:4421/nqn.2024-01.io.nvmf-dpu:farm:node2?nsid=1',
    );
    const file = join(dir, 'legs.json');
    await writeFarmDescription(file, { ...farm, hostnqn: 'nqn.2024-01.io.example:dpu' });
    const legs = await resolveLegs({ farm: file, layout: 'mirror' });
    expect(legs.legs.map((l) => [l.traddr, l.trsvcid, l.subnqn, l.nsid])).toEqual([
      ['127.0.0.1', '4420', 'nqn.2024-01.io.nvmf-dpu:farm:node1', 1],
      ['127.0.0.1', '4421', 'nqn.2024-01.io.nvmf-dpu:farm:node2', 1],
    ]);
    expect(legs.hostnqn).toBe('nqn.2024-01.io.example:dpu');
  });

  it('refuses a malformed or missing file with one sentence naming it', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ ...farm, nodes: [{ ...farm.nodes[0], port: 'x' }] }));
    await expect(readFarmDescription(bad)).rejects.toThrow(
      /bad\.json: \/nodes\/0\/port "x" is not a whole number from 0 to 65535/,
    );
    await writeFile(bad, '{ not json');
    await expect(readFarmDescription(bad)).rejects.toThrow(/bad\.json is not JSON/);
    await expect(readFarmDescription(join(dir, 'none.json'))).rejects.toThrow(
      /none\.json does not exist; start a farm with `nvmf-farm up/,
    );
  });
});

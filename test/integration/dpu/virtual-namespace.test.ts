/**
 * The DPU assembly in one process: real NvmfTargets on loopback with file-backed namespaces (so a
 * node can stop and come back with its data), VirtualNamespace connecting to them over NVMe/TCP
 * and stacking each layout. Pattern data (test/support/pattern.ts) is compared byte for byte.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { FileBdev } from '../../../src/bdev/index.js';
import { NvmfTarget } from '../../../src/target/nvmf-target.js';
import { VirtualNamespace } from '../../../src/dpu/virtual-namespace.js';
import type { DpuConfig } from '../../../src/dpu/dpu-config.js';
import { firstDifference, patternBlocks } from '../../support/pattern.js';

const BLOCK = 512;
const NODE_BYTES = 8 * 1024 * 1024;
const NODE_BLOCKS = NODE_BYTES / BLOCK;
const REGION_BYTES = 64 * 1024;
const REGION_BLOCKS = REGION_BYTES / BLOCK;
const NODES = 3;
/** Fast reconnects: a returning node is seen within a few hundred ms. */
const RECONNECT = { reconnectDelayMs: 50, maxReconnectDelayMs: 200 };

interface Node {
  name: string;
  nqn: string;
  file: string;
  port: number;
  target?: NvmfTarget;
}

let dir: string;
let nodes: Node[];
const open: VirtualNamespace[] = [];

async function startNode(node: Node): Promise<void> {
  const target = new NvmfTarget();
  const sub = target.addSubsystem({ nqn: node.nqn, allowAnyHost: true, allowedHosts: [] });
  sub.addNamespace(
    await FileBdev.open({ name: node.name, path: node.file, blockSize: BLOCK, size: NODE_BYTES }),
  );
  const bound = await target.listen({ host: '127.0.0.1', port: node.port });
  node.port = bound.port;
  node.target = target;
}

async function stopNode(node: Node): Promise<void> {
  await node.target?.close();
  node.target = undefined;
}

const uri = (n: Node) => `tcp://127.0.0.1:${n.port}/${n.nqn}`;

async function openVolume(cfg: Partial<DpuConfig>): Promise<VirtualNamespace> {
  const vns = await VirtualNamespace.open({
    connect: nodes.map(uri),
    layout: 'mirror',
    ...RECONNECT,
    ...cfg,
  } as DpuConfig);
  open.push(vns);
  return vns;
}

async function writeAndCheck(vns: VirtualNamespace, lba: number, blocks: number, gen: number) {
  const data = patternBlocks(lba, blocks, BLOCK, gen);
  await vns.bdev.write(lba, data);
  expect(firstDifference(await vns.bdev.read(lba, blocks), data, lba * BLOCK)).toBeUndefined();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dpu-vns-'));
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((v) => v.close()));
  await Promise.all((nodes ?? []).map(stopNode));
});

afterAll(() => rm(dir, { recursive: true, force: true }));

async function freshNodes(tag: string): Promise<void> {
  nodes = Array.from({ length: NODES }, (_, i) => ({
    name: `node${i + 1}`,
    nqn: `nqn.2024-01.io.nvmf-dpu:it-${tag}:node${i + 1}`,
    file: join(dir, `${tag}-node${i + 1}.img`),
    port: 0,
  }));
  await Promise.all(nodes.map(startNode));
}

describe('VirtualNamespace layouts over NVMe/TCP', () => {
  it.each([
    ['single', 1, NODE_BLOCKS],
    ['concat', NODES, NODES * NODE_BLOCKS],
    ['stripe', NODES, NODES * NODE_BLOCKS],
    ['mirror', NODES, NODE_BLOCKS],
  ] as const)('%s over %i legs: capacity and bytes', async (layout, legs, blocks) => {
    await freshNodes(layout);
    const vns = await openVolume({
      connect: nodes.slice(0, legs).map(uri),
      layout,
      ...(layout === 'stripe' ? { stripeSize: '16KiB' } : {}),
    });
    expect(vns.layout).toBe(layout);
    expect(vns.legs).toHaveLength(legs);
    expect(vns.bdev.blockCount).toBe(blocks);
    expect(vns.bdev.blockSize).toBe(BLOCK);
    // The start, a range across leg or stripe boundaries, and the very end.
    await writeAndCheck(vns, 0, 64, 1);
    const across = NODE_BLOCKS - 100;
    await writeAndCheck(vns, across, Math.min(300, blocks - across), 2);
    await writeAndCheck(vns, blocks - 8, 8, 3);
  });

  it('takes its legs from a discovery controller', async () => {
    await freshNodes('discover');
    const vns = await openVolume({
      connect: undefined,
      discover: `127.0.0.1:${nodes[1].port}`,
      layout: 'single',
    });
    expect(vns.legs.map((l) => l.id.subnqn)).toEqual([nodes[1].nqn]);
    await writeAndCheck(vns, 10, 10, 4);
  });

  it('refuses a leg that does not answer, naming it', async () => {
    await freshNodes('refuse');
    await stopNode(nodes[2]);
    await expect(openVolume({})).rejects.toThrow(
      new RegExp(`leg 3 \\(tcp://127.0.0.1:${nodes[2].port}/${nodes[2].nqn}\\) cannot be used`),
    );
  });
});

describe('mirror recovery', () => {
  /** Reads a leg's whole namespace directly (bypassing the mirror). */
  const legBytes = (vns: VirtualNamespace, i: number) =>
    vns.legs[i].bdev.read(0, vns.legs[i].bdev.blockCount);

  it('a returning leg gets only the regions written while it was away', async () => {
    await freshNodes('resync');
    const vns = await openVolume({ regionSize: REGION_BYTES });
    const mirror = vns.mirror!;
    await writeAndCheck(vns, 0, NODE_BLOCKS, 1);

    await stopNode(nodes[1]);
    // Three regions, the middle one only partly, change while node2 is away.
    const dirtyFirst = 5 * REGION_BLOCKS;
    await writeAndCheck(vns, dirtyFirst + 7, 2 * REGION_BLOCKS + 9, 2);
    expect(mirror.legState(1)).toBe('degraded');
    expect(mirror.legState(0)).toBe('healthy');

    const done = new Promise<{ leg: number; copiedBlocks: number }>((resolve) =>
      mirror.once('resync-done', resolve),
    );
    await startNode(nodes[1]);
    const result = await done;
    expect(result).toMatchObject({ leg: 1, copiedBlocks: 3 * REGION_BLOCKS });
    expect(mirror.legState(1)).toBe('healthy');

    const reference = await legBytes(vns, 0);
    expect(firstDifference(await legBytes(vns, 1), reference)).toBeUndefined();
    expect(firstDifference(await legBytes(vns, 2), reference)).toBeUndefined();
  });

  it('the write-intent bitmap in --state-dir survives a DPU restart', async () => {
    await freshNodes('bitmap');
    const stateDir = join(dir, 'bitmap-state');
    const first = await openVolume({ stateDir, regionSize: REGION_BYTES });
    await writeAndCheck(first, 0, 4 * REGION_BLOCKS, 1);
    await stopNode(nodes[2]);
    await writeAndCheck(first, REGION_BLOCKS, REGION_BLOCKS, 2);
    expect(first.mirror!.legState(2)).toBe('degraded');
    await first.close();

    // The DPU comes back with all three nodes up: leg 3 must still be known to be stale.
    await startNode(nodes[2]);
    const lines: { msg: string; copiedBlocks?: number }[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (l: string) => void lines.push(JSON.parse(l)) },
    );
    const second = await VirtualNamespace.open(
      {
        connect: nodes.map(uri),
        layout: 'mirror',
        stateDir,
        regionSize: REGION_BYTES,
        ...RECONNECT,
      },
      { logger },
    );
    open.push(second);
    const mirror = second.mirror!;
    if (mirror.legState(2) !== 'healthy') {
      await new Promise((resolve) => mirror.once('resync-done', resolve));
    }
    expect(mirror.legStatus().map((s) => s.dirtyRegions)).toEqual([0, 0, 0]);
    expect(lines.find((l) => l.msg.startsWith('mirror resync done'))?.copiedBlocks).toBe(
      REGION_BLOCKS,
    );
    const reference = await legBytes(second, 0);
    expect(firstDifference(await legBytes(second, 2), reference)).toBeUndefined();
    expect(
      firstDifference(
        await second.bdev.read(REGION_BLOCKS, REGION_BLOCKS),
        patternBlocks(REGION_BLOCKS, REGION_BLOCKS, BLOCK, 2),
      ),
    ).toBeUndefined();
  });
});

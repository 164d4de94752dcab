/**
 * A mirror over NVMe/TCP legs (RemoteBdev), whose writes take the callback fast path (no
 * promise per leg): the data lands on every target, and a target lost under load degrades its
 * leg while every write still succeeds on the others, with the regions it missed marked.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBdev } from '../../../src/bdev/memory-bdev.js';
import { openRemoteBdev } from '../../../src/initiator/open-remote-bdev.js';
import type { RemoteBdev } from '../../../src/initiator/remote-bdev.js';
import { MirrorBdev } from '../../../src/volume/mirror-bdev.js';
import { HOST_A, LOOPBACK, startTarget, testLogger, type Rig } from '../nvmf/support/target-rig.js';
import { compareBdevs, runWorkload } from '../../support/reference-workload.js';

const BS = 512;
const BLOCKS = 8192;
const REGION = 256;
const NQN = 'nqn.2024-01.io.nvmf-dpu:test:mirror-leg';

describe('mirror over remote legs', () => {
  const rigs: Rig[] = [];
  const bdevs: RemoteBdev[] = [];
  afterEach(async () => {
    await Promise.allSettled(bdevs.splice(0).map((b) => b.close()));
    await Promise.allSettled(rigs.splice(0).map((r) => r.close()));
  });

  async function legs(n: number): Promise<RemoteBdev[]> {
    for (let i = 0; i < n; i++) {
      const rig = await startTarget([
        { nqn: NQN, namespaces: [{ blockSize: BS, blockCount: BLOCKS }] },
      ]);
      rigs.push(rig);
      bdevs.push(
        await openRemoteBdev(`tcp://${LOOPBACK}:${rig.port}/${NQN}`, {
          hostnqn: HOST_A,
          name: `leg${i}`,
          logger: testLogger(),
          reconnectDelayMs: 60_000,
        }),
      );
    }
    return bdevs;
  }

  it('writes every block to every leg, and keeps serving when a target goes away', async () => {
    const remote = await legs(3);
    expect(typeof remote[0].writeWithCallback).toBe('function');
    const mirror = await MirrorBdev.open({
      name: 'vol',
      legs: remote,
      regionBlocks: REGION,
      probeIntervalMs: 0,
      closeLegs: false,
    });
    const ref = new MemoryBdev({ name: 'ref', blockSize: BS, blockCount: BLOCKS });
    await runWorkload(mirror, ref, { seed: 7, ops: 300, maxBlocks: 16, depth: 16 });
    for (const leg of remote) expect(await compareBdevs(leg, ref)).toBeUndefined();

    await rigs[2].close();
    const missed = new Set<number>();
    await runWorkload(mirror, ref, {
      seed: 8,
      ops: 100,
      maxBlocks: 16,
      depth: 16,
      generation: 1000,
      zeroes: false,
      onChange: (lba, blocks) => {
        for (let r = Math.floor(lba / REGION); r <= Math.floor((lba + blocks - 1) / REGION); r++) {
          missed.add(r);
        }
      },
    });
    expect(mirror.stats.errors).toBe(0);
    expect(mirror.legState(2)).toBe('degraded');
    expect(mirror.legStatus()[2].dirtyRegions).toBe(missed.size);
    for (const leg of remote.slice(0, 2)) expect(await compareBdevs(leg, ref)).toBeUndefined();
    await mirror.close();
  });
});

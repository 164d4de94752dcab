/**
 * Smoke test of the target over the real NVMe/TCP transport with this project's host
 * (src/initiator): discovery, the controller bring-up, several I/O queues, pattern data at
 * queue depth, and Connect Invalid Host. The full integration suite lives in test/integration.
 */
import { describe, expect, it, afterEach } from 'vitest';
import { NvmfTarget } from '../../../src/target/nvmf-target.js';
import { MemoryBdev } from '../../../src/bdev/memory-bdev.js';
import { openRemoteBdev } from '../../../src/initiator/open-remote-bdev.js';
import { discover } from '../../../src/initiator/discovery.js';
import { NvmeStatusError } from '../../../src/nvme/status.js';
import { silent, HOST_A, HOST_B } from './support/harness.js';

const NQN = 'nqn.2024-01.io.nvmf-dpu:loopback';

function pattern(bytes: number, seed: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 8) b.writeBigUInt64LE(BigInt(i + seed), i);
  return b;
}

describe('target over NVMe/TCP loopback', () => {
  let target: NvmfTarget | undefined;
  afterEach(async () => {
    await target?.close();
    target = undefined;
  });

  async function start(allowAnyHost: boolean) {
    target = new NvmfTarget({ logger: silent });
    const sub = target.addSubsystem({
      nqn: NQN,
      allowAnyHost,
      allowedHosts: allowAnyHost ? [] : [HOST_A],
    });
    sub.addNamespace(new MemoryBdev({ name: 'm', blockSize: 4096, blockCount: 4096 }));
    return (await target.listen({ host: '127.0.0.1', port: 0 })).port;
  }

  it('discovers, connects with 2 I/O queues and moves pattern data at queue depth 16', async () => {
    const port = await start(true);
    const entries = await discover({
      traddr: '127.0.0.1',
      trsvcid: port,
      hostnqn: HOST_B,
      logger: silent,
    });
    expect(entries.map((e) => e.subnqn)).toContain(NQN);
    const bdev = await openRemoteBdev(`tcp://127.0.0.1:${port}/${NQN}`, {
      logger: silent,
      nrIoQueues: 2,
      hostnqn: HOST_B,
    });
    try {
      expect([bdev.blockSize, bdev.blockCount]).toEqual([4096, 4096]);
      const sizes = [1, 2, 8, 64, 256];
      const jobs = Array.from({ length: 16 }, (_, i) => ({
        lba: i * 256,
        blocks: sizes[i % sizes.length],
      }));
      await Promise.all(jobs.map((j, i) => bdev.write(j.lba, pattern(j.blocks * 4096, i << 24))));
      const back = await Promise.all(jobs.map((j) => bdev.read(j.lba, j.blocks)));
      back.forEach((b, i) => expect(b.equals(pattern(jobs[i].blocks * 4096, i << 24))).toBe(true));
      // Job 0 wrote LBA 0, job 1 LBAs 256-257: trimming LBA 0 leaves 256 blocks of hole.
      await bdev.deallocate([{ lba: 0, blocks: 1 }]);
      expect(await bdev.blockStatus!(0, 258)).toEqual([
        { blocks: 256, state: 'hole' },
        { blocks: 2, state: 'data' },
      ]);
      await bdev.flush();
    } finally {
      await bdev.close();
    }
  });

  it('a host that is not allowed fails Connect with Connect Invalid Host (SCT 1, SC 84h)', async () => {
    const port = await start(false);
    const err = await openRemoteBdev(`tcp://127.0.0.1:${port}/${NQN}`, {
      logger: silent,
      hostnqn: HOST_B,
      ctrlLossTimeoutMs: 0,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NvmeStatusError);
    expect([(err as NvmeStatusError).sct, (err as NvmeStatusError).sc]).toEqual([1, 0x84]);
  });
});

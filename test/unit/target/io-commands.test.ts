/**
 * NVM I/O commands on an I/O queue: Read, Write (FUA), Compare, Flush, Write Zeroes, Dataset
 * Management, and the statuses of NVM CS 1.0 Figures 15-17 for what is wrong with a request.
 */
import { describe, expect, it, beforeEach } from 'vitest';
import { NvmfTarget } from '../../../src/target/nvmf-target.js';
import { MemoryBdev } from '../../../src/bdev/memory-bdev.js';
import type { WriteOptions } from '../../../src/bdev/bdev.js';
import { silent, sqe, ioSqe, statusOf, dataOf, adminQueue, ioQueue } from './support/harness.js';

const NQN = 'nqn.2024-01.io.nvmf-dpu:io';
const BS = 512;

/** Each 8-byte word holds its own byte offset plus a seed (nbdkit plugins/pattern). */
function pattern(bytes: number, seed: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 8) b.writeBigUInt64LE(BigInt(i + seed), i);
  return b;
}

/** A memory bdev that remembers the FUA flag of each write and counts flushes. */
class RecordingBdev extends MemoryBdev {
  fuaWrites: boolean[] = [];
  flushes = 0;
  /** What the target calls (write() is writeNow() as a promise). */
  override writeNow(lba: number, data: Buffer, opts?: WriteOptions): void | Promise<void> {
    this.fuaWrites.push(opts?.fua ?? false);
    return super.writeNow(lba, data, opts);
  }
  override async flush(): Promise<void> {
    this.flushes++;
    return super.flush();
  }
}

describe('I/O commands', () => {
  let target: NvmfTarget;
  let bdev: RecordingBdev;
  let other: RecordingBdev;
  let io: Awaited<ReturnType<typeof ioQueue>>['qp'];
  beforeEach(async () => {
    target = new NvmfTarget({ logger: silent });
    const sub = target.addSubsystem({ nqn: NQN, allowAnyHost: true, allowedHosts: [] });
    bdev = new RecordingBdev({ name: 'r', blockSize: BS, blockCount: 4096 });
    other = new RecordingBdev({ name: 'o', blockSize: BS, blockCount: 16 });
    sub.addNamespace(bdev, { nsid: 1 });
    sub.addNamespace(other, { nsid: 2 });
    const { cntlid } = await adminQueue(target, NQN);
    io = (await ioQueue(target, NQN, cntlid, 1)).qp;
  });

  const write = (lba: number, data: Buffer, fua = false) =>
    io.handle(
      ioSqe({ opcode: 0x01, nsid: 1, lba, blocks: data.length / BS, blockSize: BS, fua }),
      data,
    );
  const read = (lba: number, blocks: number) =>
    io.handle(ioSqe({ opcode: 0x02, nsid: 1, lba, blocks, blockSize: BS }), undefined);

  it('writes then reads back the same bytes; FUA reaches the bdev', async () => {
    const data = pattern(8 * BS, 7);
    expect((await write(100, data, true)).status).toBe(0);
    expect(dataOf(await read(100, 8)).equals(data)).toBe(true);
    expect(bdev.fuaWrites).toEqual([true]);
    await write(0, pattern(BS, 1));
    expect(bdev.fuaWrites).toEqual([true, false]);
  });

  it('a read past the namespace end is LBA Out of Range (SCT 0, SC 80h, DNR)', async () => {
    expect(statusOf(await read(4095, 2))).toEqual({ sct: 0, sc: 0x80, dnr: true });
    expect(statusOf(await write(4096, pattern(BS, 0)))).toEqual({ sct: 0, sc: 0x80, dnr: true });
  });

  it('an inactive NSID is Invalid Namespace or Format (SC 0Bh)', async () => {
    const r = await io.handle(
      ioSqe({ opcode: 0x02, nsid: 9, lba: 0, blocks: 1, blockSize: BS }),
      undefined,
    );
    expect(statusOf(r)).toEqual({ sct: 0, sc: 0x0b, dnr: true });
  });

  it('an unsupported opcode is Invalid Opcode (SC 01h); a fused command is Invalid Field', async () => {
    expect(statusOf(await io.handle(sqe({ opcode: 0x7e, nsid: 1 }), undefined))).toEqual({
      sct: 0,
      sc: 0x01,
      dnr: true,
    });
    const fused = ioSqe({ opcode: 0x05, nsid: 1, lba: 0, blocks: 1, blockSize: BS });
    fused[1] |= 0b01;
    expect(statusOf(await io.handle(fused, pattern(BS, 0))).sc).toBe(0x02);
  });

  it('more than MDTS (1 MiB) in one command is Data SGL Length Invalid (SC 0Fh)', async () => {
    const blocks = (1 << 20) / BS + 1;
    const r = await io.handle(
      ioSqe({ opcode: 0x02, nsid: 1, lba: 0, blocks, sglLength: 4096 }),
      undefined,
    );
    expect(statusOf(r)).toEqual({ sct: 0, sc: 0x0f, dnr: true });
  });

  it('an SGL length that is not NLB × block size is Data SGL Length Invalid', async () => {
    const r = await io.handle(
      ioSqe({ opcode: 0x02, nsid: 1, lba: 0, blocks: 2, sglLength: BS }),
      undefined,
    );
    expect(statusOf(r).sc).toBe(0x0f);
    const short = await io.handle(
      ioSqe({ opcode: 0x01, nsid: 1, lba: 0, blocks: 2, blockSize: BS }),
      Buffer.alloc(BS),
    );
    expect(statusOf(short).sc).toBe(0x0f);
  });

  it('Compare succeeds on equal data and fails with Compare Failure (SCT 2, SC 85h) otherwise', async () => {
    const data = pattern(4 * BS, 3);
    await write(10, data);
    const cmp = (d: Buffer) =>
      io.handle(ioSqe({ opcode: 0x05, nsid: 1, lba: 10, blocks: 4, blockSize: BS }), d);
    expect((await cmp(data)).status).toBe(0);
    const changed = Buffer.from(data);
    changed[BS * 3 + 17] ^= 1;
    expect(statusOf(await cmp(changed))).toEqual({ sct: 2, sc: 0x85, dnr: true });
  });

  it('Write Zeroes zeroes the range; out of range is LBA Out of Range', async () => {
    await write(20, pattern(4 * BS, 5));
    const wz = (lba: number, blocks: number) =>
      io.handle(ioSqe({ opcode: 0x08, nsid: 1, lba, blocks }), undefined);
    expect((await wz(21, 2)).status).toBe(0);
    const back = dataOf(await read(20, 4));
    expect(back.subarray(BS, 3 * BS).equals(Buffer.alloc(2 * BS))).toBe(true);
    expect(back.subarray(0, BS).equals(pattern(4 * BS, 5).subarray(0, BS))).toBe(true);
    expect(statusOf(await wz(4090, 7)).sc).toBe(0x80);
  });

  it('Dataset Management with Deallocate trims the ranges: they read zero and report holes', async () => {
    await write(0, pattern(64 * BS, 1));
    // Two 16-byte ranges: context attributes u32, NLB u32 (1-based), SLBA u64 (NVM CS Figure 40).
    const ranges = Buffer.alloc(32);
    ranges.writeUInt32LE(8, 4);
    ranges.writeBigUInt64LE(8n, 8);
    ranges.writeUInt32LE(4, 20);
    ranges.writeBigUInt64LE(40n, 24);
    const dsm = sqe({ opcode: 0x09, nsid: 1, cdw10: 1, cdw11: 1 << 2, sglLength: 32 });
    expect((await io.handle(dsm, ranges)).status).toBe(0);
    expect(dataOf(await read(8, 8)).equals(Buffer.alloc(8 * BS))).toBe(true);
    expect(await bdev.blockStatus(0, 64)).toEqual([
      { blocks: 8, state: 'data' },
      { blocks: 8, state: 'hole' },
      { blocks: 24, state: 'data' },
      { blocks: 4, state: 'hole' },
      { blocks: 20, state: 'data' },
    ]);
    const outside = Buffer.alloc(16);
    outside.writeUInt32LE(2, 4);
    outside.writeBigUInt64LE(4095n, 8);
    const bad = sqe({ opcode: 0x09, nsid: 1, cdw10: 0, cdw11: 1 << 2, sglLength: 16 });
    expect(statusOf(await io.handle(bad, outside)).sc).toBe(0x80);
  });

  it('Flush flushes the namespace; NSID FFFFFFFFh flushes every namespace', async () => {
    expect((await io.handle(sqe({ opcode: 0x00, nsid: 1 }), undefined)).status).toBe(0);
    expect([bdev.flushes, other.flushes]).toEqual([1, 0]);
    expect((await io.handle(sqe({ opcode: 0x00, nsid: 0xffffffff }), undefined)).status).toBe(0);
    expect([bdev.flushes, other.flushes]).toEqual([2, 1]);
  });

  it('serves many commands outstanding at once (queue depth 128)', async () => {
    const writes = Array.from({ length: 128 }, (_, i) => write(i * 8, pattern(8 * BS, i * 1000)));
    expect((await Promise.all(writes)).every((r) => r.status === 0)).toBe(true);
    const reads = await Promise.all(Array.from({ length: 128 }, (_, i) => read(i * 8, 8)));
    reads.forEach((r, i) => expect(dataOf(r).equals(pattern(8 * BS, i * 1000))).toBe(true));
  });
});

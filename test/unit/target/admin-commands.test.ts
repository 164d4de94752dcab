/**
 * Admin commands: Identify (CNS 00h-03h), Get Log Page (01h, 02h, 04h, 70h, C0h), Get/Set
 * Features. Fields are read from the returned bytes at the spec's offsets (NVMe Base 2.0
 * Figure 275 and 277, NVM CS Figure 97, NVMe-oF 1.1 Figures 28 and 36-38).
 */
import { describe, expect, it, beforeEach } from 'vitest';
import { NvmfTarget } from '../../../src/target/nvmf-target.js';
import { MemoryBdev } from '../../../src/bdev/memory-bdev.js';
import { NullBdev } from '../../../src/bdev/null-bdev.js';
import type { Subsystem } from '../../../src/target/subsystem.js';
import {
  silent,
  sqe,
  ioSqe,
  statusOf,
  dataOf,
  adminQueue,
  ioQueue,
  HOST_A,
} from './support/harness.js';

const NQN = 'nqn.2024-01.io.nvmf-dpu:admin';
const identify = (cns: number, nsid = 0, sglLength = 4096) =>
  sqe({ opcode: 0x06, nsid, cdw10: cns, sglLength });
/** Get Log Page: LID bits 7:0, RAE bit 15, NUMDL bits 31:16; LPOL in CDW12. */
const getLog = (
  lid: number,
  bytes: number,
  o: { nsid?: number; offset?: number; rae?: boolean } = {},
) =>
  sqe({
    opcode: 0x02,
    nsid: o.nsid ?? 0,
    cdw10: lid | (o.rae ? 1 << 15 : 0) | ((bytes / 4 - 1) << 16),
    cdw12: o.offset ?? 0,
    sglLength: bytes,
  });
const ascii = (b: Buffer, at: number, size: number) =>
  b.toString('latin1', at, at + size).trimEnd();

describe('admin commands', () => {
  let target: NvmfTarget;
  let sub: Subsystem;
  let mem: MemoryBdev;
  beforeEach(() => {
    target = new NvmfTarget({ logger: silent });
    sub = target.addSubsystem({
      nqn: NQN,
      serial: 'SN-0001',
      model: 'test model',
      allowAnyHost: true,
      allowedHosts: [],
    });
    mem = new MemoryBdev({ name: 'm', blockSize: 4096, blockCount: 100 });
    sub.addNamespace(mem, { nsid: 1 });
    sub.addNamespace(new NullBdev({ name: 'n', blockSize: 512, blockCount: 2048 }), { nsid: 5 });
  });

  it('Identify Controller carries the subsystem and the limits at the spec offsets', async () => {
    const { qp, cntlid } = await adminQueue(target, NQN);
    const id = dataOf(await qp.handle(identify(1), undefined));
    expect(id.length).toBe(4096);
    expect(ascii(id, 4, 20)).toBe('SN-0001'); // SN
    expect(ascii(id, 24, 40)).toBe('test model'); // MN
    expect(id[77]).toBe(8); // MDTS: 2^8 * 4 KiB = 1 MiB
    expect(id.readUInt16LE(78)).toBe(cntlid); // CNTLID
    expect(id.readUInt32LE(80)).toBe(0x00010300); // VER 1.3
    expect(id.readUInt32LE(92) & (1 << 8)).not.toBe(0); // OAES: namespace attribute notices
    expect(id[111]).toBe(1); // CNTRLTYPE I/O controller
    expect(id[259]).toBe(3); // AERL
    expect(id[261] & 0b100).not.toBe(0); // LPA: extended data (NUMDU, LPO)
    expect(id.readUInt16LE(320)).toBe(1); // KAS: 100 ms
    expect([id[512], id[513]]).toEqual([0x66, 0x44]); // SQES, CQES
    expect(id.readUInt16LE(514)).toBe(128); // MAXCMD
    expect(id.readUInt32LE(516)).toBe(1024); // NN
    expect(id.readUInt16LE(520)).toBe(0b1101); // ONCS: Compare, DSM, Write Zeroes
    expect(id[525] & 1).toBe(1); // VWC present
    expect(id.readUInt32LE(536) & 0b11).toBe(0b01); // SGLS supported
    expect(id.toString('utf8', 768, 768 + NQN.length)).toBe(NQN); // SUBNQN
    expect(id[768 + NQN.length]).toBe(0);
    expect(id.readUInt32LE(1792)).toBe((8192 + 64) / 16); // IOCCSZ
    expect(id.readUInt32LE(1796)).toBe(1); // IORCSZ
    expect(id[1803]).toBe(1); // MSDBD
  });

  it('Identify Namespace: size, LBA format 0 with the block size, NGUID; inactive NSIDs read zero', async () => {
    const { qp } = await adminQueue(target, NQN);
    const ns = dataOf(await qp.handle(identify(0, 1), undefined));
    expect(Number(ns.readBigUInt64LE(0))).toBe(100); // NSZE
    expect(Number(ns.readBigUInt64LE(8))).toBe(100); // NCAP
    expect(ns[26]).toBe(0); // FLBAS: format 0
    expect(ns[33] & 0b111).toBe(0b001); // DLFEAT: deallocated blocks read zero
    expect(ns[128 + 2]).toBe(12); // LBAF0 LBADS = log2(4096)
    expect(ns.subarray(104, 120)).toEqual(sub.namespace(1)!.nguid);
    const other = dataOf(await qp.handle(identify(0, 5), undefined));
    expect(other[128 + 2]).toBe(9);
    expect(dataOf(await qp.handle(identify(0, 3), undefined)).equals(Buffer.alloc(4096))).toBe(
      true,
    );
    expect(statusOf(await qp.handle(identify(0, 0), undefined))).toEqual({
      sct: 0,
      sc: 0x0b,
      dnr: true,
    });
  });

  it('Identify Active Namespace List lists NSIDs above the given one, zero terminated', async () => {
    const { qp } = await adminQueue(target, NQN);
    const all = dataOf(await qp.handle(identify(2, 0), undefined));
    expect([all.readUInt32LE(0), all.readUInt32LE(4), all.readUInt32LE(8)]).toEqual([1, 5, 0]);
    const after1 = dataOf(await qp.handle(identify(2, 1), undefined));
    expect([after1.readUInt32LE(0), after1.readUInt32LE(4)]).toEqual([5, 0]);
  });

  it('Identify NS Identification Descriptors: NGUID (02h), UUID (03h) and CSI (04h)', async () => {
    const { qp } = await adminQueue(target, NQN);
    const d = dataOf(await qp.handle(identify(3, 1), undefined));
    const ns = sub.namespace(1)!;
    expect([d[0], d[1]]).toEqual([2, 16]);
    expect(d.subarray(4, 20)).toEqual(ns.nguid);
    expect([d[20], d[21]]).toEqual([3, 16]);
    expect(d.subarray(24, 40)).toEqual(ns.uuid);
    expect([d[40], d[41], d[44]]).toEqual([4, 1, 0]);
    expect(statusOf(await qp.handle(identify(3, 9), undefined)).sc).toBe(0x0b);
  });

  it('Identify with an unsupported CNS is Invalid Field; a buffer of the wrong size is SGL Length Invalid', async () => {
    const { qp } = await adminQueue(target, NQN);
    expect(statusOf(await qp.handle(identify(0x13), undefined)).sc).toBe(0x02);
    expect(statusOf(await qp.handle(identify(1, 0, 512), undefined)).sc).toBe(0x0f);
  });

  it('unsupported admin opcodes are Invalid Opcode (DNR)', async () => {
    const { qp } = await adminQueue(target, NQN);
    expect(statusOf(await qp.handle(sqe({ opcode: 0x80 }), undefined))).toEqual({
      sct: 0,
      sc: 0x01,
      dnr: true,
    });
  });

  it('Set Features Number of Queues grants at most 64 and is refused once I/O queues exist', async () => {
    const { qp, cntlid } = await adminQueue(target, NQN);
    const setQueues = (n: number) =>
      sqe({ opcode: 0x09, cdw10: 0x07, cdw11: (n - 1) | ((n - 1) << 16) });
    expect((await qp.handle(setQueues(4), undefined)).dw0).toBe(3 | (3 << 16));
    expect((await qp.handle(setQueues(200), undefined)).dw0).toBe(63 | (63 << 16));
    expect((await qp.handle(sqe({ opcode: 0x0a, cdw10: 0x07 }), undefined)).dw0).toBe(
      63 | (63 << 16),
    );
    await qp.handle(setQueues(2), undefined);
    expect(statusOf((await ioQueue(target, NQN, cntlid, 3)).response).sc).toBe(0x82);
    expect((await ioQueue(target, NQN, cntlid, 2)).response.status).toBe(0);
    expect(statusOf(await qp.handle(setQueues(8), undefined)).sc).toBe(0x0c);
    const invalid = sqe({ opcode: 0x09, cdw10: 0x07, cdw11: 0xffff });
    expect(statusOf(await qp.handle(invalid, undefined)).sc).toBe(0x02);
  });

  it('other features are Invalid Field; saving is Feature Identifier Not Saveable (SCT 1, SC 0Dh)', async () => {
    const { qp } = await adminQueue(target, NQN);
    expect(
      statusOf(await qp.handle(sqe({ opcode: 0x09, cdw10: 0x06, cdw11: 1 }), undefined)).sc,
    ).toBe(0x02);
    expect(statusOf(await qp.handle(sqe({ opcode: 0x0a, cdw10: 0x01 }), undefined)).sc).toBe(0x02);
    const save = sqe({ opcode: 0x09, cdw10: (0x0f | (1 << 31)) >>> 0, cdw11: 1000 });
    expect(statusOf(await qp.handle(save, undefined))).toEqual({ sct: 1, sc: 0x0d, dnr: true });
    // SEL 011b: capabilities, changeable.
    expect((await qp.handle(sqe({ opcode: 0x0a, cdw10: 0x0f | (3 << 8) }), undefined)).dw0).toBe(
      0b100,
    );
  });

  it('Error Information log records a failed command: count, SQID, CID, status, LBA, NSID', async () => {
    const { qp, cntlid } = await adminQueue(target, NQN);
    const io = await ioQueue(target, NQN, cntlid, 1);
    const bad = ioSqe({ opcode: 0x02, nsid: 1, lba: 99, blocks: 2, blockSize: 4096 });
    bad.writeUInt16LE(0x77, 2);
    expect(statusOf(await io.qp.handle(bad, undefined)).sc).toBe(0x80);
    const log = dataOf(await qp.handle(getLog(0x01, 64), undefined));
    expect(Number(log.readBigUInt64LE(0))).toBe(1); // error count
    expect(log.readUInt16LE(8)).toBe(1); // SQID
    expect(log.readUInt16LE(10)).toBe(0x77); // CID
    expect(log.readUInt16LE(12)).toBe((0x80 << 1) | 0x8000); // LBA Out of Range, DNR
    expect(Number(log.readBigUInt64LE(16))).toBe(99); // LBA
    expect(log.readUInt32LE(24)).toBe(1); // NSID
  });

  it('SMART / Health counts the host commands and data units of the subsystem', async () => {
    const { qp, cntlid } = await adminQueue(target, NQN);
    const io = await ioQueue(target, NQN, cntlid, 1);
    await io.qp.handle(
      ioSqe({ opcode: 0x01, nsid: 1, lba: 0, blocks: 1, blockSize: 4096 }),
      Buffer.alloc(4096, 1),
    );
    await io.qp.handle(
      ioSqe({ opcode: 0x02, nsid: 1, lba: 0, blocks: 1, blockSize: 4096 }),
      undefined,
    );
    const s = dataOf(await qp.handle(getLog(0x02, 512, { nsid: 0xffffffff }), undefined));
    expect(s.readUInt16LE(1)).toBeGreaterThan(273); // composite temperature in Kelvin
    expect(s[3]).toBe(100); // available spare
    expect(Number(s.readBigUInt64LE(32))).toBe(1); // data units read: 4096 B rounds up to 1
    expect(Number(s.readBigUInt64LE(48))).toBe(1);
    expect(Number(s.readBigUInt64LE(64))).toBe(1); // host read commands
    expect(Number(s.readBigUInt64LE(80))).toBe(1); // host write commands
    expect(statusOf(await qp.handle(getLog(0x02, 512, { nsid: 1 }), undefined)).sc).toBe(0x02);
  });

  it('allocation map (C0h): one bit per LBA from the bdev, at the asked offset; no blockStatus, no page', async () => {
    const { qp, cntlid } = await adminQueue(target, NQN);
    const io = await ioQueue(target, NQN, cntlid, 1);
    for (const lba of [0, 3, 9, 40]) {
      await io.qp.handle(
        ioSqe({ opcode: 0x01, nsid: 1, lba, blocks: 1, blockSize: 4096 }),
        Buffer.alloc(4096, 9),
      );
    }
    const map = dataOf(await qp.handle(getLog(0xc0, 16, { nsid: 1 }), undefined));
    expect([...map.subarray(0, 6)]).toEqual([0b1001, 0b10, 0, 0, 0, 0b1]);
    const at4 = dataOf(await qp.handle(getLog(0xc0, 4, { nsid: 1, offset: 4 }), undefined));
    expect([...at4]).toEqual([0, 0b1, 0, 0]);
    // 100 blocks: bits beyond LBA 99 are zero, and the page ends at 16 bytes.
    expect(statusOf(await qp.handle(getLog(0xc0, 4, { nsid: 1, offset: 20 }), undefined)).sc).toBe(
      0x02,
    );
    expect(statusOf(await qp.handle(getLog(0xc0, 4, { nsid: 9 }), undefined)).sc).toBe(0x0b);
    const noStatus = new MemoryBdev({ name: 'plain', blockSize: 512, blockCount: 8 });
    Object.defineProperty(noStatus, 'blockStatus', { value: undefined });
    sub.addNamespace(noStatus, { nsid: 6 });
    expect(statusOf(await qp.handle(getLog(0xc0, 4, { nsid: 6 }), undefined))).toEqual({
      sct: 1,
      sc: 0x09,
      dnr: true,
    });
  });

  it('log pages this controller does not serve are Invalid Log Page (SCT 1, SC 09h)', async () => {
    const { qp } = await adminQueue(target, NQN);
    expect(statusOf(await qp.handle(getLog(0x70, 1024), undefined))).toEqual({
      sct: 1,
      sc: 0x09,
      dnr: true,
    });
    expect(statusOf(await qp.handle(getLog(0x05, 4), undefined)).sc).toBe(0x09);
  });

  it('reading past the end of a page returns zeroes; an offset beyond it is Invalid Field', async () => {
    const { qp } = await adminQueue(target, NQN);
    const tail = dataOf(await qp.handle(getLog(0x02, 64, { nsid: 0, offset: 480 }), undefined));
    expect(tail.subarray(32).equals(Buffer.alloc(32))).toBe(true);
    expect(statusOf(await qp.handle(getLog(0x02, 4, { offset: 516 }), undefined)).sc).toBe(0x02);
  });

  it('Keep Alive succeeds', async () => {
    const { qp } = await adminQueue(target, NQN, { hostnqn: HOST_A });
    expect((await qp.handle(sqe({ opcode: 0x18 }), undefined)).status).toBe(0);
  });
});

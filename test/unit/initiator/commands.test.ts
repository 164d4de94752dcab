import { describe, expect, it } from 'vitest';
import {
  ADMIN_QUEUE_SIZE,
  connectCommand,
  connectResult,
  enableConfiguration,
  shutdownConfiguration,
  commandSetFor,
  getLogPageCommand,
  keepAliveCommand,
  readCommand,
  writeCommand,
  writeZeroesCommand,
  compareCommand,
  flushCommand,
  deallocateCommand,
  maxTransferBytes,
  ioInCapsuleDataSize,
} from '../../../src/initiator/commands.js';
import { decodeCap } from '../../../src/nvme/properties.js';
import { buildStruct, hex, seq } from '../nvme/support/spec-struct.js';

const SUBNQN = 'nqn.2024-01.io.example:disk1';
const HOSTNQN = 'nqn.2014-08.org.nvmexpress:uuid:00112233-4455-6677-8899-aabbccddeeff';

describe('host command builders (golden bytes from the spec figures)', () => {
  it('admin Connect: QID 0, SQSIZE 31 (Linux NVME_AQ_DEPTH), KATO, dynamic CNTLID', () => {
    const hostid = seq(16, 1);
    const { sqe, data } = connectCommand({
      qid: 0,
      sqsize: ADMIN_QUEUE_SIZE - 1,
      kato: 5000,
      hostid,
      cntlid: 0xffff,
      subnqn: SUBNQN,
      hostnqn: HOSTNQN,
    });
    // SGL1 stays zero: the transport fills it (in-capsule for the 1024 bytes of data).
    expect(sqe).toEqual(
      buildStruct(64, [
        [0, 'u8', 0x7f],
        [1, 'u8', 0x40],
        [4, 'u8', 0x01],
        [42, 'u16', 0],
        [44, 'u16', 31],
        [48, 'u32', 5000],
      ]),
    );
    expect(data).toEqual(
      buildStruct(1024, [
        [0, 'bytes', hostid],
        [16, 'u16', 0xffff],
        [256, 'nul', SUBNQN],
        [512, 'nul', HOSTNQN],
      ]),
    );
  });

  it('takes CNTLID from Connect response DW0 bits 15:0', () => {
    const cqe = buildStruct(16, [[0, 'u32', 0x00010023]]);
    expect(connectResult(cqe)).toBe(0x23);
  });

  it('enables with the command set and page size CAP offers, 64 B SQEs, 16 B CQEs', () => {
    const nvm = decodeCap((1n << 37n) | (0n << 48n));
    expect(enableConfiguration(nvm)).toBe(0x00460001);
    const bigPages = decodeCap((1n << 37n) | (2n << 48n));
    expect(enableConfiguration(bigPages)).toBe(0x00460001 | (2 << 7));
    // Admin-only controller (CAP.CSS bit 44, e.g. a discovery controller): CC.CSS 111b.
    expect(commandSetFor(decodeCap(1n << 44n))).toBe(0b111);
    expect(commandSetFor(decodeCap(1n << 43n))).toBe(0b110);
    // Shutdown notification: SHN 01b in bits 15:14, EN kept.
    expect(shutdownConfiguration(nvm)).toBe(0x00464001);
  });

  it('Get Log Page: LID 7:0, RAE 15, NUMDL 31:16, NUMDU CDW11, LPO CDW12-13 in bytes', () => {
    const sqe = getLogPageCommand({
      lid: 0x70,
      nsid: 0,
      offset: 0x1_0000_0400,
      length: 0x40000 * 4,
      rae: true,
    });
    // NUMD = 0x3ffff: NUMDL 0xffff, NUMDU 0x3.
    expect(sqe).toEqual(
      buildStruct(64, [
        [0, 'u8', 0x02],
        [1, 'u8', 0x40],
        [40, 'u32', 0x70 | (1 << 15) | (0xffff << 16)],
        [44, 'u32', 3],
        [48, 'u32', 0x400],
        [52, 'u32', 1],
      ]),
    );
    expect(() => getLogPageCommand({ lid: 2, nsid: 0, offset: 2, length: 4 })).toThrow(RangeError);
    expect(() => getLogPageCommand({ lid: 2, nsid: 0, offset: 0, length: 6 })).toThrow(RangeError);
  });

  it('Keep Alive is admin opcode 18h with nothing else set', () => {
    expect(keepAliveCommand()).toEqual(hex(`18 40 ${'00'.repeat(62)}`));
  });

  it('Read / Write / Write Zeroes / Compare / Flush', () => {
    const rw = (opc: number, cdw12: number) =>
      buildStruct(64, [
        [0, 'u8', opc],
        [1, 'u8', 0x40],
        [4, 'u32', 3],
        [40, 'u64', 0x1_0000_0010n],
        [48, 'u32', cdw12],
      ]);
    expect(readCommand(3, 0x1_0000_0010, 8)).toEqual(rw(0x02, 7));
    expect(writeCommand(3, 0x1_0000_0010, 8, true)).toEqual(rw(0x01, 7 | (1 << 30)));
    expect(writeZeroesCommand(3, 0x1_0000_0010, 65536)).toEqual(rw(0x08, 0xffff));
    expect(compareCommand(3, 0x1_0000_0010, 1)).toEqual(rw(0x05, 0));
    expect(flushCommand(0xffffffff)).toEqual(
      buildStruct(64, [
        [1, 'u8', 0x40],
        [4, 'u32', 0xffffffff],
      ]),
    );
  });

  it('deallocate: DSM with NR 0-based, AD set, 16-byte ranges', () => {
    const { sqe, data } = deallocateCommand(1, [
      { lba: 100, blocks: 8 },
      { lba: 0x2_0000_0000, blocks: 1 },
    ]);
    expect(sqe).toEqual(
      buildStruct(64, [
        [0, 'u8', 0x09],
        [1, 'u8', 0x40],
        [4, 'u32', 1],
        [40, 'u32', 1],
        [44, 'u32', 4],
      ]),
    );
    expect(data).toEqual(
      buildStruct(32, [
        [4, 'u32', 8],
        [8, 'u64', 100n],
        [20, 'u32', 1],
        [24, 'u64', 0x2_0000_0000n],
      ]),
    );
  });

  it('derives MDTS bytes and the I/O queue in-capsule size', () => {
    const cap = decodeCap(1n << 37n);
    expect(maxTransferBytes({ mdts: 8 } as never, cap)).toBe(1 << 20);
    expect(maxTransferBytes({ mdts: 0 } as never, cap)).toBe(Infinity);
    expect(ioInCapsuleDataSize({ ioccsz: 260 } as never)).toBe(4096);
  });
});

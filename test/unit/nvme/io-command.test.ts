import { describe, expect, it } from 'vitest';
import {
  IO_SLBA,
  IO_FUA,
  IO_LR,
  IO_DEAC,
  IO_MAX_BLOCKS,
  encodeIoCommand,
  decodeIoCommand,
} from '../../../src/nvme/io-command.js';
import {
  DSM_RANGE_SIZE,
  DSM_RANGE_CONTEXT_ATTRIBUTES,
  DSM_RANGE_NLB,
  DSM_RANGE_SLBA,
  DSM_ATTR_AD,
  encodeDsmRange,
  decodeDsmRange,
  encodeDsmRanges,
  decodeDsmRanges,
  encodeDsmCommand,
  decodeDsmCommand,
} from '../../../src/nvme/dsm.js';
import { IoOpcode } from '../../../src/nvme/opcodes.js';
import { buildStruct } from './support/spec-struct.js';

// NVM Command Set 1.0 3.2.4 / 3.2.6 (Read, Write), Figures 59-64; Linux struct nvme_rw_command.
describe('Read / Write / Write Zeroes / Compare', () => {
  it('has SLBA in CDW10-11, NLB 0-based in CDW12 15:0, FUA 30, LR 31, DEAC 25', () => {
    expect(IO_SLBA).toBe(40);
    expect([IO_FUA, IO_LR, IO_DEAC]).toEqual([1 << 30, 0x80000000, 1 << 25]);
    expect(IO_MAX_BLOCKS).toBe(65536);
  });

  it('encodes a FUA write of 8 blocks at a 40-bit LBA', () => {
    const golden = buildStruct(64, [
      [0, 'u8', 0x01],
      [1, 'u8', 0x40],
      [2, 'u16', 0x0042],
      [4, 'u32', 1],
      [40, 'u64', 0x12_3456_7890n],
      [48, 'u32', 7 | (1 << 30)],
      [52, 'u8', 0x07], // DSM hints
    ]);
    const cmd = {
      opcode: IoOpcode.Write,
      cid: 0x42,
      nsid: 1,
      slba: 0x12_3456_7890,
      blocks: 8,
      fua: true,
      dsm: 7,
    };
    expect(encodeIoCommand(cmd).equals(golden)).toBe(true);
    expect(decodeIoCommand(golden)).toMatchObject({ ...cmd, lr: false, deac: false });
  });

  it('encodes Write Zeroes with DEAC and Limited Retry, 65536 blocks as NLB FFFFh', () => {
    const enc = encodeIoCommand({
      opcode: IoOpcode.WriteZeroes,
      nsid: 2,
      slba: 0,
      blocks: 65536,
      deac: true,
      lr: true,
    });
    expect(enc[0]).toBe(0x08);
    expect(enc.readUInt32LE(48)).toBe((0xffff | (1 << 25) | 0x80000000) >>> 0);
    expect(decodeIoCommand(enc)).toMatchObject({ blocks: 65536, deac: true, lr: true });
  });

  it('refuses block counts outside 1..65536', () => {
    expect(() => encodeIoCommand({ opcode: 2, nsid: 1, slba: 0, blocks: 0 })).toThrow(RangeError);
    expect(() => encodeIoCommand({ opcode: 2, nsid: 1, slba: 0, blocks: 65537 })).toThrow(
      RangeError,
    );
  });
});

// NVM Command Set 1.0 3.2.3, Figures 38-40; Linux struct nvme_dsm_range.
describe('Dataset Management', () => {
  it('has 16-byte ranges: context attributes 0, NLB 4, SLBA 8', () => {
    expect(DSM_RANGE_SIZE).toBe(16);
    expect([DSM_RANGE_CONTEXT_ATTRIBUTES, DSM_RANGE_NLB, DSM_RANGE_SLBA]).toEqual([0, 4, 8]);
  });

  it('encodes and decodes ranges back to back', () => {
    const golden = buildStruct(32, [
      [0, 'u32', 0x11],
      [4, 'u32', 0xffffffff],
      [8, 'u64', 0x1_0000_0000n],
      [20, 'u32', 8],
      [24, 'u64', 16n],
    ]);
    const ranges = [
      { contextAttributes: 0x11, nlb: 0xffffffff, slba: 0x1_0000_0000 },
      { contextAttributes: 0, nlb: 8, slba: 16 },
    ];
    expect(encodeDsmRanges(ranges).equals(golden)).toBe(true);
    expect(decodeDsmRanges(golden, 2)).toEqual(ranges);
    expect(encodeDsmRange(ranges[1]).equals(golden.subarray(16))).toBe(true);
    expect(decodeDsmRange(golden, 16)).toEqual(ranges[1]);
  });

  it('puts NR (0-based) in CDW10 7:0 and AD in CDW11 bit 2', () => {
    const golden = buildStruct(64, [
      [0, 'u8', 0x09],
      [1, 'u8', 0x40],
      [4, 'u32', 1],
      [40, 'u32', 255],
      [44, 'u32', 0x4],
    ]);
    const enc = encodeDsmCommand({ nsid: 1, ranges: 256, attributes: DSM_ATTR_AD });
    expect(enc.equals(golden)).toBe(true);
    expect(decodeDsmCommand(golden)).toMatchObject({ ranges: 256, deallocate: true });
  });

  it('refuses 0 or more than 256 ranges', () => {
    expect(() => encodeDsmRanges([])).toThrow(RangeError);
    expect(() => encodeDsmCommand({ nsid: 1, ranges: 257, attributes: 0 })).toThrow(RangeError);
    expect(() => decodeDsmRanges(Buffer.alloc(31), 2)).toThrow(RangeError);
  });
});

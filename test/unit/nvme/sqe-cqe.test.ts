import { describe, expect, it } from 'vitest';
import {
  SQE_SIZE,
  SQE_OPCODE,
  SQE_FLAGS,
  SQE_CID,
  SQE_NSID,
  SQE_FCTYPE,
  SQE_CDW2,
  SQE_CDW3,
  SQE_MPTR,
  SQE_DPTR,
  SQE_CDW10,
  SQE_CDW11,
  SQE_CDW12,
  SQE_CDW13,
  SQE_CDW14,
  SQE_CDW15,
  decodeSqe,
  encodeSqe,
  sqeCid,
  setSqeCid,
  sqeOpcode,
} from '../../../src/nvme/sqe.js';
import {
  CQE_SIZE,
  CQE_DW0,
  CQE_DW1,
  CQE_SQHD,
  CQE_SQID,
  CQE_CID,
  CQE_STATUS,
  decodeCqe,
  encodeCqe,
  encodeCqeStatus,
  cqeCid,
  cqeOk,
} from '../../../src/nvme/cqe.js';
import { buildStruct, hex } from './support/spec-struct.js';

// NVMe Base 2.0 Figure 88 / Linux struct nvme_common_command: the 64-byte SQE.
describe('SQE (64 bytes)', () => {
  it('has the spec offsets', () => {
    expect(SQE_SIZE).toBe(64);
    expect([SQE_OPCODE, SQE_FLAGS, SQE_CID, SQE_NSID, SQE_FCTYPE]).toEqual([0, 1, 2, 4, 4]);
    expect([SQE_CDW2, SQE_CDW3, SQE_MPTR, SQE_DPTR]).toEqual([8, 12, 16, 24]);
    expect([SQE_CDW10, SQE_CDW11, SQE_CDW12, SQE_CDW13, SQE_CDW14, SQE_CDW15]).toEqual([
      40, 44, 48, 52, 56, 60,
    ]);
  });

  const fields = {
    opcode: 0x02,
    fuse: 0,
    psdt: 1,
    cid: 0xbeef,
    nsid: 0x01020304,
    cdw2: 0x11111111,
    cdw3: 0x22222222,
    mptr: 0x0807060504030201n,
    sgl: { type: 0x5, subtype: 0xa, address: 0x1122334455667788n, length: 0x00100000 },
    cdw10: 0xa0a0a0a0,
    cdw11: 0xb1b1b1b1,
    cdw12: 0xc2c2c2c2,
    cdw13: 0xd3d3d3d3,
    cdw14: 0xe4e4e4e4,
    cdw15: 0xf5f5f5f5,
  };
  const golden = buildStruct(64, [
    [0, 'u8', 0x02],
    [1, 'u8', 0x40], // PSDT 01b in bits 7:6
    [2, 'u16', 0xbeef],
    [4, 'u32', 0x01020304],
    [8, 'u32', 0x11111111],
    [12, 'u32', 0x22222222],
    [16, 'u64', 0x0807060504030201n],
    [24, 'u64', 0x1122334455667788n],
    [32, 'u32', 0x00100000],
    [39, 'u8', 0x5a], // SGL identifier: type 5h bits 7:4, subtype Ah bits 3:0
    [40, 'u32', 0xa0a0a0a0],
    [44, 'u32', 0xb1b1b1b1],
    [48, 'u32', 0xc2c2c2c2],
    [52, 'u32', 0xd3d3d3d3],
    [56, 'u32', 0xe4e4e4e4],
    [60, 'u32', 0xf5f5f5f5],
  ]);

  it('encodes every field at its offset', () => {
    expect(encodeSqe(fields).toString('hex')).toBe(golden.toString('hex'));
  });

  it('decodes the golden bytes', () => {
    const s = decodeSqe(golden);
    expect(s).toMatchObject({ ...fields, fctype: 0x04 });
  });

  it('encodes at an offset inside a larger buffer and leaves the rest alone', () => {
    const out = Buffer.alloc(80, 0xee);
    encodeSqe(fields, out, 8);
    expect(out.subarray(8, 72).equals(golden)).toBe(true);
    expect(out.subarray(0, 8).every((b) => b === 0xee)).toBe(true);
    expect(out.subarray(72).every((b) => b === 0xee)).toBe(true);
    expect(decodeSqe(out, 8).cid).toBe(0xbeef);
  });

  it('puts FCTYPE at byte 4 of a Fabrics command and FUSE in bits 1:0 of byte 1', () => {
    // Property Get of CAP, written from NVMe-oF 1.1 Figure 9 by hand.
    expect(encodeSqe({ opcode: 0x7f, fctype: 0x04, cid: 7, fuse: 0 }).subarray(0, 8)).toEqual(
      hex('7f 40 0700 04 000000'),
    );
    expect(encodeSqe({ opcode: 0x05, fuse: 0b01 })[1]).toBe(0x41);
  });

  it('reads and sets the CID in place', () => {
    const sqe = encodeSqe({ opcode: 0x01 });
    setSqeCid(sqe, 0x4321);
    expect(sqe.subarray(2, 4)).toEqual(hex('2143'));
    expect(sqeCid(sqe)).toBe(0x4321);
    expect(sqeOpcode(sqe)).toBe(1);
  });

  it('refuses a short buffer', () => {
    expect(() => decodeSqe(Buffer.alloc(63))).toThrow(RangeError);
  });
});

// NVMe Base 2.0 Figures 98-101 / Linux struct nvme_completion: the 16-byte CQE.
describe('CQE (16 bytes)', () => {
  it('has the spec offsets', () => {
    expect(CQE_SIZE).toBe(16);
    expect([CQE_DW0, CQE_DW1, CQE_SQHD, CQE_SQID, CQE_CID, CQE_STATUS]).toEqual([
      0, 4, 8, 10, 12, 14,
    ]);
  });

  it('packs the status field: P bit 0, SC 8:1, SCT 11:9, CRD 13:12, M 14, DNR 15', () => {
    // SCT 1 SC 84h (Connect Invalid Host), DNR: 0x8000 | 1 << 9 | 0x84 << 1 = 0x8308
    expect(encodeCqeStatus(1, 0x84, true)).toBe(0x8308);
    expect(encodeCqeStatus(0, 0, false, false, 0, 1)).toBe(0x0001);
    expect(encodeCqeStatus(7, 0xff, true, true, 3, 1)).toBe(0xffff);
    expect(encodeCqeStatus(2, 0x85, false, true, 2)).toBe(0x4000 | 0x2000 | (2 << 9) | (0x85 << 1));
  });

  const golden = buildStruct(16, [
    [0, 'u32', 0xdeadbeef],
    [4, 'u32', 0x01234567],
    [8, 'u16', 0x0011],
    [10, 'u16', 0x0003],
    [12, 'u16', 0xabcd],
    [14, 'u16', 0x8000 | (3 << 12) | (0 << 9) | (0x80 << 1)],
  ]);

  it('encodes and decodes every field', () => {
    const init = {
      dw0: 0xdeadbeef,
      dw1: 0x01234567,
      sqhd: 0x11,
      sqid: 3,
      cid: 0xabcd,
      sct: 0,
      sc: 0x80,
      crd: 3,
      dnr: true,
    };
    expect(encodeCqe(init).equals(golden)).toBe(true);
    expect(decodeCqe(golden)).toEqual({ ...init, phase: 0, more: false });
    expect(cqeCid(golden)).toBe(0xabcd);
    expect(cqeOk(golden)).toBe(false);
  });

  it('treats a set phase bit alone as success', () => {
    const ok = buildStruct(16, [
      [12, 'u16', 1],
      [14, 'u16', 1],
    ]);
    expect(cqeOk(ok)).toBe(true);
    expect(decodeCqe(ok)).toMatchObject({ phase: 1, sct: 0, sc: 0 });
  });
});

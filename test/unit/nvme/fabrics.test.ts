import { describe, expect, it } from 'vitest';
import {
  CONNECT_RECFMT,
  CONNECT_QID,
  CONNECT_SQSIZE,
  CONNECT_CATTR,
  CONNECT_KATO,
  CONNECT_DATA_SIZE,
  CONNECT_DATA_HOSTID,
  CONNECT_DATA_CNTLID,
  CONNECT_DATA_SUBNQN,
  CONNECT_DATA_HOSTNQN,
  CNTLID_DYNAMIC,
  CATTR_DISABLE_SQ_FLOW_CONTROL,
  PROPERTY_ATTRIB,
  PROPERTY_OFST,
  PROPERTY_VALUE,
  DISCONNECT_RECFMT,
  encodeConnectCommand,
  decodeConnectCommand,
  encodeConnectData,
  decodeConnectData,
  encodeConnectResponseDw0,
  decodeConnectResponseDw0,
  encodeConnectInvalidParamDw0,
  decodeConnectInvalidParamDw0,
  encodePropertyGet,
  decodePropertyGet,
  encodePropertySet,
  decodePropertySet,
  encodePropertyGetResponse,
  decodePropertyGetResponse,
  encodeDisconnect,
  decodeDisconnect,
} from '../../../src/nvme/fabrics.js';
import { FABRICS_OPCODE, FabricsType } from '../../../src/nvme/opcodes.js';
import { buildStruct, seq } from './support/spec-struct.js';

const SUBNQN = 'nqn.2024-01.io.example:disk1';
const HOSTNQN = 'nqn.2014-08.org.nvmexpress:uuid:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';

// NVMe-oF 1.1, 3.3, Figure 19 / Linux struct nvmf_connect_command.
describe('Connect command', () => {
  it('has the spec offsets', () => {
    expect([CONNECT_RECFMT, CONNECT_QID, CONNECT_SQSIZE, CONNECT_CATTR, CONNECT_KATO]).toEqual([
      40, 42, 44, 46, 48,
    ]);
    expect(FABRICS_OPCODE).toBe(0x7f);
    expect(FabricsType.Connect).toBe(0x01);
    expect(CATTR_DISABLE_SQ_FLOW_CONTROL).toBe(0x04);
  });

  const golden = buildStruct(64, [
    [0, 'u8', 0x7f],
    [1, 'u8', 0x40], // SGL
    [2, 'u16', 0x0102],
    [4, 'u8', 0x01], // FCTYPE Connect
    [32, 'u32', 1024], // SGL1 length
    [39, 'u8', 0x01], // in-capsule Data Block / Offset
    [40, 'u16', 0], // RECFMT
    [42, 'u16', 3], // QID
    [44, 'u16', 127], // SQSIZE (0-based)
    [46, 'u8', 0x04], // CATTR
    [48, 'u32', 15000], // KATO ms
  ]);
  const cmd = {
    cid: 0x0102,
    recfmt: 0,
    qid: 3,
    sqsize: 127,
    cattr: 0x04,
    kato: 15000,
    sgl: { type: 0, subtype: 1, address: 0n, length: 1024 },
  };

  it('encodes the golden bytes', () => {
    expect(encodeConnectCommand(cmd).toString('hex')).toBe(golden.toString('hex'));
  });

  it('decodes the golden bytes', () => {
    expect(decodeConnectCommand(golden)).toEqual(cmd);
  });
});

// NVMe-oF 1.1 Figure 20 / Linux struct nvmf_connect_data: 1024 bytes.
describe('Connect data', () => {
  const hostid = seq(16, 0xa0);
  const golden = buildStruct(1024, [
    [0, 'bytes', hostid],
    [16, 'u16', 0xffff],
    [256, 'nul', SUBNQN],
    [512, 'nul', HOSTNQN],
  ]);

  it('has the spec offsets', () => {
    expect(CONNECT_DATA_SIZE).toBe(1024);
    expect([CONNECT_DATA_HOSTID, CONNECT_DATA_CNTLID, CONNECT_DATA_SUBNQN]).toEqual([0, 16, 256]);
    expect(CONNECT_DATA_HOSTNQN).toBe(512);
    expect(CNTLID_DYNAMIC).toBe(0xffff);
  });

  it('encodes with the dynamic CNTLID by default, NQNs NUL padded, reserved bytes zero', () => {
    const enc = encodeConnectData({ hostid, subnqn: SUBNQN, hostnqn: HOSTNQN });
    expect(enc.length).toBe(1024);
    expect(enc.equals(golden)).toBe(true);
  });

  it('decodes the golden bytes', () => {
    expect(decodeConnectData(golden)).toEqual({
      hostid,
      cntlid: 0xffff,
      subnqn: SUBNQN,
      hostnqn: HOSTNQN,
    });
  });

  it('decodes a 256-byte NQN field that has no NUL', () => {
    const long = 'n'.repeat(256);
    const buf = buildStruct(1024, [[256, 'nul', long]]);
    expect(decodeConnectData(buf).subnqn).toBe(long);
  });

  it('refuses an NQN longer than its field', () => {
    expect(() => encodeConnectData({ subnqn: 'x'.repeat(257), hostnqn: HOSTNQN })).toThrow(
      RangeError,
    );
  });
});

// NVMe-oF 1.1 Figure 21: Connect response DW0.
describe('Connect response', () => {
  it('carries CNTLID in bits 15:0 and AUTHREQ in 31:16', () => {
    expect(encodeConnectResponseDw0(0x0007, 0x1)).toBe(0x00010007);
    expect(decodeConnectResponseDw0(0x00020042)).toEqual({ cntlid: 0x42, authreq: 2 });
  });

  it('carries IPO in bits 15:0 and IATTR in 23:16 for Connect Invalid Parameters', () => {
    expect(encodeConnectInvalidParamDw0({ inData: true, ipo: 256 })).toBe(0x00010100);
    expect(decodeConnectInvalidParamDw0(0x0000002c)).toEqual({ inData: false, ipo: 44 });
  });
});

// NVMe-oF 1.1 Figures 22-25 / Linux struct nvmf_property_{get,set}_command.
describe('Property Get / Set', () => {
  it('has the spec offsets', () => {
    expect([PROPERTY_ATTRIB, PROPERTY_OFST, PROPERTY_VALUE, DISCONNECT_RECFMT]).toEqual([
      40, 44, 48, 40,
    ]);
  });

  it('encodes Property Get of CAP (8 bytes)', () => {
    const golden = buildStruct(64, [
      [0, 'u8', 0x7f],
      [1, 'u8', 0x40],
      [2, 'u16', 9],
      [4, 'u8', 0x04],
      [40, 'u8', 1],
      [44, 'u32', 0x00],
    ]);
    expect(encodePropertyGet({ cid: 9, offset: 0, size: 8 }).equals(golden)).toBe(true);
    expect(decodePropertyGet(golden)).toEqual({ cid: 9, attrib: 1, size: 8, offset: 0 });
  });

  it('encodes Property Set of CC (4 bytes) with the value at byte 48', () => {
    const golden = buildStruct(64, [
      [0, 'u8', 0x7f],
      [1, 'u8', 0x40],
      [2, 'u16', 10],
      [4, 'u8', 0x00],
      [40, 'u8', 0],
      [44, 'u32', 0x14],
      [48, 'u64', 0x00460001n],
    ]);
    const enc = encodePropertySet({ cid: 10, offset: 0x14, size: 4, value: 0x00460001 });
    expect(enc.equals(golden)).toBe(true);
    expect(decodePropertySet(golden)).toEqual({
      cid: 10,
      attrib: 0,
      size: 4,
      offset: 0x14,
      value: 0x00460001n,
    });
  });

  it('reports a reserved ATTRIB size as 0', () => {
    const buf = buildStruct(64, [
      [0, 'u8', 0x7f],
      [4, 'u8', 0x04],
      [40, 'u8', 2],
    ]);
    expect(decodePropertyGet(buf).size).toBe(0);
  });

  it('returns an 8-byte property in CQE DW0 (low) and DW1 (high)', () => {
    expect(encodePropertyGetResponse(0x1122334455667788n)).toEqual({
      dw0: 0x55667788,
      dw1: 0x11223344,
    });
    expect(decodePropertyGetResponse(0xffffffff, 0x80000000)).toBe(0x80000000ffffffffn);
  });
});

describe('Disconnect', () => {
  it('is FCTYPE 08h with RECFMT 0 at byte 40', () => {
    const golden = buildStruct(64, [
      [0, 'u8', 0x7f],
      [1, 'u8', 0x40],
      [2, 'u16', 3],
      [4, 'u8', 0x08],
    ]);
    expect(encodeDisconnect({ cid: 3 }).equals(golden)).toBe(true);
    expect(decodeDisconnect(golden)).toEqual({ cid: 3, recfmt: 0 });
  });
});

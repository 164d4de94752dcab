import { describe, expect, it } from 'vitest';
import {
  IDENTIFY_CONTROLLER_SIZE,
  ID_CTRL_MDTS,
  ID_CTRL_CNTLID,
  ID_CTRL_KAS,
  ID_CTRL_SQES,
  ID_CTRL_MAXCMD,
  ID_CTRL_NN,
  ID_CTRL_SGLS,
  ID_CTRL_SUBNQN,
  ID_CTRL_IOCCSZ,
  ID_CTRL_IORCSZ,
  ID_CTRL_ICDOFF,
  ID_CTRL_FCATT,
  ID_CTRL_MSDBD,
  ID_CTRL_OFCS,
  ID_CTRL_PSD0,
  ID_CTRL_VS,
  SQES_64,
  CQES_16,
  OAES_DISCOVERY_LOG_CHANGE,
  type IdentifyController,
  encodeIdentifyController,
  decodeIdentifyController,
  maxDataTransferBytes,
  inCapsuleDataBytes,
  ioccszFor,
} from '../../../src/nvme/identify-controller.js';
import { buildStruct, seq, type SpecField } from './support/spec-struct.js';

/**
 * Every field with its offset from NVMe Base 2.0 Figure 275 and NVMe-oF 1.1 Figure 28, checked
 * against Linux's struct nvme_id_ctrl (ioccsz 1792, iorcsz 1796, icdoff 1800, fcatt 1802, msdbd
 * 1803, ofcs 1804): [offset, kind, key, value, size].
 */
const FIELDS: readonly [number, SpecField[1], keyof IdentifyController, unknown, number?][] = [
  [0, 'u16', 'vid', 0x1b36],
  [2, 'u16', 'ssvid', 0x1af4],
  [4, 'ascii', 'sn', 'SN-0123456789', 20],
  [24, 'ascii', 'mn', 'nvmf-dpu memory namespace', 40],
  [64, 'ascii', 'fr', '0.1.0', 8],
  [72, 'u8', 'rab', 6],
  [73, 'u24', 'ieee', 0x123456],
  [76, 'u8', 'cmic', 0x0b],
  [77, 'u8', 'mdts', 8],
  [78, 'u16', 'cntlid', 0x0102],
  [80, 'u32', 'ver', 0x00010400],
  [84, 'u32', 'rtd3r', 0x01010101],
  [88, 'u32', 'rtd3e', 0x02020202],
  [92, 'u32', 'oaes', 0x80000900],
  [96, 'u32', 'ctratt', 0x00000041],
  [100, 'u16', 'rrls', 0x0303],
  [111, 'u8', 'cntrltype', 1],
  [112, 'bytes', 'fguid', seq(16, 0x70), 16],
  [128, 'u16', 'crdt1', 11],
  [130, 'u16', 'crdt2', 12],
  [132, 'u16', 'crdt3', 13],
  [256, 'u16', 'oacs', 0x0204],
  [258, 'u8', 'acl', 3],
  [259, 'u8', 'aerl', 4],
  [260, 'u8', 'frmw', 0x03],
  [261, 'u8', 'lpa', 0x06],
  [262, 'u8', 'elpe', 63],
  [263, 'u8', 'npss', 1],
  [264, 'u8', 'avscc', 1],
  [265, 'u8', 'apsta', 1],
  [266, 'u16', 'wctemp', 343],
  [268, 'u16', 'cctemp', 373],
  [270, 'u16', 'mtfa', 14],
  [272, 'u32', 'hmpre', 15],
  [276, 'u32', 'hmmin', 16],
  [280, 'u128', 'tnvmcap', 0x0102030405060708090a0b0c0d0e0f10n],
  [296, 'u128', 'unvmcap', 0x1112131415161718191a1b1c1d1e1f20n],
  [312, 'u32', 'rpmbs', 17],
  [316, 'u16', 'edstt', 18],
  [318, 'u8', 'dsto', 1],
  [319, 'u8', 'fwug', 19],
  [320, 'u16', 'kas', 10],
  [322, 'u16', 'hctma', 1],
  [324, 'u16', 'mntmt', 273],
  [326, 'u16', 'mxtmt', 363],
  [328, 'u32', 'sanicap', 20],
  [332, 'u32', 'hmminds', 21],
  [336, 'u16', 'hmmaxd', 22],
  [338, 'u16', 'nsetidmax', 23],
  [340, 'u16', 'endgidmax', 24],
  [342, 'u8', 'anatt', 25],
  [343, 'u8', 'anacap', 26],
  [344, 'u32', 'anagrpmax', 27],
  [348, 'u32', 'nanagrpid', 28],
  [352, 'u32', 'pels', 29],
  [512, 'u8', 'sqes', 0x66],
  [513, 'u8', 'cqes', 0x44],
  [514, 'u16', 'maxcmd', 128],
  [516, 'u32', 'nn', 1024],
  [520, 'u16', 'oncs', 0x000d],
  [522, 'u16', 'fuses', 1],
  [524, 'u8', 'fna', 4],
  [525, 'u8', 'vwc', 7],
  [526, 'u16', 'awun', 30],
  [528, 'u16', 'awupf', 31],
  [530, 'u8', 'icsvscc', 1],
  [531, 'u8', 'nwpc', 1],
  [532, 'u16', 'acwu', 32],
  [536, 'u32', 'sgls', 0x00300005],
  [540, 'u32', 'mnan', 33],
  [768, 'nul', 'subnqn', 'nqn.2024-01.io.example:disk1', 256],
  [1792, 'u32', 'ioccsz', 516],
  [1796, 'u32', 'iorcsz', 1],
  [1800, 'u16', 'icdoff', 0x0a0b],
  [1802, 'u8', 'fcatt', 1],
  [1803, 'u8', 'msdbd', 1],
  [1804, 'u16', 'ofcs', 1],
  [2048, 'bytes', 'psd0', seq(32, 0x90), 32],
];

const golden = buildStruct(
  4096,
  FIELDS.map(([offset, kind, , value, size]) => [offset, kind, value as never, size] as const),
);
const values = Object.fromEntries(
  FIELDS.map(([, , key, value]) => [key, value]),
) as unknown as IdentifyController;

describe('Identify Controller (CNS 01h, 4096 bytes)', () => {
  it('names the offsets of the spec, including the Fabrics fields from 1792', () => {
    expect(IDENTIFY_CONTROLLER_SIZE).toBe(4096);
    expect([ID_CTRL_MDTS, ID_CTRL_CNTLID, ID_CTRL_KAS]).toEqual([77, 78, 320]);
    expect([ID_CTRL_SQES, ID_CTRL_MAXCMD, ID_CTRL_NN, ID_CTRL_SGLS]).toEqual([512, 514, 516, 536]);
    expect(ID_CTRL_SUBNQN).toBe(768);
    expect([ID_CTRL_IOCCSZ, ID_CTRL_IORCSZ, ID_CTRL_ICDOFF]).toEqual([1792, 1796, 1800]);
    expect([ID_CTRL_FCATT, ID_CTRL_MSDBD, ID_CTRL_OFCS]).toEqual([1802, 1803, 1804]);
    expect([ID_CTRL_PSD0, ID_CTRL_VS]).toEqual([2048, 3072]);
    expect([SQES_64, CQES_16]).toEqual([0x66, 0x44]);
  });

  it('encodes every field at its spec offset; reserved bytes stay zero', () => {
    const enc = encodeIdentifyController(values);
    expect(enc.length).toBe(4096);
    for (let i = 0; i < 4096; i++) {
      if (enc[i] !== golden[i]) {
        expect.fail(
          `byte ${i}: encoded 0x${enc[i].toString(16)}, spec 0x${golden[i].toString(16)}`,
        );
      }
    }
  });

  it('decodes every field from the spec bytes', () => {
    const id = decodeIdentifyController(golden);
    for (const [offset, , key, value] of FIELDS) {
      expect(id[key], `${key} at ${offset}`).toEqual(value);
    }
  });

  it('pads SN/MN/FR with spaces and trims them on decode', () => {
    const enc = encodeIdentifyController({ sn: 'A' });
    expect(enc.subarray(4, 24).toString('latin1')).toBe(`A${' '.repeat(19)}`);
    expect(enc.subarray(24, 64).every((b) => b === 0x20)).toBe(true);
    expect(decodeIdentifyController(enc).sn).toBe('A');
  });

  it('takes OAES bit 31 (Discovery Log Page Change) as an unsigned value', () => {
    const enc = encodeIdentifyController({ oaes: OAES_DISCOVERY_LOG_CHANGE });
    expect(enc.readUInt32LE(92)).toBe(0x80000000);
  });

  it('refuses values that do not fit their field', () => {
    expect(() => encodeIdentifyController({ sn: 'x'.repeat(21) })).toThrow(RangeError);
    expect(() => encodeIdentifyController({ sn: 'caf\u00e9' })).toThrow(/printable ASCII/);
    expect(() => encodeIdentifyController({ mdts: 256 })).toThrow(RangeError);
  });
});

describe('MDTS and capsule sizes', () => {
  it('MDTS counts 2^n pages of CAP.MPSMIN; 0 is no limit', () => {
    expect(maxDataTransferBytes(0)).toBe(Infinity);
    expect(maxDataTransferBytes(5)).toBe(128 * 1024);
    expect(maxDataTransferBytes(5, 1)).toBe(256 * 1024);
  });

  it('IOCCSZ counts 16-byte units including the 64-byte SQE', () => {
    expect(inCapsuleDataBytes(4)).toBe(0);
    expect(inCapsuleDataBytes(516)).toBe(8192);
    expect(ioccszFor(8192)).toBe(516);
    expect(ioccszFor(0)).toBe(4);
  });
});

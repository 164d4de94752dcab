import { describe, expect, it } from 'vitest';
import {
  Cns,
  NsIdType,
  IDENTIFY_DATA_SIZE,
  NIDD_NIDT,
  NIDD_NIDL,
  NIDD_NID,
  encodeIdentifyCommand,
  decodeIdentifyCommand,
  encodeActiveNsList,
  decodeActiveNsList,
  encodeNsIdDescriptors,
  decodeNsIdDescriptors,
} from '../../../src/nvme/identify.js';
import { buildStruct, seq } from './support/spec-struct.js';

// NVMe Base 2.0 5.17, Figures 270-273.
describe('Identify command', () => {
  it('places CNS in CDW10 7:0, CNTID 31:16, CNSSID in CDW11 15:0, CSI 31:24, UUID index CDW14 6:0', () => {
    const golden = buildStruct(64, [
      [0, 'u8', 0x06],
      [1, 'u8', 0x40],
      [2, 'u16', 0x0c0d],
      [4, 'u32', 7],
      [40, 'u8', 0x03], // CNS
      [42, 'u16', 0x0021], // CNTID
      [44, 'u16', 0x1234], // CNSSID
      [47, 'u8', 0x02], // CSI
      [56, 'u8', 0x05], // UUID index
    ]);
    const cmd = { cid: 0x0c0d, nsid: 7, cns: 3, cntid: 0x21, cnssid: 0x1234, csi: 2, uuidIndex: 5 };
    expect(encodeIdentifyCommand(cmd).equals(golden)).toBe(true);
    expect(decodeIdentifyCommand(golden)).toEqual(cmd);
    expect([
      Cns.Namespace,
      Cns.Controller,
      Cns.ActiveNamespaceList,
      Cns.NamespaceIdDescriptors,
    ]).toEqual([0, 1, 2, 3]);
    expect(IDENTIFY_DATA_SIZE).toBe(4096);
  });
});

describe('Active Namespace ID list (CNS 02h)', () => {
  it('is ascending u32 NSIDs, zero terminated, 4096 bytes', () => {
    const golden = buildStruct(4096, [
      [0, 'u32', 1],
      [4, 'u32', 2],
      [8, 'u32', 0x10000],
    ]);
    expect(encodeActiveNsList([1, 2, 0x10000]).equals(golden)).toBe(true);
    expect(decodeActiveNsList(golden)).toEqual([1, 2, 0x10000]);
  });

  it('decodes a full list of 1024 and refuses a list out of order', () => {
    const full = Buffer.alloc(4096);
    for (let i = 0; i < 1024; i++) full.writeUInt32LE(i + 1, i * 4);
    expect(decodeActiveNsList(full)).toHaveLength(1024);
    expect(() => encodeActiveNsList([2, 1])).toThrow(RangeError);
    expect(() => encodeActiveNsList([0xffffffff])).toThrow(RangeError);
  });
});

// NVMe Base 2.0 Figure 277: NIDT u8, NIDL u8, 2 reserved, NID.
describe('Namespace Identification Descriptor list (CNS 03h)', () => {
  const nguid = seq(16, 0x10);
  const uuid = seq(16, 0x80);
  const golden = buildStruct(4096, [
    [0, 'u8', 2],
    [1, 'u8', 16],
    [4, 'bytes', nguid],
    [20, 'u8', 3],
    [21, 'u8', 16],
    [24, 'bytes', uuid],
    [40, 'u8', 4],
    [41, 'u8', 1],
    [44, 'u8', 0],
  ]);
  const list = [
    { nidt: NsIdType.Nguid, nid: nguid },
    { nidt: NsIdType.Uuid, nid: uuid },
    { nidt: NsIdType.Csi, nid: Buffer.from([0]) },
  ];

  it('has the header offsets', () => {
    expect([NIDD_NIDT, NIDD_NIDL, NIDD_NID]).toEqual([0, 1, 4]);
  });

  it('encodes and decodes the descriptors back to back', () => {
    expect(encodeNsIdDescriptors(list).equals(golden)).toBe(true);
    expect(decodeNsIdDescriptors(golden)).toEqual(list);
  });

  it('refuses an identifier of the wrong length for its type', () => {
    expect(() => encodeNsIdDescriptors([{ nidt: NsIdType.Uuid, nid: seq(8, 1) }])).toThrow(
      /16-byte/,
    );
  });

  it('stops at a descriptor that runs past the 4096 bytes', () => {
    // 15 vendor descriptors of 4 + 252 bytes fill 3840 bytes; a 16th of 4 + 255 would end at 4099.
    const fields: [number, 'u8', number][] = [];
    for (let i = 0; i < 15; i++) fields.push([i * 256, 'u8', 0x80], [i * 256 + 1, 'u8', 252]);
    fields.push([3840, 'u8', 0x81], [3841, 'u8', 255]);
    const list = decodeNsIdDescriptors(buildStruct(4096, fields));
    expect(list).toHaveLength(15);
    expect(list.every((d) => d.nidt === 0x80 && d.nid.length === 252)).toBe(true);
  });
});

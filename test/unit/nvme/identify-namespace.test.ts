import { describe, expect, it } from 'vitest';
import {
  IDENTIFY_NAMESPACE_SIZE,
  ID_NS_NSZE,
  ID_NS_NLBAF,
  ID_NS_FLBAS,
  ID_NS_DLFEAT,
  ID_NS_NVMCAP,
  ID_NS_ANAGRPID,
  ID_NS_NGUID,
  ID_NS_EUI64,
  ID_NS_LBAF0,
  LBA_FORMAT_SIZE,
  type IdentifyNamespace,
  encodeIdentifyNamespace,
  decodeIdentifyNamespace,
  flbasIndex,
  encodeFlbas,
  formattedBlockSize,
} from '../../../src/nvme/identify-namespace.js';
import { buildStruct, seq, type SpecField } from './support/spec-struct.js';

/**
 * NVM Command Set 1.0 Figure 97 / Linux struct nvme_id_ns: [offset, kind, key, value, size].
 */
type Key = Exclude<keyof IdentifyNamespace, 'lbaf'>;
const FIELDS: readonly [number, SpecField[1], Key, unknown, number?][] = [
  [0, 'u64', 'nsze', 0x0000000123456789],
  [8, 'u64', 'ncap', 0x0000000023456789],
  [16, 'u64', 'nuse', 0x0000000003456789],
  [24, 'u8', 'nsfeat', 0x15],
  [25, 'u8', 'nlbaf', 2],
  [26, 'u8', 'flbas', 0x01],
  [27, 'u8', 'mc', 0x02],
  [28, 'u8', 'dpc', 0x03],
  [29, 'u8', 'dps', 0x04],
  [30, 'u8', 'nmic', 0x01],
  [31, 'u8', 'rescap', 0x05],
  [32, 'u8', 'fpi', 0x06],
  [33, 'u8', 'dlfeat', 0x09],
  [34, 'u16', 'nawun', 0x0a0b],
  [36, 'u16', 'nawupf', 0x0c0d],
  [38, 'u16', 'nacwu', 0x0e0f],
  [40, 'u16', 'nabsn', 0x1011],
  [42, 'u16', 'nabo', 0x1213],
  [44, 'u16', 'nabspf', 0x1415],
  [46, 'u16', 'noiob', 0x1617],
  [48, 'u128', 'nvmcap', 0x18191a1b1c1d1e1f2021222324252627n],
  [64, 'u16', 'npwg', 0x2829],
  [66, 'u16', 'npwa', 0x2a2b],
  [68, 'u16', 'npdg', 0x2c2d],
  [70, 'u16', 'npda', 0x2e2f],
  [72, 'u16', 'nows', 0x3031],
  [74, 'u16', 'mssrl', 0x3233],
  [76, 'u32', 'mcl', 0x34353637],
  [80, 'u8', 'msrc', 0x38],
  [92, 'u32', 'anagrpid', 0x393a3b3c],
  [99, 'u8', 'nsattr', 0x01],
  [100, 'u16', 'nvmsetid', 0x3d3e],
  [102, 'u16', 'endgid', 0x3f40],
  [104, 'bytes', 'nguid', seq(16, 0x41), 16],
  [120, 'bytes', 'eui64', seq(8, 0x51), 8],
];

// LBA formats at 128 + 4n: MS u16, LBADS u8, RP u8 bits 1:0 (Figure 98).
const LBAF = [
  { ms: 0, lbads: 9, rp: 2 },
  { ms: 0, lbads: 12, rp: 0 },
  { ms: 8, lbads: 12, rp: 1 },
];
const golden = buildStruct(4096, [
  ...FIELDS.map(([offset, kind, , value, size]) => [offset, kind, value as never, size] as const),
  [128, 'u16', 0],
  [130, 'u8', 9],
  [131, 'u8', 2],
  [132, 'u16', 0],
  [134, 'u8', 12],
  [135, 'u8', 0],
  [136, 'u16', 8],
  [138, 'u8', 12],
  [139, 'u8', 1],
]);
const values = {
  ...Object.fromEntries(FIELDS.map(([, , key, value]) => [key, value])),
  lbaf: LBAF,
} as unknown as IdentifyNamespace;

describe('Identify Namespace (CNS 00h, 4096 bytes)', () => {
  it('names the spec offsets', () => {
    expect(IDENTIFY_NAMESPACE_SIZE).toBe(4096);
    expect([ID_NS_NSZE, ID_NS_NLBAF, ID_NS_FLBAS, ID_NS_DLFEAT, ID_NS_NVMCAP]).toEqual([
      0, 25, 26, 33, 48,
    ]);
    expect([ID_NS_ANAGRPID, ID_NS_NGUID, ID_NS_EUI64, ID_NS_LBAF0, LBA_FORMAT_SIZE]).toEqual([
      92, 104, 120, 128, 4,
    ]);
  });

  it('encodes every field and LBA format at its spec offset', () => {
    const enc = encodeIdentifyNamespace(values);
    for (let i = 0; i < 4096; i++) {
      if (enc[i] !== golden[i]) {
        expect.fail(
          `byte ${i}: encoded 0x${enc[i].toString(16)}, spec 0x${golden[i].toString(16)}`,
        );
      }
    }
  });

  it('decodes the spec bytes, NLBAF + 1 formats', () => {
    const ns = decodeIdentifyNamespace(golden);
    for (const [offset, , key, value] of FIELDS)
      expect(ns[key], `${key} at ${offset}`).toEqual(value);
    expect(ns.lbaf).toEqual(LBAF);
  });

  it('defaults NLBAF to the number of formats given, 0-based', () => {
    const enc = encodeIdentifyNamespace({ nsze: 8, lbaf: [{ ms: 0, lbads: 12, rp: 0 }] });
    expect(enc[25]).toBe(0);
    expect(enc.subarray(128, 132)).toEqual(Buffer.from([0, 0, 12, 0]));
  });

  it('gives the formatted block size FLBAS selects', () => {
    expect(formattedBlockSize({ flbas: 0, lbaf: LBAF })).toBe(512);
    expect(formattedBlockSize({ flbas: 1, lbaf: LBAF })).toBe(4096);
    expect(formattedBlockSize({ flbas: 5, lbaf: LBAF })).toBeUndefined();
  });

  it('reads FLBAS bits 3:0 plus bits 6:5 as the upper index bits, bit 4 as extended metadata', () => {
    expect(flbasIndex(0b0110_0011)).toBe(0b11_0011);
    expect(flbasIndex(0b0001_0010)).toBe(2);
    expect(encodeFlbas(0b11_0011)).toBe(0b0110_0011);
    expect(encodeFlbas(2, true)).toBe(0b0001_0010);
  });

  it('refuses more than 64 LBA formats and an RP above 3', () => {
    const many = Array.from({ length: 65 }, () => ({ ms: 0, lbads: 9, rp: 0 }));
    expect(() => encodeIdentifyNamespace({ lbaf: many })).toThrow(RangeError);
    expect(() => encodeIdentifyNamespace({ lbaf: [{ ms: 0, lbads: 9, rp: 4 }] })).toThrow(/RP/);
  });
});

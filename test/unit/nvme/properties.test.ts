import { describe, expect, it } from 'vitest';
import {
  PROPERTY_CAP,
  PROPERTY_VS,
  PROPERTY_CC,
  PROPERTY_CSTS,
  PROPERTY_NSSR,
  FABRICS_PROPERTY_SIZES,
  NSSR_RESET_VALUE,
  encodeCap,
  decodeCap,
  encodeVersion,
  decodeVersion,
  encodeCc,
  decodeCc,
  encodeCsts,
  decodeCsts,
  memoryPageSize,
  CC_CSS_NVM,
  CC_CSS_ALL,
  CC_CSS_ADMIN_ONLY,
  CAP_CSS_NVM,
  CAP_CSS_IOCS,
  CAP_CSS_NO_IO,
  IOSQES_64_BYTES,
  IOCQES_16_BYTES,
  NVME_VERSION_1_3,
  NVME_VERSION_2_0,
  ShutdownNotification,
  ShutdownStatus,
} from '../../../src/nvme/properties.js';

// NVMe Base 2.0, 3.1.3, Figure 33.
describe('property offsets', () => {
  it('places CAP, VS, CC, CSTS, NSSR where the register map does', () => {
    expect([PROPERTY_CAP, PROPERTY_VS, PROPERTY_CC, PROPERTY_CSTS, PROPERTY_NSSR]).toEqual([
      0x00, 0x08, 0x14, 0x1c, 0x20,
    ]);
    expect(FABRICS_PROPERTY_SIZES.get(PROPERTY_CAP)).toBe(8);
    expect(FABRICS_PROPERTY_SIZES.get(PROPERTY_CC)).toBe(4);
    expect(NSSR_RESET_VALUE).toBe(0x4e564d65); // "NVMe"
  });
});

// NVMe Base 2.0, 3.1.3.1 (Figure 36): bit positions written out from the figure.
describe('CAP', () => {
  it('places each field at its bits', () => {
    const cap = {
      mqes: 0x7f, // 15:0
      cqr: true, // 16
      ams: 0b10, // 18:17
      to: 0x1e, // 31:24
      dstrd: 0x3, // 35:32
      nssrs: true, // 36
      css: CAP_CSS_NVM | CAP_CSS_IOCS, // 44:37
      bps: true, // 45
      cps: 0b01, // 47:46
      mpsmin: 0x1, // 51:48
      mpsmax: 0x4, // 55:52
      pmrs: true, // 56
      cmbs: false, // 57
      nsss: true, // 58
      crms: 0b11, // 60:59
    };
    const want =
      0x7fn |
      (1n << 16n) |
      (0b10n << 17n) |
      (0x1en << 24n) |
      (0x3n << 32n) |
      (1n << 36n) |
      (1n << 37n) |
      (1n << 43n) |
      (1n << 45n) |
      (0b01n << 46n) |
      (0x1n << 48n) |
      (0x4n << 52n) |
      (1n << 56n) |
      (1n << 58n) |
      (0b11n << 59n);
    expect(encodeCap(cap)).toBe(want);
    expect(decodeCap(want)).toEqual(cap);
    expect(CAP_CSS_NO_IO).toBe(1 << 7); // CAP bit 44
  });

  it('refuses a field that does not fit', () => {
    expect(() => encodeCap({ mqes: 0x10000 })).toThrow(/MQES/);
  });
});

describe('VS', () => {
  it('is MJR 31:16, MNR 15:8, TER 7:0', () => {
    expect(encodeVersion(1, 3)).toBe(0x00010300);
    expect(NVME_VERSION_1_3).toBe(0x00010300);
    expect(NVME_VERSION_2_0).toBe(0x00020000);
    expect(decodeVersion(0x00010402)).toEqual({ major: 1, minor: 4, tertiary: 2 });
  });
});

// NVMe Base 2.0, 3.1.3.5 (Figure 41).
describe('CC', () => {
  it('places EN 0, CSS 6:4, MPS 10:7, AMS 13:11, SHN 15:14, IOSQES 19:16, IOCQES 23:20, CRIME 24', () => {
    const cc = {
      en: true,
      css: CC_CSS_ALL,
      mps: 0x2,
      ams: 0b001,
      shn: ShutdownNotification.Abrupt,
      iosqes: IOSQES_64_BYTES,
      iocqes: IOCQES_16_BYTES,
      crime: true,
    };
    const want =
      1 |
      (0b110 << 4) |
      (0x2 << 7) |
      (0b001 << 11) |
      (0b10 << 14) |
      (6 << 16) |
      (4 << 20) |
      (1 << 24);
    expect(encodeCc(cc)).toBe(want);
    expect(decodeCc(want)).toEqual(cc);
  });

  it('is 0x00460001 for what Linux writes to enable an NVM controller with 4 KiB pages', () => {
    expect(
      encodeCc({ en: true, css: CC_CSS_NVM, iosqes: IOSQES_64_BYTES, iocqes: IOCQES_16_BYTES }),
    ).toBe(0x00460001);
    expect(CC_CSS_ADMIN_ONLY).toBe(0b111);
  });
});

// NVMe Base 2.0, 3.1.3.6 (Figure 42).
describe('CSTS', () => {
  it('places RDY 0, CFS 1, SHST 3:2, NSSRO 4, PP 5, ST 6', () => {
    const s = {
      rdy: true,
      cfs: false,
      shst: ShutdownStatus.Complete,
      nssro: true,
      pp: false,
      st: true,
    };
    const want = 1 | (0b10 << 2) | (1 << 4) | (1 << 6);
    expect(encodeCsts(s)).toBe(want);
    expect(decodeCsts(want)).toEqual(s);
    expect(decodeCsts(0b0110).shst).toBe(ShutdownStatus.Occurring);
  });
});

describe('memory page size', () => {
  it('is 2^(12 + n)', () => {
    expect(memoryPageSize(0)).toBe(4096);
    expect(memoryPageSize(4)).toBe(65536);
  });
});

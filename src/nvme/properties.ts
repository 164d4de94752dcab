/**
 * Controller properties (NVMe Base 2.0, 3.1.3, Figure 33): over Fabrics they are read and written
 * with Property Get/Set instead of MMIO registers. Only CAP, VS, CC, CSTS and NSSR exist on a
 * Fabrics controller; AQA/ASQ/ACQ and the doorbells are PCIe-only.
 */

export const PROPERTY_CAP = 0x00; // 8 B Controller Capabilities
export const PROPERTY_VS = 0x08; // 4 B Version
export const PROPERTY_INTMS = 0x0c; // 4 B Interrupt Mask Set (PCIe only)
export const PROPERTY_INTMC = 0x10; // 4 B Interrupt Mask Clear (PCIe only)
export const PROPERTY_CC = 0x14; // 4 B Controller Configuration
export const PROPERTY_CSTS = 0x1c; // 4 B Controller Status
export const PROPERTY_NSSR = 0x20; // 4 B NVM Subsystem Reset
export const PROPERTY_AQA = 0x24; // 4 B (PCIe only)
export const PROPERTY_ASQ = 0x28; // 8 B (PCIe only)
export const PROPERTY_ACQ = 0x30; // 8 B (PCIe only)

/** The properties a Fabrics controller implements, with their size in bytes. */
export const FABRICS_PROPERTY_SIZES: ReadonlyMap<number, 4 | 8> = new Map<number, 4 | 8>([
  [PROPERTY_CAP, 8],
  [PROPERTY_VS, 4],
  [PROPERTY_CC, 4],
  [PROPERTY_CSTS, 4],
  [PROPERTY_NSSR, 4],
]);

/** Writing this value to NSSR ("NVMe") starts an NVM Subsystem Reset. */
export const NSSR_RESET_VALUE = 0x4e564d65;

// ---- VS (3.1.3.2): MJR 31:16, MNR 15:8, TER 7:0 --------------------------------------------------
export const encodeVersion = (major: number, minor: number, tertiary = 0): number =>
  (((major & 0xffff) << 16) | ((minor & 0xff) << 8) | (tertiary & 0xff)) >>> 0;

export const decodeVersion = (vs: number): { major: number; minor: number; tertiary: number } => ({
  major: vs >>> 16,
  minor: (vs >>> 8) & 0xff,
  tertiary: vs & 0xff,
});

export const NVME_VERSION_1_2 = 0x00010200;
export const NVME_VERSION_1_3 = 0x00010300;
export const NVME_VERSION_1_4 = 0x00010400;
export const NVME_VERSION_2_0 = 0x00020000;

// ---- CAP (3.1.3.1) -------------------------------------------------------------------------------
export const CAP_MQES_SHIFT = 0n; // 16 bits, Maximum Queue Entries Supported, 0-based
export const CAP_CQR_SHIFT = 16n; // 1 bit, Contiguous Queues Required
export const CAP_AMS_SHIFT = 17n; // 2 bits, Arbitration Mechanism Supported
export const CAP_TO_SHIFT = 24n; // 8 bits, Timeout in 500 ms units (CSTS.RDY transition)
export const CAP_DSTRD_SHIFT = 32n; // 4 bits, Doorbell Stride
export const CAP_NSSRS_SHIFT = 36n; // 1 bit, NVM Subsystem Reset Supported
export const CAP_CSS_SHIFT = 37n; // 8 bits, Command Sets Supported
export const CAP_BPS_SHIFT = 45n; // 1 bit, Boot Partition Support
export const CAP_CPS_SHIFT = 46n; // 2 bits, Controller Power Scope
export const CAP_MPSMIN_SHIFT = 48n; // 4 bits, Memory Page Size Minimum: 2^(12+MPSMIN)
export const CAP_MPSMAX_SHIFT = 52n; // 4 bits, Memory Page Size Maximum
export const CAP_PMRS_SHIFT = 56n; // 1 bit, Persistent Memory Region Supported
export const CAP_CMBS_SHIFT = 57n; // 1 bit, Controller Memory Buffer Supported
export const CAP_NSSS_SHIFT = 58n; // 1 bit, NVM Subsystem Shutdown Supported
export const CAP_CRMS_SHIFT = 59n; // 2 bits, Controller Ready Modes Supported

/** CAP.CSS bits (relative to the CSS field). */
export const CAP_CSS_NVM = 1 << 0; // CAP bit 37: NVM Command Set
export const CAP_CSS_IOCS = 1 << 6; // CAP bit 43: one or more I/O Command Sets
export const CAP_CSS_NO_IO = 1 << 7; // CAP bit 44: admin command set only

/** CAP.AMS bits: weighted round robin with urgent priority class; vendor specific. */
export const CAP_AMS_WRR = 1 << 0;
export const CAP_AMS_VENDOR = 1 << 1;

export interface ControllerCapabilities {
  /** Maximum queue entries supported, 0-based (a value of 127 means 128 entries). */
  mqes: number;
  cqr: boolean;
  ams: number;
  /** Worst-case time to become ready, in 500 ms units. */
  to: number;
  dstrd: number;
  nssrs: boolean;
  css: number;
  bps: boolean;
  cps: number;
  mpsmin: number;
  mpsmax: number;
  pmrs: boolean;
  cmbs: boolean;
  nsss: boolean;
  crms: number;
}

const CAP_FIELDS: readonly [keyof ControllerCapabilities, bigint, number][] = [
  ['mqes', CAP_MQES_SHIFT, 16],
  ['cqr', CAP_CQR_SHIFT, 1],
  ['ams', CAP_AMS_SHIFT, 2],
  ['to', CAP_TO_SHIFT, 8],
  ['dstrd', CAP_DSTRD_SHIFT, 4],
  ['nssrs', CAP_NSSRS_SHIFT, 1],
  ['css', CAP_CSS_SHIFT, 8],
  ['bps', CAP_BPS_SHIFT, 1],
  ['cps', CAP_CPS_SHIFT, 2],
  ['mpsmin', CAP_MPSMIN_SHIFT, 4],
  ['mpsmax', CAP_MPSMAX_SHIFT, 4],
  ['pmrs', CAP_PMRS_SHIFT, 1],
  ['cmbs', CAP_CMBS_SHIFT, 1],
  ['nsss', CAP_NSSS_SHIFT, 1],
  ['crms', CAP_CRMS_SHIFT, 2],
];

/** Encodes CAP as its 64-bit value. RangeError when a field does not fit its bits. */
export function encodeCap(fields: Partial<ControllerCapabilities>): bigint {
  let cap = 0n;
  for (const [key, shift, width] of CAP_FIELDS) {
    const raw = fields[key];
    const v = typeof raw === 'boolean' ? (raw ? 1 : 0) : (raw ?? 0);
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** width) {
      throw new RangeError(`CAP.${key.toUpperCase()} ${v} does not fit in ${width} bits`);
    }
    cap |= BigInt(v) << shift;
  }
  return cap;
}

export function decodeCap(cap: bigint | number): ControllerCapabilities {
  const v = BigInt(cap);
  const out: Record<string, number | boolean> = {};
  for (const [key, shift, width] of CAP_FIELDS) {
    const n = Number((v >> shift) & ((1n << BigInt(width)) - 1n));
    out[key] = width === 1 ? n === 1 : n;
  }
  return out as unknown as ControllerCapabilities;
}

// ---- CC (3.1.3.5) --------------------------------------------------------------------------------
export const CC_EN = 1 << 0;
export const CC_CSS_SHIFT = 4; // 3 bits: I/O Command Set Selected
export const CC_MPS_SHIFT = 7; // 4 bits: Memory Page Size 2^(12+MPS)
export const CC_AMS_SHIFT = 11; // 3 bits: Arbitration Mechanism Selected
export const CC_SHN_SHIFT = 14; // 2 bits: Shutdown Notification
export const CC_IOSQES_SHIFT = 16; // 4 bits: I/O SQ entry size 2^n (6 = 64 B)
export const CC_IOCQES_SHIFT = 20; // 4 bits: I/O CQ entry size 2^n (4 = 16 B)
export const CC_CRIME = 1 << 24; // Controller Ready Independent of Media Enable

export const CC_CSS_NVM = 0b000;
export const CC_CSS_ALL = 0b110; // all supported I/O Command Sets (when CAP.CSS bit 6)
export const CC_CSS_ADMIN_ONLY = 0b111;

export const enum ShutdownNotification {
  None = 0b00,
  Normal = 0b01,
  Abrupt = 0b10,
}

/** log2 of the SQE and CQE sizes, the only values NVMe-oF allows in CC.IOSQES / CC.IOCQES. */
export const IOSQES_64_BYTES = 6;
export const IOCQES_16_BYTES = 4;

export interface ControllerConfiguration {
  en: boolean;
  css: number;
  mps: number;
  ams: number;
  shn: number;
  iosqes: number;
  iocqes: number;
  crime: boolean;
}

const mask = (bits: number): number => (1 << bits) - 1;

export function encodeCc(cc: Partial<ControllerConfiguration>): number {
  return (
    ((cc.en ? CC_EN : 0) |
      (((cc.css ?? 0) & mask(3)) << CC_CSS_SHIFT) |
      (((cc.mps ?? 0) & mask(4)) << CC_MPS_SHIFT) |
      (((cc.ams ?? 0) & mask(3)) << CC_AMS_SHIFT) |
      (((cc.shn ?? 0) & mask(2)) << CC_SHN_SHIFT) |
      (((cc.iosqes ?? 0) & mask(4)) << CC_IOSQES_SHIFT) |
      (((cc.iocqes ?? 0) & mask(4)) << CC_IOCQES_SHIFT) |
      (cc.crime ? CC_CRIME : 0)) >>>
    0
  );
}

export function decodeCc(cc: number): ControllerConfiguration {
  return {
    en: (cc & CC_EN) !== 0,
    css: (cc >>> CC_CSS_SHIFT) & mask(3),
    mps: (cc >>> CC_MPS_SHIFT) & mask(4),
    ams: (cc >>> CC_AMS_SHIFT) & mask(3),
    shn: (cc >>> CC_SHN_SHIFT) & mask(2),
    iosqes: (cc >>> CC_IOSQES_SHIFT) & mask(4),
    iocqes: (cc >>> CC_IOCQES_SHIFT) & mask(4),
    crime: (cc & CC_CRIME) !== 0,
  };
}

// ---- CSTS (3.1.3.6) ------------------------------------------------------------------------------
export const CSTS_RDY = 1 << 0;
export const CSTS_CFS = 1 << 1; // Controller Fatal Status
export const CSTS_SHST_SHIFT = 2; // 2 bits: Shutdown Status
export const CSTS_NSSRO = 1 << 4; // NVM Subsystem Reset Occurred
export const CSTS_PP = 1 << 5; // Processing Paused
export const CSTS_ST = 1 << 6; // Shutdown Type (subsystem shutdown)

export const enum ShutdownStatus {
  Normal = 0b00,
  Occurring = 0b01,
  Complete = 0b10,
}

export interface ControllerStatus {
  rdy: boolean;
  cfs: boolean;
  shst: number;
  nssro: boolean;
  pp: boolean;
  st: boolean;
}

export function encodeCsts(s: Partial<ControllerStatus>): number {
  return (
    ((s.rdy ? CSTS_RDY : 0) |
      (s.cfs ? CSTS_CFS : 0) |
      (((s.shst ?? 0) & mask(2)) << CSTS_SHST_SHIFT) |
      (s.nssro ? CSTS_NSSRO : 0) |
      (s.pp ? CSTS_PP : 0) |
      (s.st ? CSTS_ST : 0)) >>>
    0
  );
}

export function decodeCsts(csts: number): ControllerStatus {
  return {
    rdy: (csts & CSTS_RDY) !== 0,
    cfs: (csts & CSTS_CFS) !== 0,
    shst: (csts >>> CSTS_SHST_SHIFT) & mask(2),
    nssro: (csts & CSTS_NSSRO) !== 0,
    pp: (csts & CSTS_PP) !== 0,
    st: (csts & CSTS_ST) !== 0,
  };
}

/** Memory page size in bytes for an MPS / MPSMIN / MPSMAX value: 2^(12 + n). */
export const memoryPageSize = (mps: number): number => 2 ** (12 + mps);

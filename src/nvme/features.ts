/**
 * Get Features / Set Features (NVMe Base 2.0, 5.15 and 5.27): CDW10 FID bits 7:0, SEL bits 10:8
 * (Get) or SV bit 31 (Set); the value in CDW11 (and data for some features); Get Features returns
 * the value in completion DW0.
 */
import { AdminOpcode } from './opcodes.js';
import { SQE_SIZE, decodeSqe, encodeSqe } from './sqe.js';

export const enum FeatureId {
  Arbitration = 0x01,
  PowerManagement = 0x02,
  LbaRangeType = 0x03,
  TemperatureThreshold = 0x04,
  ErrorRecovery = 0x05,
  VolatileWriteCache = 0x06,
  NumberOfQueues = 0x07,
  InterruptCoalescing = 0x08,
  InterruptVectorConfig = 0x09,
  WriteAtomicity = 0x0a,
  AsyncEventConfig = 0x0b,
  AutonomousPowerStateTransition = 0x0c,
  HostMemoryBuffer = 0x0d,
  Timestamp = 0x0e,
  KeepAliveTimer = 0x0f,
  HostControlledThermalManagement = 0x10,
  NonOperationalPowerStateConfig = 0x11,
  SoftwareProgressMarker = 0x80,
  HostIdentifier = 0x81,
  ReservationNotificationMask = 0x82,
  ReservationPersistence = 0x83,
}

/** Get Features SEL (CDW10 bits 10:8). */
export const enum FeatureSelect {
  Current = 0b000,
  Default = 0b001,
  Saved = 0b010,
  SupportedCapabilities = 0b011,
}

export const FEATURES_FID_MASK = 0xff;
export const FEATURES_SEL_SHIFT = 8;
export const FEATURES_SV = 0x80000000; // Set Features: Save (bit 31, kept unsigned)

export interface FeaturesCommand {
  opcode: number;
  cid: number;
  nsid: number;
  fid: number;
  /** Get Features only. */
  sel: number;
  /** Set Features only. */
  save: boolean;
  cdw11: number;
  cdw12: number;
  cdw13: number;
  cdw14: number;
  cdw15: number;
}

export function encodeGetFeatures(
  init: { cid?: number; nsid?: number; fid: number; sel?: number; cdw11?: number },
  out: Buffer = Buffer.alloc(SQE_SIZE),
  offset = 0,
): Buffer {
  return encodeSqe(
    {
      opcode: AdminOpcode.GetFeatures,
      cid: init.cid ?? 0,
      nsid: init.nsid ?? 0,
      cdw10: (init.fid & FEATURES_FID_MASK) | (((init.sel ?? 0) & 0x7) << FEATURES_SEL_SHIFT),
      cdw11: init.cdw11 ?? 0,
    },
    out,
    offset,
  );
}

export function encodeSetFeatures(
  init: {
    cid?: number;
    nsid?: number;
    fid: number;
    save?: boolean;
    cdw11: number;
    cdw12?: number;
    cdw13?: number;
    cdw14?: number;
    cdw15?: number;
  },
  out: Buffer = Buffer.alloc(SQE_SIZE),
  offset = 0,
): Buffer {
  return encodeSqe(
    {
      opcode: AdminOpcode.SetFeatures,
      cid: init.cid ?? 0,
      nsid: init.nsid ?? 0,
      cdw10: ((init.fid & FEATURES_FID_MASK) | (init.save ? FEATURES_SV : 0)) >>> 0,
      cdw11: init.cdw11,
      cdw12: init.cdw12,
      cdw13: init.cdw13,
      cdw14: init.cdw14,
      cdw15: init.cdw15,
    },
    out,
    offset,
  );
}

/** Decodes a Get or Set Features SQE. */
export function decodeFeaturesCommand(sqe: Buffer, offset = 0): FeaturesCommand {
  const s = decodeSqe(sqe, offset);
  return {
    opcode: s.opcode,
    cid: s.cid,
    nsid: s.nsid,
    fid: s.cdw10 & FEATURES_FID_MASK,
    sel: (s.cdw10 >>> FEATURES_SEL_SHIFT) & 0x7,
    save: (s.cdw10 & FEATURES_SV) !== 0,
    cdw11: s.cdw11,
    cdw12: s.cdw12,
    cdw13: s.cdw13,
    cdw14: s.cdw14,
    cdw15: s.cdw15,
  };
}

// ---- Number of Queues (5.27.1.5): NSQR bits 15:0, NCQR bits 31:16, both 0-based; the same
// layout in Set Features CDW11 (requested) and completion DW0 (allocated). 0xFFFF is invalid.
export const NUMBER_OF_QUEUES_MAX = 0xffff; // counts 1..65535

export interface NumberOfQueues {
  /** I/O submission queues (1-based count, NSQR + 1). */
  sqCount: number;
  /** I/O completion queues (1-based count, NCQR + 1). */
  cqCount: number;
}

/** Encodes 1-based counts as NSQR/NCQR (0-based). RangeError outside 1..65535. */
export function encodeNumberOfQueues(q: NumberOfQueues): number {
  for (const [name, n] of [
    ['SQ', q.sqCount],
    ['CQ', q.cqCount],
  ] as const) {
    if (!Number.isInteger(n) || n < 1 || n > NUMBER_OF_QUEUES_MAX) {
      throw new RangeError(`I/O ${name} count ${n} is not 1..${NUMBER_OF_QUEUES_MAX}`);
    }
  }
  return ((q.sqCount - 1) | ((q.cqCount - 1) << 16)) >>> 0;
}

/** Decodes CDW11 / DW0 into 1-based counts; `nsqr`/`ncqr` keep the raw 0-based fields. */
export function decodeNumberOfQueues(dw: number): NumberOfQueues & { nsqr: number; ncqr: number } {
  const nsqr = dw & 0xffff;
  const ncqr = dw >>> 16;
  return { nsqr, ncqr, sqCount: nsqr + 1, cqCount: ncqr + 1 };
}

// ---- Other feature values (CDW11 / DW0 layouts) ------------------------------------------------
/** Volatile Write Cache (5.27.1.4): bit 0 WCE. */
export const VWC_WCE = 1 << 0;
/** Error Recovery (5.27.1.3): TLER bits 15:0 (100 ms units), DULBE bit 16. */
export const ERROR_RECOVERY_DULBE = 1 << 16;
/** Write Atomicity Normal (5.27.1.8): bit 0 DN (AWUN/NAWUN disabled). */
export const WRITE_ATOMICITY_DN = 1 << 0;
/** Temperature Threshold (5.27.1.2): TMPTH 15:0 (K), TMPSEL 19:16, THSEL 21:20 (0 over, 1 under). */
export const TEMPERATURE_TMPSEL_SHIFT = 16;
export const TEMPERATURE_THSEL_SHIFT = 20;
/** Host Identifier (5.27.1.26): CDW11 bit 0 EXHID, 128-bit Host Identifier (the Fabrics HOSTID). */
export const HOST_IDENTIFIER_EXHID = 1 << 0;
// Keep Alive Timer (5.27.1.12): CDW11 / DW0 is KATO in milliseconds (rounded up by the
// controller to KAS granularity); 0 disables keep-alive. No bit fields to name.

/** Asynchronous Event Configuration (5.27.1.7): which events the host wants reported. */
export const AEC_SMART_MASK = 0xff; // bits 7:0 SMART / Health critical warnings
export const AEC_NS_ATTRIBUTE = 1 << 8;
export const AEC_FIRMWARE_ACTIVATION = 1 << 9;
export const AEC_TELEMETRY_LOG = 1 << 10;
export const AEC_ANA_CHANGE = 1 << 11;
export const AEC_PREDICTABLE_LATENCY = 1 << 12;
export const AEC_LBA_STATUS = 1 << 13;
export const AEC_ENDURANCE_GROUP = 1 << 14;
export const AEC_NORMAL_SHUTDOWN = 1 << 15;
export const AEC_DISCOVERY_LOG_CHANGE = 0x80000000; // bit 31, kept unsigned

/** Arbitration (5.27.1.1): AB bits 2:0 (burst 2^n, 7 = no limit), LPW 15:8, MPW 23:16, HPW 31:24. */
export const ARBITRATION_AB_NO_LIMIT = 0b111;

/** Interrupt Coalescing (5.27.1.6): THR bits 7:0 (0-based), TIME bits 15:8 (100 µs units). */
export const INTERRUPT_COALESCING_TIME_SHIFT = 8;

/** Features a controller may save (SV) or report as saveable/changeable, Get Features SEL 011b DW0. */
export const FEATURE_CAP_SAVEABLE = 1 << 0;
export const FEATURE_CAP_NS_SPECIFIC = 1 << 1;
export const FEATURE_CAP_CHANGEABLE = 1 << 2;

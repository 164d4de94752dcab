/**
 * Log pages (NVMe Base 2.0, 5.16 "Get Log Page"): the command fields and the pages the target
 * serves: Error Information (01h), SMART / Health Information (02h), Changed Namespace List (04h),
 * Discovery (70h, NVMe-oF 1.1, 5.3), and this project's vendor-specific LBA allocation map (C0h).
 * Layouts checked against Linux include/linux/nvme.h and SPDK include/spdk/nvme_spec.h, nvmf_spec.h.
 */
import { encodeSqe, decodeSqe } from './sqe.js';
import { AdminOpcode } from './opcodes.js';
import { type FieldSpec, decodeLayout, encodeLayout, need } from './codec.js';

export * from './discovery-log.js';

/** Log Page Identifiers (Base 2.0, Figure 202; NVMe-oF 1.1, Figure 35). */
export const enum LogPageId {
  Error = 0x01,
  SmartHealth = 0x02,
  FirmwareSlot = 0x03,
  ChangedNamespaceList = 0x04,
  CommandsSupported = 0x05,
  Discovery = 0x70,
  /** Vendor specific (C0h..FFh): this project's LBA allocation map of a namespace. */
  AllocationMap = 0xc0,
}

// ---- Get Log Page command (Base 2.0, 5.16, Figures 197-201) ------------------------------------

export const GET_LOG_PAGE_LID_MASK = 0xff; // CDW10 bits 7:0 Log Page Identifier
export const GET_LOG_PAGE_LSP_SHIFT = 8; // CDW10 bits 14:8 Log Specific Field
export const GET_LOG_PAGE_LSP_MASK = 0x7f;
export const GET_LOG_PAGE_RAE = 1 << 15; // CDW10 bit 15 Retain Asynchronous Event
export const GET_LOG_PAGE_NUMDL_SHIFT = 16; // CDW10 bits 31:16 Number of Dwords Lower (0-based)
export const GET_LOG_PAGE_NUMDU_MASK = 0xffff; // CDW11 bits 15:0 Number of Dwords Upper
export const GET_LOG_PAGE_LSI_SHIFT = 16; // CDW11 bits 31:16 Log Specific Identifier
// CDW12 LPOL, CDW13 LPOU: Log Page Offset in bytes, dword aligned (Base 2.0, Figure 200/201).
export const DWORD_BYTES = 4;
const U16 = 0x10000;
const U32 = 2 ** 32;

export interface GetLogPageCommand {
  cid: number;
  nsid: number;
  lid: number;
  lsp: number;
  /** Retain Asynchronous Event: reading the page does not clear the event it reports. */
  rae: boolean;
  /** Number of dwords to return, 0-based (NUMDU:NUMDL). */
  numd: number;
  lsi: number;
  /** Log Page Offset in bytes (LPOU:LPOL). */
  offset: number;
}

/** Bytes a Get Log Page asks for: (NUMD + 1) dwords. */
export const logPageLength = (c: Pick<GetLogPageCommand, 'numd'>): number =>
  (c.numd + 1) * DWORD_BYTES;

export interface GetLogPageInit {
  lid: number;
  nsid?: number;
  /** Bytes to read: a non-zero multiple of 4. */
  length: number;
  /** Byte offset into the page: a multiple of 4. */
  offset?: number;
  lsp?: number;
  rae?: boolean;
  lsi?: number;
  cid?: number;
}

export function encodeGetLogPage(init: GetLogPageInit, out?: Buffer, at = 0): Buffer {
  const offset = init.offset ?? 0;
  const numd = init.length / DWORD_BYTES - 1;
  if (!Number.isSafeInteger(numd) || numd < 0 || numd >= U32) {
    throw new RangeError(`log page length ${init.length} is not 1..2^32 whole dwords`);
  }
  if (!Number.isSafeInteger(offset) || offset < 0 || offset % DWORD_BYTES !== 0) {
    throw new RangeError(`log page offset ${offset} is not a dword-aligned byte offset`);
  }
  return encodeSqe(
    {
      opcode: AdminOpcode.GetLogPage,
      cid: init.cid ?? 0,
      nsid: init.nsid ?? 0,
      cdw10:
        (init.lid & GET_LOG_PAGE_LID_MASK) |
        (((init.lsp ?? 0) & GET_LOG_PAGE_LSP_MASK) << GET_LOG_PAGE_LSP_SHIFT) |
        (init.rae ? GET_LOG_PAGE_RAE : 0) |
        ((numd % U16) << GET_LOG_PAGE_NUMDL_SHIFT),
      cdw11:
        (Math.floor(numd / U16) & GET_LOG_PAGE_NUMDU_MASK) |
        ((init.lsi ?? 0) << GET_LOG_PAGE_LSI_SHIFT),
      cdw12: offset % U32,
      cdw13: Math.floor(offset / U32),
    },
    out,
    at,
  );
}

export function decodeGetLogPage(sqe: Buffer, at = 0): GetLogPageCommand {
  const s = decodeSqe(sqe, at);
  return {
    cid: s.cid,
    nsid: s.nsid,
    lid: s.cdw10 & GET_LOG_PAGE_LID_MASK,
    lsp: (s.cdw10 >>> GET_LOG_PAGE_LSP_SHIFT) & GET_LOG_PAGE_LSP_MASK,
    rae: (s.cdw10 & GET_LOG_PAGE_RAE) !== 0,
    numd: (s.cdw11 & GET_LOG_PAGE_NUMDU_MASK) * U16 + (s.cdw10 >>> GET_LOG_PAGE_NUMDL_SHIFT),
    lsi: s.cdw11 >>> GET_LOG_PAGE_LSI_SHIFT,
    offset: s.cdw13 * U32 + s.cdw12,
  };
}

// ---- Error Information (01h): 64-byte entries (Base 2.0, 5.16.1.2, Figure 205) -----------------

export const ERROR_LOG_ENTRY_SIZE = 64;
export const ERROR_LOG_ERROR_COUNT = 0; // u64 Error Count, unique and increasing; 0 = empty entry
export const ERROR_LOG_SQID = 8; // u16 Submission Queue ID
export const ERROR_LOG_CID = 10; // u16 Command ID
export const ERROR_LOG_STATUS = 12; // u16 Status Field: bit 0 phase tag, bits 15:1 as CQE DW3 31:17
export const ERROR_LOG_PARAM_LOCATION = 14; // u16 Parameter Error Location: bits 7:0 byte, 10:8 bit
export const ERROR_LOG_LBA = 16; // u64 first LBA that had the error
export const ERROR_LOG_NSID = 24; // u32 Namespace
export const ERROR_LOG_VS = 28; // u8 Vendor Specific Information Available (a log page id)
export const ERROR_LOG_TRTYPE = 29; // u8 Transport Type (NVMe-oF)
export const ERROR_LOG_CSI = 30; // u8 Command Set Indicator (2.0)
export const ERROR_LOG_OPCODE = 31; // u8 Opcode (2.0)
export const ERROR_LOG_CS = 32; // u64 Command Specific Information
export const ERROR_LOG_TRTYPE_SPEC = 40; // u16 Transport Type Specific Information
export const ERROR_LOG_VERSION = 63; // u8 Log Page Version (1 for 2.0)

export interface ErrorLogEntry {
  errorCount: number;
  sqid: number;
  cid: number;
  /** Status field as in the CQE (bits 15:1 status, bit 0 phase); see encodeCqeStatus. */
  status: number;
  paramLocation: number;
  lba: number;
  nsid: number;
  vs: number;
  trtype: number;
  csi: number;
  opcode: number;
  commandSpecific: number;
  trtypeSpecific: number;
  version: number;
}

type ErrorKey = keyof ErrorLogEntry;
const ERROR_LAYOUT: readonly FieldSpec<ErrorKey>[] = [
  { key: 'errorCount', offset: ERROR_LOG_ERROR_COUNT, kind: 'u64' },
  { key: 'sqid', offset: ERROR_LOG_SQID, kind: 'u16' },
  { key: 'cid', offset: ERROR_LOG_CID, kind: 'u16' },
  { key: 'status', offset: ERROR_LOG_STATUS, kind: 'u16' },
  { key: 'paramLocation', offset: ERROR_LOG_PARAM_LOCATION, kind: 'u16' },
  { key: 'lba', offset: ERROR_LOG_LBA, kind: 'u64' },
  { key: 'nsid', offset: ERROR_LOG_NSID, kind: 'u32' },
  { key: 'vs', offset: ERROR_LOG_VS, kind: 'u8' },
  { key: 'trtype', offset: ERROR_LOG_TRTYPE, kind: 'u8' },
  { key: 'csi', offset: ERROR_LOG_CSI, kind: 'u8' },
  { key: 'opcode', offset: ERROR_LOG_OPCODE, kind: 'u8' },
  { key: 'commandSpecific', offset: ERROR_LOG_CS, kind: 'u64' },
  { key: 'trtypeSpecific', offset: ERROR_LOG_TRTYPE_SPEC, kind: 'u16' },
  { key: 'version', offset: ERROR_LOG_VERSION, kind: 'u8' },
];

export const encodeErrorLogEntry = (
  e: Partial<ErrorLogEntry>,
  out: Buffer = Buffer.alloc(ERROR_LOG_ENTRY_SIZE),
  offset = 0,
): Buffer => encodeLayout(ERROR_LAYOUT, ERROR_LOG_ENTRY_SIZE, e, out, offset, 'Error log entry');

export const decodeErrorLogEntry = (buf: Buffer, offset = 0): ErrorLogEntry =>
  decodeLayout(
    ERROR_LAYOUT,
    ERROR_LOG_ENTRY_SIZE,
    buf,
    offset,
    'Error log entry',
  ) as unknown as ErrorLogEntry;

// ---- SMART / Health Information (02h): 512 bytes (Base 2.0, 5.16.1.3, Figure 207) -------------

export const SMART_LOG_SIZE = 512;
export const SMART_CRITICAL_WARNING = 0; // u8 bit flags
export const SMART_COMPOSITE_TEMPERATURE = 1; // u16 Kelvin
export const SMART_AVAILABLE_SPARE = 3; // u8 percent
export const SMART_AVAILABLE_SPARE_THRESHOLD = 4; // u8 percent
export const SMART_PERCENTAGE_USED = 5; // u8 percent (may exceed 100)
export const SMART_ENDURANCE_GROUP_WARNING = 6; // u8
export const SMART_DATA_UNITS_READ = 32; // u128, thousands of 512-byte units, rounded up
export const SMART_DATA_UNITS_WRITTEN = 48; // u128
export const SMART_HOST_READ_COMMANDS = 64; // u128
export const SMART_HOST_WRITE_COMMANDS = 80; // u128
export const SMART_CONTROLLER_BUSY_TIME = 96; // u128 minutes
export const SMART_POWER_CYCLES = 112; // u128
export const SMART_POWER_ON_HOURS = 128; // u128
export const SMART_UNSAFE_SHUTDOWNS = 144; // u128
export const SMART_MEDIA_ERRORS = 160; // u128
export const SMART_ERROR_LOG_ENTRIES = 176; // u128 Number of Error Information Log Entries
export const SMART_WARNING_TEMP_TIME = 192; // u32 minutes
export const SMART_CRITICAL_TEMP_TIME = 196; // u32 minutes
export const SMART_TEMP_SENSOR_1 = 200; // u16 x 8, Kelvin
export const SMART_TEMP_SENSOR_COUNT = 8;
/** A data unit is 1000 units of 512 bytes (Base 2.0, Figure 207). */
export const SMART_DATA_UNIT_BYTES = 512 * 1000;
/** 0 °C in Kelvin: temperatures are reported in Kelvin. */
export const KELVIN_0C = 273;

export interface SmartHealthLog {
  criticalWarning: number;
  compositeTemperature: number;
  availableSpare: number;
  availableSpareThreshold: number;
  percentageUsed: number;
  enduranceGroupWarning: number;
  dataUnitsRead: bigint;
  dataUnitsWritten: bigint;
  hostReadCommands: bigint;
  hostWriteCommands: bigint;
  controllerBusyTime: bigint;
  powerCycles: bigint;
  powerOnHours: bigint;
  unsafeShutdowns: bigint;
  mediaErrors: bigint;
  errorLogEntries: bigint;
  warningTempTime: number;
  criticalTempTime: number;
}

type SmartKey = keyof SmartHealthLog;
const SMART_LAYOUT: readonly FieldSpec<SmartKey>[] = [
  { key: 'criticalWarning', offset: SMART_CRITICAL_WARNING, kind: 'u8' },
  { key: 'compositeTemperature', offset: SMART_COMPOSITE_TEMPERATURE, kind: 'u16' },
  { key: 'availableSpare', offset: SMART_AVAILABLE_SPARE, kind: 'u8' },
  { key: 'availableSpareThreshold', offset: SMART_AVAILABLE_SPARE_THRESHOLD, kind: 'u8' },
  { key: 'percentageUsed', offset: SMART_PERCENTAGE_USED, kind: 'u8' },
  { key: 'enduranceGroupWarning', offset: SMART_ENDURANCE_GROUP_WARNING, kind: 'u8' },
  { key: 'dataUnitsRead', offset: SMART_DATA_UNITS_READ, kind: 'u128' },
  { key: 'dataUnitsWritten', offset: SMART_DATA_UNITS_WRITTEN, kind: 'u128' },
  { key: 'hostReadCommands', offset: SMART_HOST_READ_COMMANDS, kind: 'u128' },
  { key: 'hostWriteCommands', offset: SMART_HOST_WRITE_COMMANDS, kind: 'u128' },
  { key: 'controllerBusyTime', offset: SMART_CONTROLLER_BUSY_TIME, kind: 'u128' },
  { key: 'powerCycles', offset: SMART_POWER_CYCLES, kind: 'u128' },
  { key: 'powerOnHours', offset: SMART_POWER_ON_HOURS, kind: 'u128' },
  { key: 'unsafeShutdowns', offset: SMART_UNSAFE_SHUTDOWNS, kind: 'u128' },
  { key: 'mediaErrors', offset: SMART_MEDIA_ERRORS, kind: 'u128' },
  { key: 'errorLogEntries', offset: SMART_ERROR_LOG_ENTRIES, kind: 'u128' },
  { key: 'warningTempTime', offset: SMART_WARNING_TEMP_TIME, kind: 'u32' },
  { key: 'criticalTempTime', offset: SMART_CRITICAL_TEMP_TIME, kind: 'u32' },
];

export const encodeSmartHealthLog = (
  s: Partial<SmartHealthLog>,
  out: Buffer = Buffer.alloc(SMART_LOG_SIZE),
  offset = 0,
): Buffer => encodeLayout(SMART_LAYOUT, SMART_LOG_SIZE, s, out, offset, 'SMART / Health log');

export const decodeSmartHealthLog = (buf: Buffer, offset = 0): SmartHealthLog =>
  decodeLayout(
    SMART_LAYOUT,
    SMART_LOG_SIZE,
    buf,
    offset,
    'SMART / Health log',
  ) as unknown as SmartHealthLog;

/** Data Units for a byte count: thousands of 512-byte units, rounded up (Figure 207). */
export const dataUnits = (bytes: number): bigint =>
  BigInt(Math.ceil(bytes / SMART_DATA_UNIT_BYTES));

// ---- Changed Namespace List (04h): 1024 NSIDs, 4096 bytes (Base 2.0, 5.16.1.5) ----------------

export const CHANGED_NS_LIST_SIZE = 4096;
export const CHANGED_NS_LIST_MAX = CHANGED_NS_LIST_SIZE / DWORD_BYTES;
/** First entry FFFFFFFFh, rest zero: more than 1024 namespaces changed (Figure 210). */
export const CHANGED_NS_LIST_OVERFLOW = 0xffffffff;

/**
 * Encodes the list in ascending order, zero terminated. More than 1024 NSIDs encode as the
 * overflow marker.
 */
export function encodeChangedNsList(
  nsids: readonly number[],
  out = Buffer.alloc(CHANGED_NS_LIST_SIZE),
): Buffer {
  need(out, 0, CHANGED_NS_LIST_SIZE, 'Changed Namespace List');
  out.fill(0, 0, CHANGED_NS_LIST_SIZE);
  if (nsids.length > CHANGED_NS_LIST_MAX) {
    out.writeUInt32LE(CHANGED_NS_LIST_OVERFLOW, 0);
    return out;
  }
  [...nsids].sort((a, b) => a - b).forEach((n, i) => out.writeUInt32LE(n, i * DWORD_BYTES));
  return out;
}

/** NSIDs up to the first zero; `[0xFFFFFFFF]` means more than 1024 changed. */
export function decodeChangedNsList(buf: Buffer, offset = 0): number[] {
  need(buf, offset, CHANGED_NS_LIST_SIZE, 'Changed Namespace List');
  const list: number[] = [];
  for (let i = 0; i < CHANGED_NS_LIST_MAX; i++) {
    const nsid = buf.readUInt32LE(offset + i * DWORD_BYTES);
    if (nsid === 0) break;
    list.push(nsid);
  }
  return list;
}

// ---- Vendor C0h: LBA allocation map -------------------------------------------------------------

/**
 * One bit per LBA: bit i of byte j of the page is LBA j*8 + i; 1 = allocated (holds data),
 * 0 = deallocated (reads as zeroes). The page is ceil(blockCount / 8) bytes rounded up to a dword;
 * the host reads a byte range of it with LPO. Bits past the namespace's last LBA are zero.
 */
export const ALLOCATION_MAP_LOG_PAGE = LogPageId.AllocationMap;
export const ALLOCATION_MAP_BITS_PER_BYTE = 8;

export const allocationMapSize = (blockCount: number): number =>
  Math.ceil(Math.ceil(blockCount / ALLOCATION_MAP_BITS_PER_BYTE) / DWORD_BYTES) * DWORD_BYTES;

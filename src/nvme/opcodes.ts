/**
 * Command opcodes: Admin (NVMe Base 2.0, 5, Figure 28), NVM Command Set I/O (NVM Command Set 1.0,
 * 3, Figure 14) and Fabrics (NVMe-oF 1.1, 3, Figure 8; opcode 7Fh with the type in FCTYPE).
 */
import { SQE_CDW10, SQE_FCTYPE, SQE_OPCODE } from './sqe.js';

export const enum AdminOpcode {
  DeleteIoSq = 0x00,
  CreateIoSq = 0x01,
  GetLogPage = 0x02,
  DeleteIoCq = 0x04,
  CreateIoCq = 0x05,
  Identify = 0x06,
  Abort = 0x08,
  SetFeatures = 0x09,
  GetFeatures = 0x0a,
  AsyncEventRequest = 0x0c,
  NamespaceManagement = 0x0d,
  FirmwareCommit = 0x10,
  FirmwareImageDownload = 0x11,
  DeviceSelfTest = 0x14,
  NamespaceAttachment = 0x15,
  KeepAlive = 0x18,
  DirectiveSend = 0x19,
  DirectiveReceive = 0x1a,
  VirtualizationManagement = 0x1c,
  NvmeMiSend = 0x1d,
  NvmeMiReceive = 0x1e,
  DoorbellBufferConfig = 0x7c,
  FormatNvm = 0x80,
  SecuritySend = 0x81,
  SecurityReceive = 0x82,
  Sanitize = 0x84,
  GetLbaStatus = 0x86,
}

export const enum IoOpcode {
  Flush = 0x00,
  Write = 0x01,
  Read = 0x02,
  WriteUncorrectable = 0x04,
  Compare = 0x05,
  WriteZeroes = 0x08,
  DatasetManagement = 0x09,
  Verify = 0x0c,
  ReservationRegister = 0x0d,
  ReservationReport = 0x0e,
  ReservationAcquire = 0x11,
  ReservationRelease = 0x15,
  Copy = 0x19,
}

/** Every Fabrics command uses this opcode; byte 4 (FCTYPE) says which (NVMe-oF 1.1, 2.1). */
export const FABRICS_OPCODE = 0x7f;

export const enum FabricsType {
  PropertySet = 0x00,
  Connect = 0x01,
  PropertyGet = 0x04,
  AuthSend = 0x05,
  AuthRecv = 0x06,
  Disconnect = 0x08,
}

/**
 * Opcode (and FCTYPE) bits 1:0 give the data direction (NVMe Base 2.0, Figure 28 note;
 * NVMe-oF 1.1, Figure 8): a transport uses it to know whether a command carries data to the
 * controller or expects data back.
 */
export const enum DataTransfer {
  None = 0b00,
  HostToController = 0b01,
  ControllerToHost = 0b10,
  Bidirectional = 0b11,
}

/** Data direction of an encoded SQE (uses FCTYPE for Fabrics commands). */
export function dataTransferOf(sqe: Buffer): DataTransfer {
  const opcode = sqe[SQE_OPCODE];
  const code = opcode === FABRICS_OPCODE ? sqe[SQE_FCTYPE] : opcode;
  return (code & 0b11) as DataTransfer;
}

export const isFabricsCommand = (sqe: Buffer): boolean => sqe[SQE_OPCODE] === FABRICS_OPCODE;

const ADMIN_NAMES: Record<number, string> = {
  0x00: 'Delete I/O SQ',
  0x01: 'Create I/O SQ',
  0x02: 'Get Log Page',
  0x04: 'Delete I/O CQ',
  0x05: 'Create I/O CQ',
  0x06: 'Identify',
  0x08: 'Abort',
  0x09: 'Set Features',
  0x0a: 'Get Features',
  0x0c: 'Asynchronous Event Request',
  0x0d: 'Namespace Management',
  0x10: 'Firmware Commit',
  0x11: 'Firmware Image Download',
  0x14: 'Device Self-test',
  0x15: 'Namespace Attachment',
  0x18: 'Keep Alive',
  0x19: 'Directive Send',
  0x1a: 'Directive Receive',
  0x1c: 'Virtualization Management',
  0x1d: 'NVMe-MI Send',
  0x1e: 'NVMe-MI Receive',
  0x7c: 'Doorbell Buffer Config',
  0x80: 'Format NVM',
  0x81: 'Security Send',
  0x82: 'Security Receive',
  0x84: 'Sanitize',
  0x86: 'Get LBA Status',
};

const IO_NAMES: Record<number, string> = {
  0x00: 'Flush',
  0x01: 'Write',
  0x02: 'Read',
  0x04: 'Write Uncorrectable',
  0x05: 'Compare',
  0x08: 'Write Zeroes',
  0x09: 'Dataset Management',
  0x0c: 'Verify',
  0x0d: 'Reservation Register',
  0x0e: 'Reservation Report',
  0x11: 'Reservation Acquire',
  0x15: 'Reservation Release',
  0x19: 'Copy',
};

const FABRICS_NAMES: Record<number, string> = {
  0x00: 'Property Set',
  0x01: 'Connect',
  0x04: 'Property Get',
  0x05: 'Authentication Send',
  0x06: 'Authentication Receive',
  0x08: 'Disconnect',
};

const hex = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

/** A readable command name for logs: 'Identify', 'Fabrics Connect', 'I/O opcode 0x7e'. */
export function commandName(opcode: number, admin: boolean, fctype?: number): string {
  if (opcode === FABRICS_OPCODE) {
    const t = fctype ?? -1;
    return `Fabrics ${FABRICS_NAMES[t] ?? `type ${hex(t)}`}`;
  }
  const name = admin ? ADMIN_NAMES[opcode] : IO_NAMES[opcode];
  return name ?? `${admin ? 'admin' : 'I/O'} opcode ${hex(opcode)}`;
}

/** Abort (NVMe Base 2.0, 5.1): CDW10 bits 15:0 SQID, bits 31:16 CID of the command to abort. */
export const ABORT_CDW10 = SQE_CDW10;

export const encodeAbortCdw10 = (sqid: number, cid: number): number =>
  ((sqid & 0xffff) | ((cid & 0xffff) << 16)) >>> 0;

export const decodeAbortCdw10 = (cdw10: number): { sqid: number; cid: number } => ({
  sqid: cdw10 & 0xffff,
  cid: cdw10 >>> 16,
});

/**
 * Abort completion DW0 bit 0: 1 = the command was NOT aborted (NVMe Base 2.0, 5.1.1).
 */
export const ABORT_DW0_NOT_ABORTED = 0x1;

/** Broadcast NSID: all namespaces (NVMe Base 2.0, 3.2.1.2). */
export const NSID_ALL = 0xffffffff;

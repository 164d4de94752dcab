/**
 * Submission Queue Entry: 64 bytes (NVMe Base 2.0, 4.2, Figure 88 "Common Command Format").
 * Fabrics commands share the layout with byte 4 = FCTYPE (NVMe-oF 1.1, 2.1 / Figure 9).
 */
import { SGL_DESCRIPTOR_SIZE, type SglDescriptor, decodeSgl, encodeSgl } from './sgl.js';

export const SQE_SIZE = 64;

export const SQE_OPCODE = 0; // u8  OPC
export const SQE_FLAGS = 1; // u8  FUSE bits 1:0, PSDT bits 7:6
export const SQE_CID = 2; // u16 Command Identifier
export const SQE_NSID = 4; // u32 Namespace Identifier
export const SQE_FCTYPE = 4; // u8  Fabrics Command Type (fabrics commands only)
export const SQE_CDW2 = 8; // u32
export const SQE_CDW3 = 12; // u32
export const SQE_MPTR = 16; // u64 Metadata Pointer
export const SQE_DPTR = 24; // 16 B Data Pointer (SGL1 for NVMe-oF)
export const SQE_CDW10 = 40; // u32 ... CDW15 at 60
export const SQE_CDW11 = 44;
export const SQE_CDW12 = 48;
export const SQE_CDW13 = 52;
export const SQE_CDW14 = 56;
export const SQE_CDW15 = 60;

/** PSDT (byte 1 bits 7:6): 00b PRP, 01b SGL with contiguous metadata buffer. NVMe-oF requires SGL. */
export const PSDT_SHIFT = 6;
export const PSDT_PRP = 0;
export const PSDT_SGL = 1;
export const FUSE_MASK = 0x3;

/** A decoded SQE. cdw10..cdw15 are unsigned 32-bit values. */
export interface Sqe {
  opcode: number;
  fuse: number;
  psdt: number;
  cid: number;
  /** NSID for admin/IO commands; for fabrics commands byte 4 is FCTYPE (read `fctype`). */
  nsid: number;
  fctype: number;
  cdw2: number;
  cdw3: number;
  mptr: bigint;
  sgl: SglDescriptor;
  cdw10: number;
  cdw11: number;
  cdw12: number;
  cdw13: number;
  cdw14: number;
  cdw15: number;
}

export type SqeInit = Partial<Sqe> & { opcode: number };

export function decodeSqe(buf: Buffer, offset = 0): Sqe {
  if (buf.length - offset < SQE_SIZE) throw new RangeError(`SQE needs ${SQE_SIZE} bytes`);
  const flags = buf[offset + SQE_FLAGS];
  return {
    opcode: buf[offset + SQE_OPCODE],
    fuse: flags & FUSE_MASK,
    psdt: flags >>> PSDT_SHIFT,
    cid: buf.readUInt16LE(offset + SQE_CID),
    nsid: buf.readUInt32LE(offset + SQE_NSID),
    fctype: buf[offset + SQE_FCTYPE],
    cdw2: buf.readUInt32LE(offset + SQE_CDW2),
    cdw3: buf.readUInt32LE(offset + SQE_CDW3),
    mptr: buf.readBigUInt64LE(offset + SQE_MPTR),
    sgl: decodeSgl(buf, offset + SQE_DPTR),
    cdw10: buf.readUInt32LE(offset + SQE_CDW10),
    cdw11: buf.readUInt32LE(offset + SQE_CDW11),
    cdw12: buf.readUInt32LE(offset + SQE_CDW12),
    cdw13: buf.readUInt32LE(offset + SQE_CDW13),
    cdw14: buf.readUInt32LE(offset + SQE_CDW14),
    cdw15: buf.readUInt32LE(offset + SQE_CDW15),
  };
}

/**
 * Encodes an SQE into `out` (64 bytes from `offset`, zero-filled first). `nsid` wins over
 * `fctype` when both are given; fabrics callers pass `fctype` only.
 */
export function encodeSqe(init: SqeInit, out: Buffer = Buffer.alloc(SQE_SIZE), offset = 0): Buffer {
  out.fill(0, offset, offset + SQE_SIZE);
  out[offset + SQE_OPCODE] = init.opcode;
  out[offset + SQE_FLAGS] =
    ((init.psdt ?? PSDT_SGL) << PSDT_SHIFT) | ((init.fuse ?? 0) & FUSE_MASK);
  out.writeUInt16LE(init.cid ?? 0, offset + SQE_CID);
  if (init.nsid !== undefined) out.writeUInt32LE(init.nsid >>> 0, offset + SQE_NSID);
  else if (init.fctype !== undefined) out[offset + SQE_FCTYPE] = init.fctype;
  out.writeUInt32LE((init.cdw2 ?? 0) >>> 0, offset + SQE_CDW2);
  out.writeUInt32LE((init.cdw3 ?? 0) >>> 0, offset + SQE_CDW3);
  // Zero already (fill above); a BigInt write per SQE is garbage on the data path.
  if (init.mptr) out.writeBigUInt64LE(init.mptr, offset + SQE_MPTR);
  if (init.sgl) encodeSgl(init.sgl, out, offset + SQE_DPTR);
  out.writeUInt32LE((init.cdw10 ?? 0) >>> 0, offset + SQE_CDW10);
  out.writeUInt32LE((init.cdw11 ?? 0) >>> 0, offset + SQE_CDW11);
  out.writeUInt32LE((init.cdw12 ?? 0) >>> 0, offset + SQE_CDW12);
  out.writeUInt32LE((init.cdw13 ?? 0) >>> 0, offset + SQE_CDW13);
  out.writeUInt32LE((init.cdw14 ?? 0) >>> 0, offset + SQE_CDW14);
  out.writeUInt32LE((init.cdw15 ?? 0) >>> 0, offset + SQE_CDW15);
  return out;
}

/** Reads the CID of an encoded SQE without decoding the rest (the transport's hot path). */
export const sqeCid = (sqe: Buffer): number => sqe.readUInt16LE(SQE_CID);
export const setSqeCid = (sqe: Buffer, cid: number): void => {
  sqe.writeUInt16LE(cid, SQE_CID);
};
export const sqeOpcode = (sqe: Buffer): number => sqe[SQE_OPCODE];

export { SGL_DESCRIPTOR_SIZE };

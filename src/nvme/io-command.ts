/**
 * NVM Command Set I/O commands that address a block range: Read, Write, Compare, Write Zeroes,
 * Verify, Write Uncorrectable (NVM Command Set 1.0, 3.2, 3.3). They share the layout:
 * CDW10-11 SLBA (u64), CDW12 NLB bits 15:0 (0-based) plus flags, CDW13 DSM hints.
 */
import { SQE_CDW10, SQE_SIZE, decodeSqe, encodeSqe } from './sqe.js';
import type { SglDescriptor } from './sgl.js';
import { readU64, writeU64 } from './codec.js';

export const IO_SLBA = SQE_CDW10; // u64 Starting LBA in CDW10 (low) and CDW11 (high)

// CDW12
export const IO_NLB_MASK = 0xffff; // bits 15:0 Number of Logical Blocks, 0-based
export const IO_DTYPE_SHIFT = 20; // bits 23:20 Directive Type (Write)
export const IO_STC = 1 << 24; // Storage Tag Check
export const IO_DEAC = 1 << 25; // Deallocate (Write Zeroes)
export const IO_PRINFO_SHIFT = 26; // bits 29:26 Protection Information
export const IO_FUA = 1 << 30; // Force Unit Access
export const IO_LR = 0x80000000; // Limited Retry (bit 31, kept unsigned)

/** The most blocks one command can address: NLB is 16 bits, 0-based. */
export const IO_MAX_BLOCKS = 0x10000;

export interface IoCommand {
  opcode: number;
  cid: number;
  nsid: number;
  slba: number;
  /** Number of logical blocks (NLB + 1, not 0-based). */
  blocks: number;
  fua: boolean;
  lr: boolean;
  deac: boolean;
  prinfo: number;
  dtype: number;
  /** CDW13 bits 7:0 Dataset Management hints. */
  dsm: number;
  sgl: SglDescriptor;
}

export type IoCommandInit = Partial<IoCommand> &
  Pick<IoCommand, 'opcode' | 'nsid' | 'slba' | 'blocks'>;

export function encodeIoCommand(
  init: IoCommandInit,
  out: Buffer = Buffer.alloc(SQE_SIZE),
  offset = 0,
): Buffer {
  if (!Number.isInteger(init.blocks) || init.blocks < 1 || init.blocks > IO_MAX_BLOCKS) {
    throw new RangeError(`block count ${init.blocks} is not 1..${IO_MAX_BLOCKS}`);
  }
  const cdw12 =
    ((init.blocks - 1) |
      (((init.dtype ?? 0) & 0xf) << IO_DTYPE_SHIFT) |
      (init.deac ? IO_DEAC : 0) |
      (((init.prinfo ?? 0) & 0xf) << IO_PRINFO_SHIFT) |
      (init.fua ? IO_FUA : 0) |
      (init.lr ? IO_LR : 0)) >>>
    0;
  encodeSqe(
    {
      opcode: init.opcode,
      cid: init.cid ?? 0,
      nsid: init.nsid,
      sgl: init.sgl,
      cdw12,
      cdw13: (init.dsm ?? 0) & 0xff,
    },
    out,
    offset,
  );
  writeU64(out, init.slba, offset + IO_SLBA);
  return out;
}

export function decodeIoCommand(sqe: Buffer, offset = 0): IoCommand {
  const s = decodeSqe(sqe, offset);
  return {
    opcode: s.opcode,
    cid: s.cid,
    nsid: s.nsid,
    slba: readU64(sqe, offset + IO_SLBA),
    blocks: (s.cdw12 & IO_NLB_MASK) + 1,
    fua: (s.cdw12 & IO_FUA) !== 0,
    lr: (s.cdw12 & IO_LR) !== 0,
    deac: (s.cdw12 & IO_DEAC) !== 0,
    prinfo: (s.cdw12 >>> IO_PRINFO_SHIFT) & 0xf,
    dtype: (s.cdw12 >>> IO_DTYPE_SHIFT) & 0xf,
    dsm: s.cdw13 & 0xff,
    sgl: s.sgl,
  };
}

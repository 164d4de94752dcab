/**
 * Completion Queue Entry: 16 bytes (NVMe Base 2.0, 4.6, Figure 98; NVMe-oF 1.1, 2.2).
 * DW3 bits 15:0 CID; bits 31:16 the phase tag (bit 16) and the Status Field:
 * SC bits 24:17, SCT bits 27:25, CRD bits 29:28, More bit 30, DNR bit 31.
 */
export const CQE_SIZE = 16;

export const CQE_DW0 = 0; // u32 command specific
export const CQE_DW1 = 4; // u32 command specific
export const CQE_SQHD = 8; // u16 SQ Head Pointer
export const CQE_SQID = 10; // u16 SQ Identifier
export const CQE_CID = 12; // u16 Command Identifier
export const CQE_STATUS = 14; // u16 phase tag bit 0, status field bits 15:1

const STATUS_PHASE = 0x1;
const STATUS_SC_SHIFT = 1;
const STATUS_SC_MASK = 0xff;
const STATUS_SCT_SHIFT = 9;
const STATUS_SCT_MASK = 0x7;
const STATUS_CRD_SHIFT = 12;
const STATUS_CRD_MASK = 0x3;
const STATUS_MORE = 1 << 14;
const STATUS_DNR = 1 << 15;

export interface Cqe {
  /** DW0 as unsigned 32-bit; fabrics Property Get of an 8-byte property uses dw0|dw1<<32. */
  dw0: number;
  dw1: number;
  sqhd: number;
  sqid: number;
  cid: number;
  phase: number;
  sct: number;
  sc: number;
  crd: number;
  more: boolean;
  dnr: boolean;
}

export type CqeInit = Partial<Cqe> & { cid: number };

export function decodeCqe(buf: Buffer, offset = 0): Cqe {
  if (buf.length - offset < CQE_SIZE) throw new RangeError(`CQE needs ${CQE_SIZE} bytes`);
  const status = buf.readUInt16LE(offset + CQE_STATUS);
  return {
    dw0: buf.readUInt32LE(offset + CQE_DW0),
    dw1: buf.readUInt32LE(offset + CQE_DW1),
    sqhd: buf.readUInt16LE(offset + CQE_SQHD),
    sqid: buf.readUInt16LE(offset + CQE_SQID),
    cid: buf.readUInt16LE(offset + CQE_CID),
    phase: status & STATUS_PHASE,
    sc: (status >>> STATUS_SC_SHIFT) & STATUS_SC_MASK,
    sct: (status >>> STATUS_SCT_SHIFT) & STATUS_SCT_MASK,
    crd: (status >>> STATUS_CRD_SHIFT) & STATUS_CRD_MASK,
    more: (status & STATUS_MORE) !== 0,
    dnr: (status & STATUS_DNR) !== 0,
  };
}

export function encodeCqeStatus(
  sct: number,
  sc: number,
  dnr = false,
  more = false,
  crd = 0,
  phase = 0,
): number {
  return (
    (phase & STATUS_PHASE) |
    ((sc & STATUS_SC_MASK) << STATUS_SC_SHIFT) |
    ((sct & STATUS_SCT_MASK) << STATUS_SCT_SHIFT) |
    ((crd & STATUS_CRD_MASK) << STATUS_CRD_SHIFT) |
    (more ? STATUS_MORE : 0) |
    (dnr ? STATUS_DNR : 0)
  );
}

export function encodeCqe(init: CqeInit, out: Buffer = Buffer.alloc(CQE_SIZE), offset = 0): Buffer {
  out.writeUInt32LE((init.dw0 ?? 0) >>> 0, offset + CQE_DW0);
  out.writeUInt32LE((init.dw1 ?? 0) >>> 0, offset + CQE_DW1);
  out.writeUInt16LE(init.sqhd ?? 0, offset + CQE_SQHD);
  out.writeUInt16LE(init.sqid ?? 0, offset + CQE_SQID);
  out.writeUInt16LE(init.cid, offset + CQE_CID);
  out.writeUInt16LE(
    encodeCqeStatus(
      init.sct ?? 0,
      init.sc ?? 0,
      init.dnr ?? false,
      init.more ?? false,
      init.crd ?? 0,
      init.phase ?? 0,
    ),
    offset + CQE_STATUS,
  );
  return out;
}

/** Reads the CID of an encoded CQE (the transport's hot path). */
export const cqeCid = (cqe: Buffer): number => cqe.readUInt16LE(CQE_CID);
/** True when the CQE's status field (SCT and SC) is zero. */
export const cqeOk = (cqe: Buffer): boolean => (cqe.readUInt16LE(CQE_STATUS) & 0xfffe) === 0;

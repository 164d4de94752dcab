/**
 * Data transfer PDUs (NVMe/TCP 1.0, 3.6.2.8 H2CData, 3.6.2.9 C2HData,
 * 3.6.2.10 R2T). All three have a 24-byte header: CCCID at 8, TTAG at 10 (reserved in
 * C2HData), the offset at 12 and the length at 16, bytes 20-23 reserved.
 */
import {
  CH_FLAGS,
  CH_PDO,
  DATA_PDU_HLEN,
  PduFlag,
  PduType,
  R2T_HLEN,
  type TxRules,
  pduHeaderSize,
  sealHeader,
  writeCommonHeader,
} from './pdu-header.js';

export const DATA_CCCID = 8; // u16 Command Capsule CID
export const DATA_TTAG = 10; // u16 Transfer Tag (H2CData: from the R2T; C2HData: reserved)
export const DATA_DATAO = 12; // u32 Data Offset within the command's data
export const DATA_DATAL = 16; // u32 Data Length of this PDU
export const R2T_CCCID = 8; // u16
export const R2T_TTAG = 10; // u16 chosen by the controller, echoed in the H2CData PDUs
export const R2T_R2TO = 12; // u32 R2T Offset
export const R2T_R2TL = 16; // u32 R2T Length

export interface H2CData {
  cccid: number;
  ttag: number;
  datao: number;
  datal: number;
  last: boolean;
}

export interface C2HData {
  cccid: number;
  datao: number;
  datal: number;
  last: boolean;
  /** The command completed successfully: no CapsuleResp follows (NVMe/TCP 1.0, 3.6.2.9). */
  success: boolean;
}

export interface R2T {
  cccid: number;
  ttag: number;
  r2to: number;
  r2tl: number;
}

/** Bytes before the data of an H2CData/C2HData PDU with `dataLength` data bytes, or of an R2T (0). */
export const dataPduHeaderSize = (dataLength: number, tx: TxRules): number =>
  pduHeaderSize(DATA_PDU_HLEN, dataLength, tx);

/**
 * Writes the header of an H2CData, C2HData or R2T PDU into `dataPduHeaderSize()` zero bytes at
 * `buf[at]` (a TxBatch arena); `length` is DATAL or R2TL, `dataLength` the data that follows.
 */
export function writeDataPduHeader(
  buf: Buffer,
  at: number,
  type: PduType,
  flags: number,
  cccid: number,
  ttag: number,
  offset: number,
  length: number,
  tx: TxRules,
  dataLength: number,
): void {
  const hlen = type === PduType.R2T ? R2T_HLEN : DATA_PDU_HLEN;
  writeCommonHeader(buf, at, type, hlen, dataLength, flags, tx);
  buf.writeUInt16LE(cccid, at + DATA_CCCID);
  buf.writeUInt16LE(ttag, at + DATA_TTAG);
  buf.writeUInt32LE(offset >>> 0, at + DATA_DATAO);
  buf.writeUInt32LE(length >>> 0, at + DATA_DATAL);
  sealHeader(buf, at);
}

function dataHeader(
  type: PduType,
  flags: number,
  cccid: number,
  ttag: number,
  offset: number,
  length: number,
  tx: TxRules,
  dataLength: number,
): Buffer {
  const buf = Buffer.alloc(dataPduHeaderSize(dataLength, tx));
  writeDataPduHeader(buf, 0, type, flags, cccid, ttag, offset, length, tx, dataLength);
  return buf;
}

/** FLAGS of a C2HData PDU (NVMe/TCP 1.0, 3.6.2.9). */
export const c2hDataFlags = (last: boolean, success: boolean): number =>
  (last ? PduFlag.LastPdu : 0) | (success ? PduFlag.Success : 0);

/** Header of an H2CData PDU; its `datal` data bytes (and the data digest) follow it. */
export const encodeH2CData = (m: H2CData, tx: TxRules): Buffer =>
  dataHeader(
    PduType.H2CData,
    m.last ? PduFlag.LastPdu : 0,
    m.cccid,
    m.ttag,
    m.datao,
    m.datal,
    tx,
    m.datal,
  );

/** Header of a C2HData PDU; its `datal` data bytes (and the data digest) follow it. */
export const encodeC2HData = (m: C2HData, tx: TxRules): Buffer =>
  dataHeader(
    PduType.C2HData,
    c2hDataFlags(m.last, m.success),
    m.cccid,
    0,
    m.datao,
    m.datal,
    tx,
    m.datal,
  );

export const r2tSize = (tx: TxRules): number => pduHeaderSize(R2T_HLEN, 0, tx);

export const encodeR2T = (m: R2T, tx: TxRules): Buffer =>
  dataHeader(PduType.R2T, 0, m.cccid, m.ttag, m.r2to, m.r2tl, tx, 0);

export const decodeH2CData = (pdu: Buffer): H2CData => ({
  cccid: pdu.readUInt16LE(DATA_CCCID),
  ttag: pdu.readUInt16LE(DATA_TTAG),
  datao: pdu.readUInt32LE(DATA_DATAO),
  datal: pdu.readUInt32LE(DATA_DATAL),
  last: (pdu[CH_FLAGS] & PduFlag.LastPdu) !== 0,
});

export const decodeC2HData = (pdu: Buffer): C2HData => ({
  cccid: pdu.readUInt16LE(DATA_CCCID),
  datao: pdu.readUInt32LE(DATA_DATAO),
  datal: pdu.readUInt32LE(DATA_DATAL),
  last: (pdu[CH_FLAGS] & PduFlag.LastPdu) !== 0,
  success: (pdu[CH_FLAGS] & PduFlag.Success) !== 0,
});

export const decodeR2T = (pdu: Buffer): R2T => ({
  cccid: pdu.readUInt16LE(R2T_CCCID),
  ttag: pdu.readUInt16LE(R2T_TTAG),
  r2to: pdu.readUInt32LE(R2T_R2TO),
  r2tl: pdu.readUInt32LE(R2T_R2TL),
});

/** A view of the data section of a checked data PDU. */
export const pduData = (pdu: Buffer, dataLength: number): Buffer =>
  pdu.subarray(pdu[CH_PDO], pdu[CH_PDO] + dataLength);

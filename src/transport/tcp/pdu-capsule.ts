/**
 * Capsule PDUs (NVMe/TCP 1.0, 3.6.2.6 CapsuleCmd, 3.6.2.7 CapsuleResp).
 * CapsuleCmd = common header + 64-byte SQE [+ HDGST] [+ pad to PDO + in-capsule data + DDGST];
 * CapsuleResp = common header + 16-byte CQE [+ HDGST], never data.
 */
import {
  CQE_CID,
  CQE_DW0,
  CQE_DW1,
  CQE_SIZE,
  CQE_SQHD,
  CQE_SQID,
  CQE_STATUS,
} from '../../nvme/cqe.js';
import {
  SGL_DESCRIPTOR_SIZE,
  SGL_IDENTIFIER,
  SGL_LENGTH,
  SglSubtype,
  SglType,
} from '../../nvme/sgl.js';
import { SQE_DPTR, SQE_SIZE } from '../../nvme/sqe.js';
import {
  CAPSULE_CMD_HLEN,
  CAPSULE_RESP_HLEN,
  CH_PDO,
  CH_SIZE,
  PduType,
  type TxRules,
  pduHeaderSize,
  sealHeader,
  writeCommonHeader,
} from './pdu-header.js';

/** SGL1 identifier byte for in-capsule data: Data Block, Offset subtype (NVMe/TCP 1.0 in-capsule data). */
export const IN_CAPSULE_SGL_ID = (SglType.DataBlock << 4) | SglSubtype.Offset;
/** SGL1 identifier byte for data moved by R2T/H2CData or C2HData: Transport SGL Data Block. */
export const TRANSPORT_SGL_ID = (SglType.TransportDataBlock << 4) | SglSubtype.Transport;
/** An all-zero SGL1 (Data Block, Address, length 0): some hosts send it for no-data commands. */
export const NULL_SGL_ID = (SglType.DataBlock << 4) | SglSubtype.Address;

/** Writes SGL1 of `sqe` in place: zero address, `length`, identifier byte `id`. */
export function setSgl1(sqe: Buffer, id: number, length: number): void {
  sqe.fill(0, SQE_DPTR, SQE_DPTR + SGL_DESCRIPTOR_SIZE);
  sqe.writeUInt32LE(length, SQE_DPTR + SGL_LENGTH);
  sqe[SQE_DPTR + SGL_IDENTIFIER] = id;
}

/** Byte offset of the SQE in a CapsuleCmd and of the CQE in a CapsuleResp. */
export const CAPSULE_CMD_SQE = CH_SIZE;
export const CAPSULE_RESP_CQE = CH_SIZE;

export interface CapsuleCmd {
  /** A view of the 64-byte SQE inside the received PDU. */
  sqe: Buffer;
  /** A view of the in-capsule data, when there is any. */
  data: Buffer | undefined;
}

export interface CapsuleResp {
  /** A view of the 16-byte CQE inside the received PDU. */
  cqe: Buffer;
}

/** The CQE fields a controller fills; `status` is CQE bytes 14-15 (phase bit 0 and status field). */
export interface CapsuleRespFields {
  dw0?: number;
  dw1?: number;
  sqhd: number;
  sqid: number;
  cid: number;
  status: number;
}

/**
 * The header bytes of a CapsuleCmd carrying `dataLength` bytes of in-capsule data (sent after it,
 * followed by the data digest when DDGSTF is set).
 */
export function encodeCapsuleCmd(sqe: Buffer, dataLength: number, tx: TxRules): Buffer {
  const buf = Buffer.alloc(capsuleCmdHeaderSize(dataLength, tx));
  writeCapsuleCmd(buf, 0, sqe, dataLength, tx);
  return buf;
}

export const capsuleCmdHeaderSize = (dataLength: number, tx: TxRules): number =>
  pduHeaderSize(CAPSULE_CMD_HLEN, dataLength, tx);

/** encodeCapsuleCmd into `capsuleCmdHeaderSize()` zero bytes at `buf[at]` (a TxBatch arena). */
export function writeCapsuleCmd(
  buf: Buffer,
  at: number,
  sqe: Buffer,
  dataLength: number,
  tx: TxRules,
): void {
  writeCommonHeader(buf, at, PduType.CapsuleCmd, CAPSULE_CMD_HLEN, dataLength, 0, tx);
  sqe.copy(buf, at + CAPSULE_CMD_SQE, 0, SQE_SIZE);
  sealHeader(buf, at);
}

/** Decodes a checked CapsuleCmd PDU with `dataLength` data bytes at PDO. */
export function decodeCapsuleCmd(pdu: Buffer, dataLength: number): CapsuleCmd {
  const pdo = pdu[CH_PDO];
  return {
    sqe: pdu.subarray(CAPSULE_CMD_SQE, CAPSULE_CMD_SQE + SQE_SIZE),
    data: dataLength > 0 ? pdu.subarray(pdo, pdo + dataLength) : undefined,
  };
}

export function encodeCapsuleResp(f: CapsuleRespFields, tx: TxRules): Buffer {
  const buf = Buffer.alloc(capsuleRespSize(tx));
  writeCapsuleResp(buf, 0, f.cid, f.status, f.sqhd, f.sqid, f.dw0 ?? 0, f.dw1 ?? 0, tx);
  return buf;
}

export const capsuleRespSize = (tx: TxRules): number => pduHeaderSize(CAPSULE_RESP_HLEN, 0, tx);

/** encodeCapsuleResp into `capsuleRespSize()` zero bytes at `buf[at]`, fields as arguments. */
export function writeCapsuleResp(
  buf: Buffer,
  at: number,
  cid: number,
  status: number,
  sqhd: number,
  sqid: number,
  dw0: number,
  dw1: number,
  tx: TxRules,
): void {
  writeCommonHeader(buf, at, PduType.CapsuleResp, CAPSULE_RESP_HLEN, 0, 0, tx);
  const cqe = at + CAPSULE_RESP_CQE;
  buf.writeUInt32LE(dw0 >>> 0, cqe + CQE_DW0);
  buf.writeUInt32LE(dw1 >>> 0, cqe + CQE_DW1);
  buf.writeUInt16LE(sqhd, cqe + CQE_SQHD);
  buf.writeUInt16LE(sqid, cqe + CQE_SQID);
  buf.writeUInt16LE(cid, cqe + CQE_CID);
  buf.writeUInt16LE(status, cqe + CQE_STATUS);
  sealHeader(buf, at);
}

export const decodeCapsuleResp = (pdu: Buffer): CapsuleResp => ({
  cqe: pdu.subarray(CAPSULE_RESP_CQE, CAPSULE_RESP_CQE + CQE_SIZE),
});

/**
 * NVMe/TCP PDUs (NVMe/TCP Transport Specification 1.0, 3.6): the constants, typed messages and
 * encoders/decoders of every PDU, one family per file, gathered here; and decodePdu(), which
 * checks a whole received PDU (common header, HLEN/PLEN/PDO, digests, lengths) and returns the
 * typed message. Encoders return header bytes only: the data goes out as separate buffers
 * followed by the data digest (STYLE.md rule 5).
 */
import { DIGEST_SIZE, dataDigest, headerDigestOk } from './digest.js';
import { TcpTransportError, TermReqFes } from './errors.js';
import { CQE_SIZE } from '../../nvme/cqe.js';
import { SQE_SIZE } from '../../nvme/sqe.js';
import {
  CAPSULE_CMD_SQE,
  CAPSULE_RESP_CQE,
  type CapsuleCmd,
  type CapsuleResp,
} from './pdu-capsule.js';
import {
  type C2HData,
  DATA_CCCID,
  DATA_DATAL,
  DATA_DATAO,
  DATA_TTAG,
  type H2CData,
  type R2T,
  decodeR2T,
  pduData,
} from './pdu-data.js';
import {
  CH_FLAGS,
  CH_HLEN,
  CH_PDO,
  CH_PLEN,
  CH_SIZE,
  CH_TYPE,
  type HeaderRules,
  PduFlag,
  PduType,
  checkCommonHeader,
} from './pdu-header.js';
import { type IcReq, type IcResp, decodeIcReq, decodeIcResp } from './pdu-ic.js';
import { type TermReq, decodeTermReq } from './pdu-term.js';

export * from './pdu-header.js';
export * from './pdu-ic.js';
export * from './pdu-capsule.js';
export * from './pdu-data.js';
export * from './pdu-term.js';
export { DIGEST_SIZE } from './digest.js';
export {
  TermReqFes,
  TcpTransportError,
  NvmeTcpError,
  TcpPeerTerminatedError,
  TcpConnectionClosedError,
  TcpConnectTimeoutError,
} from './errors.js';

/** Data PDUs carry whether their data digest matched; a mismatch is not fatal (see below). */
interface WithData {
  data: Buffer | undefined;
  /** false when DDGSTF was set and the CRC32C of the data did not match. */
  dataDigestOk: boolean;
}

export type Pdu =
  | ({ type: PduType.IcReq } & IcReq)
  | ({ type: PduType.IcResp } & IcResp)
  | ({ type: PduType.H2CTermReq | PduType.C2HTermReq } & TermReq)
  | ({ type: PduType.CapsuleCmd } & CapsuleCmd & WithData)
  | ({ type: PduType.CapsuleResp } & CapsuleResp)
  | ({ type: PduType.H2CData } & H2CData & WithData & { data: Buffer })
  | ({ type: PduType.C2HData } & C2HData & WithData & { data: Buffer })
  | ({ type: PduType.R2T } & R2T);

/**
 * Decodes one whole PDU (`pdu.length` must equal its PLEN; the PDU reader guarantees that).
 * Throws TcpTransportError for anything fatal: header fields (FES 01h), header digest (FES 03h).
 * A data digest mismatch is reported in `dataDigestOk` instead, because NVMe/TCP 1.0 makes it a
 * per-command error (the command completes with Transient Transport Error), not a fatal one.
 */
export function decodePdu(pdu: Buffer, rules: HeaderRules): Pdu {
  if (pdu.length < CH_SIZE) {
    throw new TcpTransportError(
      TermReqFes.InvalidHeaderField,
      CH_PLEN,
      `PDU of ${pdu.length} bytes`,
    );
  }
  const dataLength = checkCommonHeader(pdu, 0, rules);
  if (pdu.readUInt32LE(CH_PLEN) !== pdu.length) {
    throw new TcpTransportError(
      TermReqFes.InvalidHeaderField,
      CH_PLEN,
      `PLEN ${pdu.readUInt32LE(CH_PLEN)} but ${pdu.length} bytes`,
    );
  }
  return decodeCheckedPdu(pdu, dataLength);
}

/**
 * decodePdu() for a PDU whose common header already passed checkCommonHeader() (which gave
 * `dataLength`) and whose length is its PLEN: what a queue does with each PDU the reader cuts,
 * after checking the header as it arrived. Builds one object per PDU, no intermediate ones.
 */
export function decodeCheckedPdu(pdu: Buffer, dataLength: number): Pdu {
  const type = pdu[CH_TYPE] as PduType;
  const flags = pdu[CH_FLAGS];
  if ((flags & PduFlag.HeaderDigest) !== 0 && !headerDigestOk(pdu, pdu[CH_HLEN])) {
    throw new TcpTransportError(
      TermReqFes.HeaderDigestError,
      0,
      `header digest mismatch on PDU type 0x${type.toString(16)}`,
    );
  }
  switch (type) {
    case PduType.CapsuleResp:
      return { type, cqe: pdu.subarray(CAPSULE_RESP_CQE, CAPSULE_RESP_CQE + CQE_SIZE) };
    case PduType.CapsuleCmd: {
      const pdo = pdu[CH_PDO];
      const data = dataLength > 0 ? pdu.subarray(pdo, pdo + dataLength) : undefined;
      return {
        type,
        sqe: pdu.subarray(CAPSULE_CMD_SQE, CAPSULE_CMD_SQE + SQE_SIZE),
        data,
        dataDigestOk: digestOk(pdu, flags, data),
      };
    }
    case PduType.H2CData:
    case PduType.C2HData: {
      const datal = pdu.readUInt32LE(DATA_DATAL);
      if (datal !== dataLength || dataLength === 0) {
        throw new TcpTransportError(
          TermReqFes.InvalidHeaderField,
          DATA_DATAL,
          `DATAL ${datal} but the PDU carries ${dataLength} data bytes`,
        );
      }
      const data = pduData(pdu, dataLength);
      const cccid = pdu.readUInt16LE(DATA_CCCID);
      const datao = pdu.readUInt32LE(DATA_DATAO);
      const last = (flags & PduFlag.LastPdu) !== 0;
      const dataDigestOk = digestOk(pdu, flags, data);
      if (type === PduType.C2HData) {
        const success = (flags & PduFlag.Success) !== 0;
        return { type, cccid, datao, datal, last, success, data, dataDigestOk };
      }
      const ttag = pdu.readUInt16LE(DATA_TTAG);
      return { type, cccid, ttag, datao, datal, last, data, dataDigestOk };
    }
    case PduType.R2T:
      return { type, ...decodeR2T(pdu) };
    case PduType.IcReq:
      return { type, ...decodeIcReq(pdu) };
    case PduType.IcResp:
      return { type, ...decodeIcResp(pdu) };
    case PduType.H2CTermReq:
    case PduType.C2HTermReq:
      return { type, ...decodeTermReq(pdu) };
  }
}

function digestOk(pdu: Buffer, flags: number, data: Buffer | undefined): boolean {
  if ((flags & PduFlag.DataDigest) === 0 || !data) return true;
  return pdu.readUInt32LE(pdu.length - DIGEST_SIZE) === dataDigest(data);
}

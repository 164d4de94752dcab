/**
 * Connection initialization PDUs (NVMe/TCP 1.0, 3.6.2.2 ICReq, 3.6.2.3
 * ICResp). Both are exactly 128 bytes, never carry digests, and negotiate the rest of the
 * connection: PDU data alignment, which digests are on, MAXR2T and MAXH2CDATA.
 */
import { IC_PDU_SIZE, PduType, allocHeader, txLayout } from './pdu-header.js';

export const IC_PFV = 8; // u16 PDU Format Version
export const IC_PDA = 10; // u8  HPDA (ICReq) / CPDA (ICResp), 0's based dwords
export const IC_DGST = 11; // u8  bit 0 HDGST_ENABLE, bit 1 DDGST_ENABLE
export const IC_MAXR2T = 12; // u32 ICReq: outstanding R2Ts per command the host accepts, 0's based
export const IC_MAXH2CDATA = 12; // u32 ICResp: largest H2CData data section the controller accepts

export const DGST_HDGST_ENABLE = 0x1;
export const DGST_DDGST_ENABLE = 0x2;
/** The only PDU Format Version defined (NVMe/TCP 1.0). */
export const PFV_1_0 = 0;
/** HPDA and CPDA range from 0 to 31 (dwords, 0's based). */
export const MAX_PDA = 31;
/** MAXH2CDATA is at least 4096 and a multiple of a dword (NVMe/TCP 1.0, 3.6.2.3). */
export const MIN_MAXH2CDATA = 4096;

export interface IcReq {
  pfv: number;
  hpda: number;
  hdgst: boolean;
  ddgst: boolean;
  maxr2t: number;
}

export interface IcResp {
  pfv: number;
  cpda: number;
  hdgst: boolean;
  ddgst: boolean;
  maxh2cdata: number;
}

const NO_DIGESTS = { hdgst: false, ddgst: false, pdoAlignment: 4 };

const dgstByte = (hdgst: boolean, ddgst: boolean): number =>
  (hdgst ? DGST_HDGST_ENABLE : 0) | (ddgst ? DGST_DDGST_ENABLE : 0);

function icPdu(type: PduType, pfv: number, pda: number, dgst: number, last: number): Buffer {
  const buf = allocHeader(type, IC_PDU_SIZE, txLayout(IC_PDU_SIZE, 0, 0, NO_DIGESTS, false));
  buf.writeUInt16LE(pfv, IC_PFV);
  buf[IC_PDA] = pda;
  buf[IC_DGST] = dgst;
  buf.writeUInt32LE(last >>> 0, IC_MAXR2T);
  return buf;
}

export const encodeIcReq = (m: IcReq): Buffer =>
  icPdu(PduType.IcReq, m.pfv, m.hpda, dgstByte(m.hdgst, m.ddgst), m.maxr2t);

export const decodeIcReq = (pdu: Buffer): IcReq => ({
  pfv: pdu.readUInt16LE(IC_PFV),
  hpda: pdu[IC_PDA],
  hdgst: (pdu[IC_DGST] & DGST_HDGST_ENABLE) !== 0,
  ddgst: (pdu[IC_DGST] & DGST_DDGST_ENABLE) !== 0,
  maxr2t: pdu.readUInt32LE(IC_MAXR2T),
});

export const encodeIcResp = (m: IcResp): Buffer =>
  icPdu(PduType.IcResp, m.pfv, m.cpda, dgstByte(m.hdgst, m.ddgst), m.maxh2cdata);

export const decodeIcResp = (pdu: Buffer): IcResp => ({
  pfv: pdu.readUInt16LE(IC_PFV),
  cpda: pdu[IC_PDA],
  hdgst: (pdu[IC_DGST] & DGST_HDGST_ENABLE) !== 0,
  ddgst: (pdu[IC_DGST] & DGST_DDGST_ENABLE) !== 0,
  maxh2cdata: pdu.readUInt32LE(IC_MAXH2CDATA),
});

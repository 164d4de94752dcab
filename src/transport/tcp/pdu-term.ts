/**
 * Connection termination PDUs (NVMe/TCP 1.0, 3.6.2.4 H2CTermReq, 3.6.2.5
 * C2HTermReq): FES at 8, FEI at 10, and up to 128 bytes of the header of the PDU in error as data
 * right after the 24-byte header (PDO 0, never digests).
 */
import { PduType, TERM_REQ_HLEN, TERM_REQ_MAX_DATA, allocHeader, txLayout } from './pdu-header.js';

export const TERM_FES = 8; // u16 Fatal Error Status
export const TERM_FEI = 10; // u32 Fatal Error Information

export interface TermReq {
  fes: number;
  fei: number;
  /** The offending PDU header the peer echoed (a view). */
  header: Buffer;
}

const NO_DIGESTS = { hdgst: false, ddgst: false, pdoAlignment: 4 };

/** The whole TermReq PDU (it is small, so header and echoed data go in one buffer). */
export function encodeTermReq(
  type: PduType.H2CTermReq | PduType.C2HTermReq,
  m: { fes: number; fei: number; header?: Buffer },
): Buffer {
  const echo = m.header ? m.header.subarray(0, TERM_REQ_MAX_DATA) : Buffer.alloc(0);
  const layout = txLayout(TERM_REQ_HLEN, 0, 0, NO_DIGESTS, false);
  layout.headerSize = TERM_REQ_HLEN + echo.length;
  layout.plen = layout.headerSize;
  const buf = allocHeader(type, TERM_REQ_HLEN, layout);
  buf.writeUInt16LE(m.fes, TERM_FES);
  buf.writeUInt32LE(m.fei >>> 0, TERM_FEI);
  echo.copy(buf, TERM_REQ_HLEN);
  return buf;
}

export const decodeTermReq = (pdu: Buffer): TermReq => ({
  fes: pdu.readUInt16LE(TERM_FES),
  fei: pdu.readUInt32LE(TERM_FEI),
  header: pdu.subarray(TERM_REQ_HLEN),
});

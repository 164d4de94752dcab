/**
 * The connection initialization rules (NVMe/TCP 1.0, 3.6.2.2 ICReq, 3.6.2.3 ICResp): what each
 * end checks in the other's IC PDU before adopting it. A violation is fatal, FES 01h with the
 * offset of the field in error.
 */
import { TcpTransportError, TermReqFes } from './errors.js';
import {
  IC_DGST,
  IC_MAXH2CDATA,
  IC_PDA,
  IC_PFV,
  type IcReq,
  type IcResp,
  MAX_PDA,
  MIN_MAXH2CDATA,
  PFV_1_0,
} from './pdu-ic.js';

const bad = (fei: number, message: string): TcpTransportError =>
  new TcpTransportError(TermReqFes.InvalidHeaderField, fei, message);

/** The controller's check of an ICReq: PFV 0, HPDA 0..31 (the digests asked for are granted). */
export function checkIcReq(m: IcReq): void {
  if (m.pfv !== PFV_1_0) throw bad(IC_PFV, `ICReq PFV ${m.pfv}, expected ${PFV_1_0}`);
  if (m.hpda > MAX_PDA) throw bad(IC_PDA, `ICReq HPDA ${m.hpda} above ${MAX_PDA}`);
}

/** The host's check of an ICResp against the digests it asked for. */
export function checkIcResp(m: IcResp, asked: { hdgst: boolean; ddgst: boolean }): void {
  if (m.pfv !== PFV_1_0) throw bad(IC_PFV, `ICResp PFV ${m.pfv}, expected ${PFV_1_0}`);
  if (m.cpda > MAX_PDA) throw bad(IC_PDA, `ICResp CPDA ${m.cpda} above ${MAX_PDA}`);
  // The controller answers the digests the host asked for (3.6.2.3 DGST); Linux insists too.
  if (m.hdgst !== asked.hdgst || m.ddgst !== asked.ddgst) {
    throw bad(
      IC_DGST,
      `ICResp digests hdgst=${m.hdgst} ddgst=${m.ddgst}, asked hdgst=${asked.hdgst} ddgst=${asked.ddgst}`,
    );
  }
  if (m.maxh2cdata < MIN_MAXH2CDATA || m.maxh2cdata % 4 !== 0) {
    throw bad(
      IC_MAXH2CDATA,
      `ICResp MAXH2CDATA ${m.maxh2cdata} below ${MIN_MAXH2CDATA} or not dword-aligned`,
    );
  }
}

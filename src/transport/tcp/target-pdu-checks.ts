/**
 * What the controller accepts from a host: queue options it can announce, which PDU may arrive
 * in which state, how much data it may carry, and whether an H2CData answers the R2Ts of its
 * transfer. A violating PDU is fatal to the connection, so each check throws the
 * TcpTransportError (FES and FEI) that the queue turns into a C2HTermReq (NVMe/TCP 1.0, 3.6.2.5).
 */
import { TcpTransportError, TermReqFes } from './errors.js';
import { DATA_CCCID, DATA_TTAG, MAX_PDA, MIN_MAXH2CDATA, type Pdu, PduType } from './pdu.js';
import type { TargetQueueOptions } from './target-response.js';
import type { TargetTransfer } from './target-transfer.js';

/** MAXH2CDATA and CPDA the ICResp can announce; a RangeError otherwise. */
export function checkTargetQueueOptions(opts: TargetQueueOptions): void {
  const cpda = opts.cpda ?? 0;
  if (opts.maxH2CData < MIN_MAXH2CDATA || opts.maxH2CData % 4 !== 0) {
    throw new RangeError(
      `maxH2CData ${opts.maxH2CData} must be ≥ ${MIN_MAXH2CDATA} and a multiple of 4`,
    );
  }
  if (!Number.isInteger(cpda) || cpda < 0 || cpda > MAX_PDA) {
    throw new RangeError(`cpda ${cpda} is not an integer from 0 to ${MAX_PDA}`);
  }
}

/** An ICReq first and only once; in-capsule data and H2CData within the announced limits. */
export function checkTargetRxHeader(
  type: PduType,
  dataLength: number,
  initializing: boolean,
  inCapsuleDataSize: number,
  maxH2CData: number,
): void {
  if (type === PduType.H2CTermReq) return;
  // NVMe/TCP 1.0, 3.6.2.2: ICReq first and only once; anything else is a PDU sequence error.
  if (initializing !== (type === PduType.IcReq)) {
    throw new TcpTransportError(
      TermReqFes.PduSequenceError,
      0,
      `PDU type 0x${type.toString(16)} ${initializing ? 'before ICReq' : 'after the connection was initialized'}`,
    );
  }
  // NVMe/TCP 1.0, FES 05h: more in-capsule data than the capsule size, or more H2CData than
  // MAXH2CDATA, is a Data Transfer Limit Exceeded fatal error (SPDK lib/nvmf/tcp.c agrees).
  if (type === PduType.CapsuleCmd && dataLength > inCapsuleDataSize) {
    throw new TcpTransportError(
      TermReqFes.DataTransferLimitExceeded,
      0,
      `${dataLength} bytes of in-capsule data, more than the ${inCapsuleDataSize} accepted`,
    );
  }
  if (type === PduType.H2CData && dataLength > maxH2CData) {
    throw new TcpTransportError(
      TermReqFes.DataTransferLimitExceeded,
      0,
      `H2CData of ${dataLength} bytes, more than MAXH2CDATA ${maxH2CData}`,
    );
  }
}

/** NVMe/TCP 1.0, 3.6.2.8: H2CData answers an R2T, in order, within what the R2Ts asked for. */
export function checkH2CData(
  t: TargetTransfer | undefined,
  m: Pdu & { type: PduType.H2CData },
): asserts t is TargetTransfer {
  if (!t) {
    throw new TcpTransportError(
      TermReqFes.InvalidHeaderField,
      DATA_TTAG,
      `H2CData with unknown TTAG ${m.ttag}`,
    );
  }
  if (t.cid !== m.cccid) {
    throw new TcpTransportError(
      TermReqFes.InvalidHeaderField,
      DATA_CCCID,
      `H2CData CCCID ${m.cccid} for TTAG ${m.ttag} of CID ${t.cid}`,
    );
  }
  if (m.datao !== t.received || m.datao + m.datal > t.granted) {
    throw new TcpTransportError(
      TermReqFes.DataTransferOutOfRange,
      0,
      `H2CData offset ${m.datao} length ${m.datal}: expected offset ${t.received}, R2Ts cover ${t.granted} of ${t.length} bytes`,
    );
  }
}

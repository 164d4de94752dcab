/**
 * What the host accepts from a controller: which PDU may arrive in which state, how much data
 * it may carry, and whether a CapsuleResp, C2HData or R2T fits the command it names. Every
 * violation is fatal to the connection, so each check throws the TcpTransportError (FES and FEI)
 * that the queue turns into an H2CTermReq (NVMe/TCP 1.0, 3.6.2.4).
 */
import { CQE_CID } from '../../nvme/cqe.js';
import { TcpTransportError, TermReqFes } from './errors.js';
import type { HostCommand } from './host-command.js';
import { CAPSULE_RESP_CQE, DATA_CCCID, type Pdu, PduType, R2T_CCCID, R2T_R2TL } from './pdu.js';

/** An ICResp first and only then; C2HData no larger than the host accepts. */
export function checkHostRxHeader(
  type: PduType,
  dataLength: number,
  initializing: boolean,
  maxC2HData: number,
): void {
  if (type === PduType.C2HTermReq) return;
  if (initializing !== (type === PduType.IcResp)) {
    throw new TcpTransportError(
      TermReqFes.PduSequenceError,
      0,
      `PDU type 0x${type.toString(16)} while ${initializing ? 'waiting for ICResp' : 'connected'}`,
    );
  }
  if (type === PduType.C2HData && dataLength > maxC2HData) {
    throw new TcpTransportError(
      TermReqFes.DataTransferLimitExceeded,
      0,
      `C2HData of ${dataLength} bytes, more than the ${maxC2HData} accepted`,
    );
  }
}

/** A CapsuleResp completes an outstanding command. */
export function checkCapsuleResp(
  cmd: HostCommand | undefined,
  cid: number,
): asserts cmd is HostCommand {
  if (!cmd) {
    throw new TcpTransportError(
      TermReqFes.InvalidHeaderField,
      CAPSULE_RESP_CQE + CQE_CID,
      `CapsuleResp for unknown CID ${cid}`,
    );
  }
}

/** NVMe/TCP 1.0, 3.6.2.9: C2HData PDUs of a command arrive in order, inside its data. */
export function checkC2HData(
  cmd: HostCommand | undefined,
  cccid: number,
  datao: number,
  datal: number,
): asserts cmd is HostCommand {
  if (!cmd || cmd.readLength === 0) {
    throw new TcpTransportError(
      TermReqFes.InvalidHeaderField,
      DATA_CCCID,
      `C2HData for CID ${cccid}, which expects no data`,
    );
  }
  if (datao !== cmd.received || datao + datal > cmd.readLength) {
    throw new TcpTransportError(
      TermReqFes.DataTransferOutOfRange,
      0,
      `C2HData offset ${datao} length ${datal} for CID ${cccid}: expected offset ${cmd.received} within ${cmd.readLength} bytes`,
    );
  }
}

/** NVMe/TCP 1.0, 3.6.2.10: an R2T asks for a range of the data of a command that has some. */
export function checkR2T(
  cmd: HostCommand | undefined,
  m: Pdu & { type: PduType.R2T },
): asserts cmd is HostCommand & { write: Buffer | readonly Buffer[] } {
  if (!cmd || !cmd.write) {
    throw new TcpTransportError(
      TermReqFes.InvalidHeaderField,
      R2T_CCCID,
      `R2T for CID ${m.cccid}, which has no data to send`,
    );
  }
  if (m.r2tl === 0 || m.r2to + m.r2tl > cmd.writeLength) {
    throw new TcpTransportError(
      TermReqFes.InvalidHeaderField,
      R2T_R2TL,
      `R2T offset ${m.r2to} length ${m.r2tl} outside the ${cmd.writeLength} bytes of CID ${m.cccid}`,
    );
  }
}

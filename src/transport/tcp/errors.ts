/**
 * Errors of the NVMe/TCP transport. One base class with a stable `code`, one subclass per
 * meaning (undici lib/core/errors.js style). A fatal protocol error is a TcpTransportError: it
 * carries the Fatal Error Status and Fatal Error Information that go into the TermReq PDU the
 * detecting side sends (NVMe/TCP 1.0, 3.6.2.4 H2CTermReq / 3.6.2.5 C2HTermReq).
 */

/** Fatal Error Status (FES) of a TermReq PDU (NVMe/TCP 1.0, 3.6.2.4 / 3.6.2.5). */
export const enum TermReqFes {
  /** FEI holds the byte offset of the first invalid header field. */
  InvalidHeaderField = 0x01,
  /** A PDU type that is not allowed in the connection's current state. */
  PduSequenceError = 0x02,
  HeaderDigestError = 0x03,
  /** H2CData/C2HData outside the range the command (or the R2T) allows. */
  DataTransferOutOfRange = 0x04,
  /** More data than MAXH2CDATA or the in-capsule data size (was "R2T Limit Exceeded" in TP 8000). */
  DataTransferLimitExceeded = 0x05,
  UnsupportedParameter = 0x06,
}

const FES_CODES: Record<number, string> = {
  [TermReqFes.InvalidHeaderField]: 'NVME_TCP_INVALID_HEADER_FIELD',
  [TermReqFes.PduSequenceError]: 'NVME_TCP_PDU_SEQUENCE_ERROR',
  [TermReqFes.HeaderDigestError]: 'NVME_TCP_HEADER_DIGEST_ERROR',
  [TermReqFes.DataTransferOutOfRange]: 'NVME_TCP_DATA_OUT_OF_RANGE',
  [TermReqFes.DataTransferLimitExceeded]: 'NVME_TCP_DATA_LIMIT_EXCEEDED',
  [TermReqFes.UnsupportedParameter]: 'NVME_TCP_UNSUPPORTED_PARAMETER',
};

const FES_NAMES: Record<number, string> = {
  [TermReqFes.InvalidHeaderField]: 'invalid PDU header field',
  [TermReqFes.PduSequenceError]: 'PDU sequence error',
  [TermReqFes.HeaderDigestError]: 'header digest error',
  [TermReqFes.DataTransferOutOfRange]: 'data transfer out of range',
  [TermReqFes.DataTransferLimitExceeded]: 'data transfer limit exceeded',
  [TermReqFes.UnsupportedParameter]: 'unsupported parameter',
};

/** A readable name for a FES value, including unknown ones. */
export const fesName = (fes: number): string => FES_NAMES[fes] ?? `FES 0x${fes.toString(16)}`;

/** Base of every NVMe/TCP transport error; `code` is stable and safe to switch on. */
export class NvmeTcpError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * A fatal transport error detected by this end: the connection is terminated with a TermReq
 * carrying `fes` and `fei`. `sendTermReq` is false for the one case where the spec says to close
 * without reporting (a TermReq with an invalid length, NVMe/TCP 1.0, 3.6.2.4).
 */
export class TcpTransportError extends NvmeTcpError {
  /** The header of the offending PDU, echoed in the TermReq data (at most 128 bytes). */
  header: Buffer | undefined;
  constructor(
    readonly fes: TermReqFes,
    readonly fei: number,
    message: string,
    readonly sendTermReq = true,
  ) {
    super(FES_CODES[fes] ?? 'NVME_TCP_FATAL_ERROR', `NVMe/TCP ${fesName(fes)}: ${message}`);
  }
}

/** The peer terminated the connection with a TermReq PDU. */
export class TcpPeerTerminatedError extends NvmeTcpError {
  constructor(
    readonly fes: number,
    readonly fei: number,
    who: string,
  ) {
    super(
      'NVME_TCP_TERMINATED_BY_PEER',
      `${who} terminated the NVMe/TCP connection: ${fesName(fes)} (FES 0x${fes.toString(16)}, FEI 0x${fei.toString(16)})`,
    );
  }
}

/** The TCP connection closed (or was closed locally) with commands still outstanding. */
export class TcpConnectionClosedError extends NvmeTcpError {
  constructor(message: string) {
    super('NVME_TCP_CONNECTION_CLOSED', message);
  }
}

/** TCP connect plus the ICReq/ICResp exchange did not finish in time. */
export class TcpConnectTimeoutError extends NvmeTcpError {
  constructor(host: string, port: number, ms: number) {
    super(
      'NVME_TCP_CONNECT_TIMEOUT',
      `NVMe/TCP connection to ${host}:${port} not established within ${ms} ms`,
    );
  }
}

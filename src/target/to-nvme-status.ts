/**
 * The one place where an error becomes the wire's answer (STYLE.md 7, SPDK's
 * spdk_nvmf_request_complete / nbdkit's nbd_errno): every command handler lets its errors
 * propagate, and the queue turns them into a CQE status here. A handler never throws past this.
 */
import { encodeCqeStatus } from '../nvme/cqe.js';
import {
  NvmeStatusError,
  StatusCodeType,
  GenericStatus,
  CommandSpecificStatus,
  MediaStatus,
} from '../nvme/status.js';

/** What a handler answers: the CQE status field (bits 15:1), DW0/DW1 and controller→host data. */
export interface CommandResponse {
  /** CQE DW3 bits 31:17 as encodeCqeStatus returns them (phase bit 0 left clear). */
  status: number;
  dw0?: number;
  dw1?: number;
  data?: Buffer | readonly Buffer[];
}

/** A failed command whose completion carries command-specific DW0 (Connect's IATTR/IPO). */
export class NvmeCommandError extends NvmeStatusError {
  constructor(
    sct: number,
    sc: number,
    message: string,
    readonly dw0: number,
    dnr = true,
  ) {
    super(sct, sc, message, dnr);
    this.name = 'NvmeCommandError';
  }
}

export const SUCCESS_STATUS = 0;

export const success = (dw0?: number, data?: Buffer, dw1?: number): CommandResponse => ({
  status: SUCCESS_STATUS,
  ...(dw0 !== undefined ? { dw0 } : {}),
  ...(dw1 !== undefined ? { dw1 } : {}),
  ...(data !== undefined ? { data } : {}),
});

/** errno codes of the backing store that have an NVMe meaning of their own. */
const ERRNO_STATUS: Readonly<Record<string, readonly [number, number, boolean]>> = {
  ENOSPC: [StatusCodeType.Generic, GenericStatus.CapacityExceeded, true],
  EDQUOT: [StatusCodeType.Generic, GenericStatus.CapacityExceeded, true],
  EROFS: [StatusCodeType.Generic, GenericStatus.NamespaceWriteProtected, true],
};

/**
 * Maps any error to a CQE status. NvmeStatusError keeps its SCT/SC/DNR (and DW0 for an
 * NvmeCommandError); a system error with a known errno maps to its NVMe equivalent; anything
 * else is an Internal Error the host may retry (DNR clear).
 */
export function toNvmeStatus(err: unknown): CommandResponse {
  if (err instanceof NvmeCommandError) {
    return { status: encodeCqeStatus(err.sct, err.sc, err.dnr), dw0: err.dw0 };
  }
  if (err instanceof NvmeStatusError) {
    return { status: encodeCqeStatus(err.sct, err.sc, err.dnr) };
  }
  const code = (err as { code?: unknown } | null)?.code;
  const mapped = typeof code === 'string' ? ERRNO_STATUS[code] : undefined;
  if (mapped) return { status: encodeCqeStatus(mapped[0], mapped[1], mapped[2]) };
  return { status: encodeCqeStatus(StatusCodeType.Generic, GenericStatus.InternalError, false) };
}

/** Shorthands for the statuses the handlers raise (all with DNR: retrying cannot help). */
const fail =
  (sct: number, sc: number) =>
  (message: string): NvmeStatusError =>
    new NvmeStatusError(sct, sc, message);

export const invalidOpcode = fail(StatusCodeType.Generic, GenericStatus.InvalidOpcode);
export const invalidField = fail(StatusCodeType.Generic, GenericStatus.InvalidField);
export const invalidNamespace = fail(
  StatusCodeType.Generic,
  GenericStatus.InvalidNamespaceOrFormat,
);
export const commandSequenceError = fail(
  StatusCodeType.Generic,
  GenericStatus.CommandSequenceError,
);
export const dataSglLengthInvalid = fail(
  StatusCodeType.Generic,
  GenericStatus.DataSglLengthInvalid,
);
export const lbaOutOfRange = fail(StatusCodeType.Generic, GenericStatus.LbaOutOfRange);
export const invalidLogPage = fail(
  StatusCodeType.CommandSpecific,
  CommandSpecificStatus.InvalidLogPage,
);
export const compareFailure = fail(
  StatusCodeType.MediaAndDataIntegrity,
  MediaStatus.CompareFailure,
);

/**
 * One command on a host queue, from submission to its one outcome: what it sends, the C2HData
 * it has received (NVMe/TCP 1.0, 3.6.2.9: in order, inside its data), and the completion it ends
 * with. The queue (host-queue.ts) owns the wire; this file owns the command's bookkeeping.
 */
import { CQE_STATUS, cqeOk, encodeCqeStatus } from '../../nvme/cqe.js';
import { GenericStatus, StatusCodeType } from '../../nvme/status.js';

export interface HostSubmitIo {
  /** Host-to-controller data: in-capsule up to inCapsuleDataSize, else sent on R2T. */
  data?: Buffer | readonly Buffer[];
  /** Controller-to-host data length (the Transport SGL Data Block length). */
  readLength?: number;
}

export interface HostCompletion {
  /** The 16-byte CQE (from the CapsuleResp, or synthesized for a C2HData SUCCESS). */
  cqe: Buffer;
  /** The bytes the controller sent with C2HData, when there were any. */
  data?: Buffer;
}

/**
 * How a command submitted with HostQueue.send() ends: exactly one call, with the completion, or
 * with the error that kept it from completing (connection lost or closed, a bad request).
 */
export type HostCompletionCallback = (err: Error | null, completion?: HostCompletion) => void;

export interface HostCommand {
  cid: number;
  done: HostCompletionCallback;
  /** Data still to send on R2T (undefined when it went in the capsule). */
  write: Buffer | readonly Buffer[] | undefined;
  writeLength: number;
  readLength: number;
  /** C2HData bytes received so far (they arrive in order). */
  received: number;
  /** The one C2HData view when a single PDU carried all the data. */
  view: Buffer | undefined;
  /** Assembly buffer when the data came in several PDUs. */
  assembled: Buffer | undefined;
  /** A C2HData data digest did not match: the command fails with Transient Transport Error. */
  digestError: boolean;
}

export function newHostCommand(
  cid: number,
  done: HostCompletionCallback,
  write: Buffer | readonly Buffer[] | undefined,
  writeLength: number,
  readLength: number,
): HostCommand {
  return {
    cid,
    done,
    write,
    writeLength,
    readLength,
    received: 0,
    view: undefined,
    assembled: undefined,
    digestError: false,
  };
}

/**
 * Takes a checked C2HData's data (at `datao`, the next expected offset): a single PDU carrying
 * all of it is kept as the view it is (no copy); pieces are gathered into one buffer.
 */
export function addC2HData(cmd: HostCommand, datao: number, data: Buffer): void {
  if (datao === 0 && data.length === cmd.readLength) {
    cmd.view = data;
  } else {
    cmd.assembled ??= Buffer.allocUnsafe(cmd.readLength);
    data.copy(cmd.assembled, datao);
  }
  cmd.received += data.length;
}

const TRANSIENT_TRANSPORT_ERROR = encodeCqeStatus(
  StatusCodeType.Generic,
  GenericStatus.TransientTransportError,
);

/** The completion `cmd` ends with, given the CQE that ended it. */
export function completionOf(cmd: HostCommand, cqe: Buffer): HostCompletion {
  if (cmd.digestError && cqeOk(cqe)) {
    // A data digest error fails the command, not the connection: Transient Transport Error.
    cqe = Buffer.from(cqe);
    cqe.writeUInt16LE(TRANSIENT_TRANSPORT_ERROR, CQE_STATUS);
  }
  let data = cmd.view;
  if (!data && cmd.assembled) data = cmd.assembled.subarray(0, cmd.received);
  return data ? { cqe, data } : { cqe };
}

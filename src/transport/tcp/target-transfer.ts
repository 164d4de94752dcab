/**
 * One write on a controller queue whose data is being fetched with R2T/H2CData (NVMe/TCP 1.0,
 * 3.6.2.8 and 3.6.2.10): what has been asked for and received so far, and where the data
 * gathers. The queue (target-queue.ts) owns the wire; this file owns the transfer's bookkeeping.
 */

/** A write whose data is being fetched with R2T/H2CData. */
export interface TargetTransfer {
  ttag: number;
  sqe: Buffer;
  cid: number;
  length: number;
  /** Bytes received, in order. */
  received: number;
  /** Bytes asked for with R2Ts so far. */
  granted: number;
  /** End offsets of the outstanding R2Ts, oldest first. */
  r2tEnds: number[];
  view: Buffer | undefined;
  assembled: Buffer | undefined;
  digestError: boolean;
}

export function newTargetTransfer(
  ttag: number,
  sqe: Buffer,
  cid: number,
  length: number,
): TargetTransfer {
  return {
    ttag,
    // A copy: the SQE waits for H2CData in later reads, and the receive buffer gets reused.
    sqe: Buffer.from(sqe),
    cid,
    length,
    received: 0,
    granted: 0,
    r2tEnds: [],
    view: undefined,
    assembled: undefined,
    digestError: false,
  };
}

/**
 * Which failed I/O may be sent again after a reconnect (Linux nvme_max_retries and
 * fast_io_fail_tmo): only failures the host itself reported for a lost connection or a timed-out
 * command. A status the controller returned stands, and a set DNR (Do Not Retry) bit in the
 * status field forbids a retry.
 */
import { GenericStatus, NvmeStatusError, PathStatus, StatusCodeType } from '../nvme/status.js';

export function isHostSideFailure(err: unknown): err is NvmeStatusError {
  return (
    err instanceof NvmeStatusError &&
    !err.dnr &&
    (err.is(StatusCodeType.Generic, GenericStatus.TransientTransportError) ||
      err.is(StatusCodeType.PathRelated, PathStatus.CommandAbortedByHost))
  );
}

/**
 * The NBD shim's errors, one class per meaning (STYLE.md rule 6):
 * - `NbdError(errno)`: one request fails with an NBD error value; the connection lives on.
 * - `NbdProtocolError(code)`: the peer broke a MUST of the protocol; the connection is dropped
 *   (proto.md: "Either side MAY initiate a hard disconnect if it detects a violation").
 * The mapping of any failure to the wire is `toNbdErrno()` on the server (nbdkit server/protocol.c
 * `nbd_errno`) and `nbdErrnoToStatus()` on the client, each the only place that does it.
 */
import {
  NvmeStatusError,
  StatusCodeType,
  GenericStatus,
  CommandSpecificStatus,
  MediaStatus,
} from '../../nvme/status.js';
import { CommandFlag, NbdErrno } from './protocol.js';

const ERRNO_NAMES: Record<number, string> = {
  [NbdErrno.EPERM]: 'EPERM',
  [NbdErrno.EIO]: 'EIO',
  [NbdErrno.ENOMEM]: 'ENOMEM',
  [NbdErrno.EINVAL]: 'EINVAL',
  [NbdErrno.ENOSPC]: 'ENOSPC',
  [NbdErrno.EOVERFLOW]: 'EOVERFLOW',
  [NbdErrno.ENOTSUP]: 'ENOTSUP',
  [NbdErrno.ESHUTDOWN]: 'ESHUTDOWN',
};

/** "EINVAL (22)", or the number alone for a value the protocol does not define. */
export function nbdErrnoName(errno: number): string {
  const name = ERRNO_NAMES[errno];
  return name ? `${name} (${errno})` : `error ${errno}`;
}

/** A request that fails with `errno`; raised where detected, sent by the session. */
export class NbdError extends Error {
  readonly code: string;
  constructor(
    readonly errno: NbdErrno,
    message: string,
  ) {
    super(message);
    this.name = 'NbdError';
    this.code = `NBD_${ERRNO_NAMES[errno] ?? 'EINVAL'}`;
  }
}

/** Stable codes for protocol violations that end a connection. */
export type NbdProtocolErrorCode =
  | 'NBD_ERR_BAD_MAGIC'
  | 'NBD_ERR_BAD_CLIENT_FLAGS'
  | 'NBD_ERR_BAD_SERVER_FLAGS'
  | 'NBD_ERR_TOO_LARGE'
  | 'NBD_ERR_UNKNOWN_EXPORT'
  | 'NBD_ERR_UNEXPECTED_REPLY'
  | 'NBD_ERR_BAD_REPLY'
  | 'NBD_ERR_NEGOTIATION'
  | 'NBD_ERR_CONNECTION';

export class NbdProtocolError extends Error {
  constructor(
    readonly code: NbdProtocolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'NbdProtocolError';
  }
}

/** Node's system error codes (fs, sockets) and the NBD value each becomes. */
const SYSTEM_ERRNO: Record<string, NbdErrno> = {
  EPERM: NbdErrno.EPERM,
  EROFS: NbdErrno.EPERM,
  EACCES: NbdErrno.EPERM,
  EIO: NbdErrno.EIO,
  ENOMEM: NbdErrno.ENOMEM,
  ENOSPC: NbdErrno.ENOSPC,
  EDQUOT: NbdErrno.ENOSPC, // proto.md "Error values": map EDQUOT and EFBIG to ENOSPC
  EFBIG: NbdErrno.ENOSPC,
  EINVAL: NbdErrno.EINVAL,
  EOVERFLOW: NbdErrno.EOVERFLOW,
  ENOTSUP: NbdErrno.ENOTSUP,
  EOPNOTSUPP: NbdErrno.ENOTSUP,
  ESHUTDOWN: NbdErrno.ESHUTDOWN,
};

const statusKey = (sct: number, sc: number) => (sct << 8) | sc;

/** NVMe statuses a bdev raises and the NBD value each becomes; anything else is EIO. */
const NVME_ERRNO = new Map<number, NbdErrno>([
  [statusKey(StatusCodeType.Generic, GenericStatus.InvalidField), NbdErrno.EINVAL],
  [statusKey(StatusCodeType.Generic, GenericStatus.InvalidOpcode), NbdErrno.EINVAL],
  [statusKey(StatusCodeType.Generic, GenericStatus.LbaOutOfRange), NbdErrno.EINVAL],
  [statusKey(StatusCodeType.Generic, GenericStatus.CapacityExceeded), NbdErrno.ENOSPC],
  [statusKey(StatusCodeType.Generic, GenericStatus.NamespaceWriteProtected), NbdErrno.EPERM],
  [statusKey(StatusCodeType.Generic, GenericStatus.OperationDenied), NbdErrno.EPERM],
  [
    statusKey(StatusCodeType.CommandSpecific, CommandSpecificStatus.AttemptedWriteToReadOnlyRange),
    NbdErrno.EPERM,
  ],
  [statusKey(StatusCodeType.MediaAndDataIntegrity, MediaStatus.AccessDenied), NbdErrno.EPERM],
]);

/**
 * The NBD error value for a failed request. `flags` are the request's command flags: as in nbdkit,
 * ENOTSUP is only sent for a FAST_ZERO request and EOVERFLOW only for a DF read, because proto.md
 * says a server SHOULD NOT return them otherwise; they become EINVAL there.
 */
export function toNbdErrno(err: unknown, flags = 0): NbdErrno {
  let errno: NbdErrno;
  if (err instanceof NbdError) errno = err.errno;
  else if (err instanceof NvmeStatusError)
    errno = NVME_ERRNO.get(statusKey(err.sct, err.sc)) ?? NbdErrno.EIO;
  else if (err instanceof RangeError) errno = NbdErrno.EINVAL;
  else {
    const code = (err as { code?: unknown } | null)?.code;
    errno = (typeof code === 'string' && SYSTEM_ERRNO[code]) || NbdErrno.EIO;
  }
  if (errno === NbdErrno.ENOTSUP && !(flags & CommandFlag.FastZero)) return NbdErrno.EINVAL;
  if (errno === NbdErrno.EOVERFLOW && !(flags & CommandFlag.Df)) return NbdErrno.EINVAL;
  return errno;
}

/**
 * The NVMe status a client-side request completes with for an NBD error value, chosen so that
 * layers above can tell "this request is wrong" (DNR=1) from "try again" (DNR=0). proto.md: "The
 * client SHOULD treat an unexpected error value as if it had been NBD_EINVAL".
 */
export function nbdErrnoToStatus(errno: number, what: string, write: boolean): NvmeStatusError {
  const msg = `${what} failed: NBD ${nbdErrnoName(errno)}`;
  switch (errno) {
    case NbdErrno.EPERM:
      return new NvmeStatusError(
        StatusCodeType.Generic,
        GenericStatus.NamespaceWriteProtected,
        msg,
      );
    case NbdErrno.EIO:
      return new NvmeStatusError(
        StatusCodeType.MediaAndDataIntegrity,
        write ? MediaStatus.WriteFault : MediaStatus.UnrecoveredReadError,
        msg,
      );
    case NbdErrno.ENOMEM:
      return new NvmeStatusError(StatusCodeType.Generic, GenericStatus.InternalError, msg, false);
    case NbdErrno.ENOSPC:
      return new NvmeStatusError(StatusCodeType.Generic, GenericStatus.CapacityExceeded, msg);
    case NbdErrno.ESHUTDOWN:
      return new NvmeStatusError(
        StatusCodeType.Generic,
        GenericStatus.NamespaceNotReady,
        msg,
        false,
      );
    default:
      return new NvmeStatusError(StatusCodeType.Generic, GenericStatus.InvalidField, msg);
  }
}

/** In-flight request whose connection was lost: transient, retryable (as the initiator does). */
export const nbdConnectionLostError = (what: string, cause: string): NvmeStatusError =>
  new NvmeStatusError(
    StatusCodeType.Generic,
    GenericStatus.TransientTransportError,
    `${what} failed: NBD connection lost (${cause})`,
    false,
  );

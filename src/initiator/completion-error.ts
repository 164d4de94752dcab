/**
 * Turning what goes wrong on the host side into NvmeStatusError values with a message a person can
 * act on: an error CQE from the controller, a lost connection, a timeout, a controller that is
 * reconnecting or gone. The status codes are the ones Linux's host (drivers/nvme/host) completes
 * requests with in the same situations, so that layers above can tell "retry elsewhere" (path,
 * DNR=0) from "this request is wrong" (DNR=1).
 */
import { decodeCqe } from '../nvme/cqe.js';
import {
  NvmeStatusError,
  StatusCodeType,
  GenericStatus,
  PathStatus,
  CommandSpecificStatus,
  FabricsStatus,
  MediaStatus,
} from '../nvme/status.js';

const key = (sct: number, sc: number) => (sct << 8) | sc;

/** Names from NVMe Base 2.0 Figures 102-105, NVM Command Set 1.0 Figures 15-17, NVMe-oF 1.1 Figure 39. */
const STATUS_NAMES = new Map<number, string>([
  [key(StatusCodeType.Generic, GenericStatus.InvalidOpcode), 'Invalid Command Opcode'],
  [key(StatusCodeType.Generic, GenericStatus.InvalidField), 'Invalid Field in Command'],
  [key(StatusCodeType.Generic, GenericStatus.CommandIdConflict), 'Command ID Conflict'],
  [key(StatusCodeType.Generic, GenericStatus.DataTransferError), 'Data Transfer Error'],
  [key(StatusCodeType.Generic, GenericStatus.InternalError), 'Internal Error'],
  [key(StatusCodeType.Generic, GenericStatus.AbortRequested), 'Command Abort Requested'],
  [
    key(StatusCodeType.Generic, GenericStatus.AbortedSqDeletion),
    'Command Aborted due to SQ Deletion',
  ],
  [
    key(StatusCodeType.Generic, GenericStatus.InvalidNamespaceOrFormat),
    'Invalid Namespace or Format',
  ],
  [key(StatusCodeType.Generic, GenericStatus.CommandSequenceError), 'Command Sequence Error'],
  [key(StatusCodeType.Generic, GenericStatus.DataSglLengthInvalid), 'Data SGL Length Invalid'],
  [
    key(StatusCodeType.Generic, GenericStatus.SglDescriptorTypeInvalid),
    'SGL Descriptor Type Invalid',
  ],
  [key(StatusCodeType.Generic, GenericStatus.SglOffsetInvalid), 'SGL Offset Invalid'],
  [key(StatusCodeType.Generic, GenericStatus.KeepAliveTimerExpired), 'Keep Alive Timer Expired'],
  [
    key(StatusCodeType.Generic, GenericStatus.KeepAliveTimeoutInvalid),
    'Keep Alive Timeout Invalid',
  ],
  [
    key(StatusCodeType.Generic, GenericStatus.NamespaceWriteProtected),
    'Namespace is Write Protected',
  ],
  [key(StatusCodeType.Generic, GenericStatus.CommandInterrupted), 'Command Interrupted'],
  [key(StatusCodeType.Generic, GenericStatus.TransientTransportError), 'Transient Transport Error'],
  [key(StatusCodeType.Generic, GenericStatus.LbaOutOfRange), 'LBA Out of Range'],
  [key(StatusCodeType.Generic, GenericStatus.CapacityExceeded), 'Capacity Exceeded'],
  [key(StatusCodeType.Generic, GenericStatus.NamespaceNotReady), 'Namespace Not Ready'],
  [key(StatusCodeType.Generic, GenericStatus.ReservationConflict), 'Reservation Conflict'],
  [
    key(StatusCodeType.CommandSpecific, CommandSpecificStatus.InvalidQueueIdentifier),
    'Invalid Queue Identifier',
  ],
  [
    key(StatusCodeType.CommandSpecific, CommandSpecificStatus.InvalidQueueSize),
    'Invalid Queue Size',
  ],
  [key(StatusCodeType.CommandSpecific, CommandSpecificStatus.InvalidLogPage), 'Invalid Log Page'],
  [
    key(StatusCodeType.CommandSpecific, CommandSpecificStatus.FeatureNotChangeable),
    'Feature Not Changeable',
  ],
  [
    key(StatusCodeType.CommandSpecific, FabricsStatus.ConnectIncompatibleFormat),
    'Connect Incompatible Format',
  ],
  [
    key(StatusCodeType.CommandSpecific, FabricsStatus.ConnectControllerBusy),
    'Connect Controller Busy',
  ],
  [
    key(StatusCodeType.CommandSpecific, FabricsStatus.ConnectInvalidParameters),
    'Connect Invalid Parameters',
  ],
  [
    key(StatusCodeType.CommandSpecific, FabricsStatus.ConnectRestartDiscovery),
    'Connect Restart Discovery',
  ],
  [
    key(StatusCodeType.CommandSpecific, FabricsStatus.ConnectInvalidHost),
    'Connect Invalid Host (host not allowed)',
  ],
  [key(StatusCodeType.CommandSpecific, FabricsStatus.InvalidQueueType), 'Invalid Queue Type'],
  [key(StatusCodeType.CommandSpecific, FabricsStatus.DiscoverRestart), 'Discover Restart'],
  [
    key(StatusCodeType.CommandSpecific, FabricsStatus.AuthenticationRequired),
    'Authentication Required',
  ],
  [
    key(StatusCodeType.CommandSpecific, CommandSpecificStatus.AttemptedWriteToReadOnlyRange),
    'Attempted Write to Read Only Range',
  ],
  [key(StatusCodeType.MediaAndDataIntegrity, MediaStatus.WriteFault), 'Write Fault'],
  [
    key(StatusCodeType.MediaAndDataIntegrity, MediaStatus.UnrecoveredReadError),
    'Unrecovered Read Error',
  ],
  [key(StatusCodeType.MediaAndDataIntegrity, MediaStatus.CompareFailure), 'Compare Failure'],
  [key(StatusCodeType.MediaAndDataIntegrity, MediaStatus.AccessDenied), 'Access Denied'],
  [key(StatusCodeType.PathRelated, PathStatus.InternalPathError), 'Internal Path Error'],
  [
    key(StatusCodeType.PathRelated, PathStatus.AsymmetricAccessPersistentLoss),
    'Asymmetric Access Persistent Loss',
  ],
  [
    key(StatusCodeType.PathRelated, PathStatus.AsymmetricAccessInaccessible),
    'Asymmetric Access Inaccessible',
  ],
  [
    key(StatusCodeType.PathRelated, PathStatus.AsymmetricAccessTransition),
    'Asymmetric Access Transition',
  ],
  [key(StatusCodeType.PathRelated, PathStatus.ControllerPathingError), 'Controller Pathing Error'],
  [key(StatusCodeType.PathRelated, PathStatus.HostPathingError), 'Host Pathing Error'],
  [key(StatusCodeType.PathRelated, PathStatus.CommandAbortedByHost), 'Command Aborted By Host'],
]);

const SCT_NAMES = ['generic', 'command specific', 'media and data integrity', 'path related'];

/** "Invalid Field in Command (sct 0x0, sc 0x02)" — the spec's name when known, always the codes. */
/**
 * What a command is, for messages: a string, or an object that builds it only when a message
 * needs it (the data path's commands, whose description would otherwise be formatted for
 * every I/O and almost never read).
 */
export type What = string | { toString(): string };

export function describeStatus(sct: number, sc: number): string {
  const name = STATUS_NAMES.get(key(sct, sc));
  const codes = `sct 0x${sct.toString(16)}, sc 0x${sc.toString(16).padStart(2, '0')}`;
  return name ? `${name} (${codes})` : `${SCT_NAMES[sct] ?? 'vendor specific'} status (${codes})`;
}

/**
 * The error for a CQE with a non-zero status: `what` names the command and where it went, e.g.
 * "Read nsid 1 lba 8+16 on nqn.…". Keeps SCT, SC and DNR so callers can decide on retries.
 */
export function completionError(cqe: Buffer, what: What): NvmeStatusError {
  const { sct, sc, dnr } = decodeCqe(cqe);
  return new NvmeStatusError(sct, sc, `${what} failed: ${describeStatus(sct, sc)}`, dnr);
}

/** In-flight command whose connection was lost: transient, retryable elsewhere or later. */
export const connectionLostError = (what: What, cause: string): NvmeStatusError =>
  new NvmeStatusError(
    StatusCodeType.Generic,
    GenericStatus.TransientTransportError,
    `${what} failed: connection lost (${cause})`,
    false,
  );

/** Command the host gave up on after its timeout (Linux completes these as Host Aborted). */
export const commandTimeoutError = (what: What, ms: number): NvmeStatusError =>
  new NvmeStatusError(
    StatusCodeType.PathRelated,
    PathStatus.CommandAbortedByHost,
    `${what} timed out after ${ms} ms; the controller is being reset`,
    false,
  );

/** New command while the controller is not live (Linux nvmf_fail_nonready_command). */
export const notLiveError = (what: string, state: string, retryable: boolean): NvmeStatusError =>
  new NvmeStatusError(
    StatusCodeType.PathRelated,
    PathStatus.HostPathingError,
    `${what} failed: the controller is ${state}`,
    !retryable,
  );

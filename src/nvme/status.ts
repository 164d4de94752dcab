/**
 * NVMe completion status: Status Code Type (SCT) and Status Code (SC).
 * NVMe Base Specification 2.0, 4.6.1 (Status Field Definition) and the
 * NVMe over Fabrics Specification 1.1, 3.3.1.2 / 7.4 (Fabrics command status).
 */

/** Status Code Type, CQE DW3 bits 27:25. */
export const enum StatusCodeType {
  Generic = 0x0,
  CommandSpecific = 0x1,
  MediaAndDataIntegrity = 0x2,
  PathRelated = 0x3,
  VendorSpecific = 0x7,
}

/** SCT 0: Generic Command Status (Base 2.0, Figure 102), and NVM command set generic codes (0x80..). */
export const enum GenericStatus {
  Success = 0x00,
  InvalidOpcode = 0x01,
  InvalidField = 0x02,
  CommandIdConflict = 0x03,
  DataTransferError = 0x04,
  AbortedPowerLoss = 0x05,
  InternalError = 0x06,
  AbortRequested = 0x07,
  AbortedSqDeletion = 0x08,
  AbortedFailedFused = 0x09,
  AbortedMissingFused = 0x0a,
  InvalidNamespaceOrFormat = 0x0b,
  CommandSequenceError = 0x0c,
  InvalidSglSegmentDescriptor = 0x0d,
  InvalidNumberOfSglDescriptors = 0x0e,
  DataSglLengthInvalid = 0x0f,
  MetadataSglLengthInvalid = 0x10,
  SglDescriptorTypeInvalid = 0x11,
  InvalidUseOfCmb = 0x12,
  PrpOffsetInvalid = 0x13,
  AtomicWriteUnitExceeded = 0x14,
  OperationDenied = 0x15,
  SglOffsetInvalid = 0x16,
  HostIdentifierInconsistentFormat = 0x18,
  KeepAliveTimerExpired = 0x19,
  KeepAliveTimeoutInvalid = 0x1a,
  AbortedPreemptAndAbort = 0x1b,
  SanitizeFailed = 0x1c,
  SanitizeInProgress = 0x1d,
  SglDataBlockGranularityInvalid = 0x1e,
  NamespaceWriteProtected = 0x20,
  CommandInterrupted = 0x21,
  TransientTransportError = 0x22,
  // NVM Command Set specific generic codes (NVM Command Set 1.0, Figure 15)
  LbaOutOfRange = 0x80,
  CapacityExceeded = 0x81,
  NamespaceNotReady = 0x82,
  ReservationConflict = 0x83,
  FormatInProgress = 0x84,
}

/** SCT 1: Command Specific Status (Base 2.0, Figure 103; NVM CS Figure 16; Fabrics 1.1 Figure 39). */
export const enum CommandSpecificStatus {
  CompletionQueueInvalid = 0x00,
  InvalidQueueIdentifier = 0x01,
  InvalidQueueSize = 0x02,
  AbortCommandLimitExceeded = 0x03,
  AsyncEventRequestLimitExceeded = 0x05,
  InvalidFirmwareSlot = 0x06,
  InvalidFirmwareImage = 0x07,
  InvalidInterruptVector = 0x08,
  InvalidLogPage = 0x09,
  InvalidFormat = 0x0a,
  InvalidQueueDeletion = 0x0c,
  FeatureIdentifierNotSaveable = 0x0d,
  FeatureNotChangeable = 0x0e,
  FeatureNotNamespaceSpecific = 0x0f,
  NamespaceIdentifierUnavailable = 0x16,
  // NVM command set: I/O command specific
  ConflictingAttributes = 0x80,
  InvalidProtectionInformation = 0x81,
  AttemptedWriteToReadOnlyRange = 0x82,
}

/** SCT 1 for Fabrics commands (NVMe-oF 1.1, Figure 39): same code space, Fabrics commands only. */
export const enum FabricsStatus {
  ConnectIncompatibleFormat = 0x80,
  ConnectControllerBusy = 0x81,
  ConnectInvalidParameters = 0x82,
  ConnectRestartDiscovery = 0x83,
  ConnectInvalidHost = 0x84,
  InvalidQueueType = 0x85,
  DiscoverRestart = 0x90,
  AuthenticationRequired = 0x91,
}

/** SCT 2: Media and Data Integrity Errors (Base 2.0, Figure 104; NVM CS Figure 17). */
export const enum MediaStatus {
  WriteFault = 0x80,
  UnrecoveredReadError = 0x81,
  EndToEndGuardCheckError = 0x82,
  EndToEndApplicationTagCheckError = 0x83,
  EndToEndReferenceTagCheckError = 0x84,
  CompareFailure = 0x85,
  AccessDenied = 0x86,
  DeallocatedOrUnwrittenLogicalBlock = 0x87,
}

/** SCT 3: Path Related Status (Base 2.0, Figure 105). */
export const enum PathStatus {
  InternalPathError = 0x00,
  AsymmetricAccessPersistentLoss = 0x01,
  AsymmetricAccessInaccessible = 0x02,
  AsymmetricAccessTransition = 0x03,
  ControllerPathingError = 0x60,
  HostPathingError = 0x70,
  CommandAbortedByHost = 0x71,
}

const SCT_NAMES = ['generic', 'command-specific', 'media', 'path'];

/**
 * An NVMe completion with a non-zero status. Raised where the condition is detected
 * (a bdev, a command handler) and turned into a CQE by the layer that owns the wire.
 */
export class NvmeStatusError extends Error {
  readonly code = 'NVME_STATUS';
  constructor(
    readonly sct: number,
    readonly sc: number,
    message?: string,
    /** Do Not Retry (CQE DW3 bit 31). */
    readonly dnr = true,
  ) {
    super(
      message ??
        `NVMe status ${SCT_NAMES[sct] ?? `sct ${sct}`} 0x${sc.toString(16).padStart(2, '0')}`,
    );
    this.name = 'NvmeStatusError';
  }

  /** True when this error is (sct, sc). */
  is(sct: number, sc: number): boolean {
    return this.sct === sct && this.sc === sc;
  }
}

/** Shorthand constructors for the statuses the data path raises most. */
export const lbaOutOfRange = (message?: string): NvmeStatusError =>
  new NvmeStatusError(
    StatusCodeType.Generic,
    GenericStatus.LbaOutOfRange,
    message ?? 'LBA out of range',
  );
export const invalidField = (message?: string): NvmeStatusError =>
  new NvmeStatusError(
    StatusCodeType.Generic,
    GenericStatus.InvalidField,
    message ?? 'invalid field in command',
  );
export const internalError = (message?: string): NvmeStatusError =>
  new NvmeStatusError(
    StatusCodeType.Generic,
    GenericStatus.InternalError,
    message ?? 'internal error',
    false,
  );

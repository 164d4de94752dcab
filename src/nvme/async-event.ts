/**
 * Asynchronous Event Request completion (NVMe Base 2.0, 5.2.1, Figure 147): DW0 bits 2:0 event
 * type, bits 15:8 event information, bits 23:16 the log page to read (which also clears the event).
 */
import { LogPageId } from './log-pages.js';

export const AER_TYPE_MASK = 0x7; // bits 2:0
export const AER_INFO_SHIFT = 8; // bits 15:8
export const AER_LID_SHIFT = 16; // bits 23:16

export const enum AsyncEventType {
  Error = 0x0,
  SmartHealth = 0x1,
  Notice = 0x2,
  ImmediateOp = 0x3,
  IoCommandSpecific = 0x6,
  VendorSpecific = 0x7,
}

/** Event information for type Error (Figure 148). */
export const enum AsyncEventErrorInfo {
  InvalidSubmissionQueue = 0x00,
  InvalidDoorbellWrite = 0x01,
  DiagnosticFailure = 0x02,
  PersistentInternalError = 0x03,
  TransientInternalError = 0x04,
  FirmwareImageLoadError = 0x05,
}

/** Event information for type SMART / Health Status (Figure 149). */
export const enum AsyncEventSmartInfo {
  Reliability = 0x00,
  TemperatureThreshold = 0x01,
  SpareBelowThreshold = 0x02,
}

/** Event information for type Notice (Figure 150; 0xF0 from NVMe-oF 1.1 / TP 8007). */
export const enum AsyncEventNoticeInfo {
  NamespaceAttributeChanged = 0x00,
  FirmwareActivationStarting = 0x01,
  TelemetryLogChanged = 0x02,
  AnaChange = 0x03,
  PredictableLatencyAggregateChange = 0x04,
  LbaStatusAlert = 0x05,
  EnduranceGroupAggregateChange = 0x06,
  NormalSubsystemShutdown = 0x07,
  DiscoveryLogPageChange = 0xf0,
}

export interface AsyncEvent {
  type: number;
  info: number;
  /** Log Page Identifier the host reads to learn more (and to clear the event). */
  lid: number;
}

export const encodeAsyncEventDw0 = (e: AsyncEvent): number =>
  ((e.type & AER_TYPE_MASK) |
    ((e.info & 0xff) << AER_INFO_SHIFT) |
    ((e.lid & 0xff) << AER_LID_SHIFT)) >>>
  0;

export const decodeAsyncEventDw0 = (dw0: number): AsyncEvent => ({
  type: dw0 & AER_TYPE_MASK,
  info: (dw0 >>> AER_INFO_SHIFT) & 0xff,
  lid: (dw0 >>> AER_LID_SHIFT) & 0xff,
});

/** Namespace Attribute Changed: read the Changed Namespace List log (04h). */
export const NAMESPACE_CHANGED_EVENT: Readonly<AsyncEvent> = {
  type: AsyncEventType.Notice,
  info: AsyncEventNoticeInfo.NamespaceAttributeChanged,
  lid: LogPageId.ChangedNamespaceList,
};

/** Discovery Log Page Change: read the Discovery log (70h) again. */
export const DISCOVERY_LOG_CHANGED_EVENT: Readonly<AsyncEvent> = {
  type: AsyncEventType.Notice,
  info: AsyncEventNoticeInfo.DiscoveryLogPageChange,
  lid: LogPageId.Discovery,
};

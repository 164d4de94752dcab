import { describe, expect, it } from 'vitest';
import {
  AdminOpcode,
  IoOpcode,
  FabricsType,
  DataTransfer,
  dataTransferOf,
  isFabricsCommand,
  commandName,
  encodeAbortCdw10,
  decodeAbortCdw10,
  NSID_ALL,
} from '../../../src/nvme/opcodes.js';
import {
  StatusCodeType,
  GenericStatus,
  CommandSpecificStatus,
  FabricsStatus,
  MediaStatus,
  PathStatus,
  NvmeStatusError,
  lbaOutOfRange,
  invalidField,
  internalError,
} from '../../../src/nvme/status.js';
import {
  AsyncEventType,
  AsyncEventNoticeInfo,
  encodeAsyncEventDw0,
  decodeAsyncEventDw0,
  NAMESPACE_CHANGED_EVENT,
  DISCOVERY_LOG_CHANGED_EVENT,
} from '../../../src/nvme/async-event.js';
import { buildStruct } from './support/spec-struct.js';

describe('opcodes', () => {
  it('has the admin, NVM and Fabrics values of the spec figures', () => {
    expect([AdminOpcode.GetLogPage, AdminOpcode.Identify, AdminOpcode.Abort]).toEqual([2, 6, 8]);
    expect([AdminOpcode.SetFeatures, AdminOpcode.GetFeatures]).toEqual([9, 0x0a]);
    expect([AdminOpcode.AsyncEventRequest, AdminOpcode.KeepAlive]).toEqual([0x0c, 0x18]);
    expect([IoOpcode.Flush, IoOpcode.Write, IoOpcode.Read, IoOpcode.Compare]).toEqual([0, 1, 2, 5]);
    expect([IoOpcode.WriteZeroes, IoOpcode.DatasetManagement]).toEqual([8, 9]);
    expect([FabricsType.PropertySet, FabricsType.Connect, FabricsType.PropertyGet]).toEqual([
      0, 1, 4,
    ]);
    expect(FabricsType.Disconnect).toBe(8);
    expect(NSID_ALL).toBe(0xffffffff);
  });

  it('takes the data direction from opcode bits 1:0, FCTYPE for Fabrics', () => {
    const sqe = (opcode: number, fctype = 0) =>
      buildStruct(64, [
        [0, 'u8', opcode],
        [4, 'u8', fctype],
      ]);
    expect(dataTransferOf(sqe(IoOpcode.Write))).toBe(DataTransfer.HostToController);
    expect(dataTransferOf(sqe(IoOpcode.Read))).toBe(DataTransfer.ControllerToHost);
    expect(dataTransferOf(sqe(IoOpcode.Flush))).toBe(DataTransfer.None);
    expect(dataTransferOf(sqe(IoOpcode.Compare))).toBe(DataTransfer.HostToController);
    expect(dataTransferOf(sqe(IoOpcode.DatasetManagement))).toBe(DataTransfer.HostToController);
    expect(dataTransferOf(sqe(AdminOpcode.Identify))).toBe(DataTransfer.ControllerToHost);
    expect(dataTransferOf(sqe(0x7f, FabricsType.Connect))).toBe(DataTransfer.HostToController);
    expect(dataTransferOf(sqe(0x7f, FabricsType.PropertyGet))).toBe(DataTransfer.None);
    expect(isFabricsCommand(sqe(0x7f))).toBe(true);
  });

  it('names commands for logs', () => {
    expect(commandName(6, true)).toBe('Identify');
    expect(commandName(2, false)).toBe('Read');
    expect(commandName(0x7f, true, 1)).toBe('Fabrics Connect');
    expect(commandName(0x7e, false)).toBe('I/O opcode 0x7e');
  });

  it('Abort CDW10: SQID 15:0, CID 31:16', () => {
    expect(encodeAbortCdw10(1, 0xabcd)).toBe(0xabcd0001);
    expect(decodeAbortCdw10(0x00070002)).toEqual({ sqid: 2, cid: 7 });
  });
});

describe('status codes', () => {
  it('has the SCT and SC values of Base 2.0 Figures 100-105 and NVMe-oF Figure 39', () => {
    expect([
      StatusCodeType.Generic,
      StatusCodeType.CommandSpecific,
      StatusCodeType.MediaAndDataIntegrity,
      StatusCodeType.PathRelated,
    ]).toEqual([0, 1, 2, 3]);
    expect([GenericStatus.InvalidOpcode, GenericStatus.InvalidField]).toEqual([1, 2]);
    expect(GenericStatus.InvalidNamespaceOrFormat).toBe(0x0b);
    expect(GenericStatus.DataSglLengthInvalid).toBe(0x0f);
    expect(GenericStatus.KeepAliveTimerExpired).toBe(0x19);
    expect(GenericStatus.TransientTransportError).toBe(0x22);
    expect([GenericStatus.LbaOutOfRange, GenericStatus.CapacityExceeded]).toEqual([0x80, 0x81]);
    expect(CommandSpecificStatus.InvalidLogPage).toBe(0x09);
    expect([FabricsStatus.ConnectInvalidParameters, FabricsStatus.ConnectInvalidHost]).toEqual([
      0x82, 0x84,
    ]);
    expect(MediaStatus.CompareFailure).toBe(0x85);
    expect(PathStatus.CommandAbortedByHost).toBe(0x71);
  });

  it('NvmeStatusError keeps SCT, SC, DNR and a stable code', () => {
    const e = new NvmeStatusError(1, 0x84);
    expect([e.sct, e.sc, e.dnr, e.code]).toEqual([1, 0x84, true, 'NVME_STATUS']);
    expect(e.is(1, 0x84)).toBe(true);
    expect(e.message).toBe('NVMe status command-specific 0x84');
    expect([lbaOutOfRange().sc, invalidField().sc, internalError().dnr]).toEqual([0x80, 2, false]);
  });
});

// NVMe Base 2.0 5.2.1, Figure 147: AER completion DW0.
describe('Asynchronous Event Request completion', () => {
  it('is type 2:0, info 15:8, log page 23:16', () => {
    expect(encodeAsyncEventDw0(NAMESPACE_CHANGED_EVENT)).toBe(0x00040002);
    expect(encodeAsyncEventDw0(DISCOVERY_LOG_CHANGED_EVENT)).toBe(0x0070f002);
    expect(decodeAsyncEventDw0(0x00020101)).toEqual({
      type: AsyncEventType.SmartHealth,
      info: 1,
      lid: 2,
    });
    expect(AsyncEventNoticeInfo.DiscoveryLogPageChange).toBe(0xf0);
  });
});

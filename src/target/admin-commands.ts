/**
 * Admin command set of a Fabrics controller (NVMe Base 2.0, 5; NVMe-oF 1.1, 4.2 lists what a
 * Fabrics I/O controller and a discovery controller must support). Each handler either returns
 * its response or throws an NvmeStatusError; the queue maps errors to the wire once.
 */
import { SQE_DPTR, SQE_OPCODE } from '../nvme/sqe.js';
import { decodeSgl } from '../nvme/sgl.js';
import { AdminOpcode, ABORT_DW0_NOT_ABORTED } from '../nvme/opcodes.js';
import { decodeIdentifyCommand, Cns, IDENTIFY_DATA_SIZE } from '../nvme/identify.js';
import {
  decodeFeaturesCommand,
  decodeNumberOfQueues,
  encodeNumberOfQueues,
  FeatureId,
  FeatureSelect,
  FEATURE_CAP_CHANGEABLE,
  NUMBER_OF_QUEUES_MAX,
  AEC_NS_ATTRIBUTE,
  AEC_DISCOVERY_LOG_CHANGE,
} from '../nvme/features.js';
import { decodeGetLogPage, logPageLength } from '../nvme/log-pages.js';
import { NvmeStatusError, StatusCodeType, CommandSpecificStatus } from '../nvme/status.js';
import type { Controller } from './controller.js';
import { MAX_NSID } from './namespace.js';
import { MAX_IO_QUEUES, MAX_DATA_TRANSFER } from './controller-limits.js';
import {
  identifyControllerData,
  identifyNamespaceData,
  activeNsListData,
  nsDescriptorData,
} from './identify-data.js';
import { readLogPage, type DiscoverySource } from './log-page-data.js';
import {
  type CommandResponse,
  success,
  invalidOpcode,
  invalidField,
  invalidNamespace,
  commandSequenceError,
  dataSglLengthInvalid,
} from './to-nvme-status.js';

/** NSIDs FFFFFFFEh and FFFFFFFFh cannot start an Active Namespace ID list (Base 2.0, 5.17.2.2). */
const ACTIVE_LIST_NSID_LIMIT = 0xfffffffe;

/** The host's buffer (SGL1 length) must be exactly the transfer the command implies (as nvmet). */
export function expectTransfer(sqe: Buffer, bytes: number, what: string): void {
  const length = decodeSgl(sqe, SQE_DPTR).length;
  if (length !== bytes) {
    throw dataSglLengthInvalid(`${what} transfers ${bytes} bytes; SGL1 describes ${length}`);
  }
}

export async function handleAdminCommand(
  ctrl: Controller,
  source: DiscoverySource,
  sqe: Buffer,
): Promise<CommandResponse> {
  const opcode = sqe[SQE_OPCODE];
  switch (opcode) {
    case AdminOpcode.Identify:
      return identify(ctrl, sqe);
    case AdminOpcode.GetLogPage:
      return getLogPage(ctrl, source, sqe);
    case AdminOpcode.SetFeatures:
      return setFeatures(ctrl, sqe);
    case AdminOpcode.GetFeatures:
      return getFeatures(ctrl, sqe);
    case AdminOpcode.AsyncEventRequest:
      return ctrl.asyncEventRequest();
    case AdminOpcode.KeepAlive:
      // The queue restarted the timer when the command arrived.
      return success();
    case AdminOpcode.Abort:
      // Commands run to completion here; the host learns that through DW0 bit 0 = 1 ("not
      // aborted"), as Linux nvmet answers every Abort (Base 2.0, 5.1).
      return success(ABORT_DW0_NOT_ABORTED);
    default:
      throw invalidOpcode(`admin opcode 0x${opcode.toString(16)} is not supported`);
  }
}

function identify(ctrl: Controller, sqe: Buffer): CommandResponse {
  const cmd = decodeIdentifyCommand(sqe);
  expectTransfer(sqe, IDENTIFY_DATA_SIZE, 'Identify');
  const sub = ctrl.subsystem;
  if (ctrl.isDiscovery && cmd.cns !== Cns.Controller) {
    throw invalidField(`a discovery controller answers Identify CNS 01h only, not ${cmd.cns}`);
  }
  switch (cmd.cns) {
    case Cns.Controller:
      return success(undefined, identifyControllerData(ctrl));
    case Cns.Namespace:
      if (cmd.nsid === 0 || cmd.nsid > MAX_NSID) {
        throw invalidNamespace(`Identify Namespace ${cmd.nsid}: not a valid NSID`);
      }
      return success(undefined, identifyNamespaceData(sub.namespace(cmd.nsid)));
    case Cns.ActiveNamespaceList:
      if (cmd.nsid >= ACTIVE_LIST_NSID_LIMIT) {
        throw invalidNamespace(`Identify Active Namespace List after ${cmd.nsid}`);
      }
      return success(undefined, activeNsListData(sub.namespaces, cmd.nsid));
    case Cns.NamespaceIdDescriptors: {
      const ns = sub.namespace(cmd.nsid);
      if (!ns) throw invalidNamespace(`Identify NS descriptors of inactive NSID ${cmd.nsid}`);
      return success(undefined, nsDescriptorData(ns));
    }
    default:
      throw invalidField(`Identify CNS 0x${cmd.cns.toString(16)} is not supported`);
  }
}

async function getLogPage(
  ctrl: Controller,
  source: DiscoverySource,
  sqe: Buffer,
): Promise<CommandResponse> {
  const cmd = decodeGetLogPage(sqe);
  const length = logPageLength(cmd);
  if (length > MAX_DATA_TRANSFER) {
    throw dataSglLengthInvalid(
      `Get Log Page of ${length} bytes exceeds MDTS (${MAX_DATA_TRANSFER})`,
    );
  }
  expectTransfer(sqe, length, 'Get Log Page');
  if (cmd.offset % 4 !== 0)
    throw invalidField(`log page offset ${cmd.offset} is not dword aligned`);
  const data = await readLogPage(ctrl, source, {
    lid: cmd.lid,
    nsid: cmd.nsid,
    offset: cmd.offset,
    length,
    rae: cmd.rae,
  });
  return success(undefined, data);
}

/** AEC bits a controller of this kind can report. */
const supportedAec = (ctrl: Controller): number =>
  ctrl.isDiscovery ? AEC_DISCOVERY_LOG_CHANGE : AEC_NS_ATTRIBUTE;

function setFeatures(ctrl: Controller, sqe: Buffer): CommandResponse {
  const cmd = decodeFeaturesCommand(sqe);
  if (cmd.save) {
    throw new NvmeStatusError(
      StatusCodeType.CommandSpecific,
      CommandSpecificStatus.FeatureIdentifierNotSaveable,
      `feature 0x${cmd.fid.toString(16)} cannot be saved`,
    );
  }
  switch (cmd.fid) {
    case FeatureId.NumberOfQueues: {
      if (ctrl.isDiscovery) throw invalidField('a discovery controller has no I/O queues');
      const asked = decodeNumberOfQueues(cmd.cdw11);
      if (asked.nsqr === NUMBER_OF_QUEUES_MAX || asked.ncqr === NUMBER_OF_QUEUES_MAX) {
        throw invalidField('Number of Queues: FFFFh is not a valid count');
      }
      // Base 2.0, 5.27.1.5: the value may not change once I/O queues exist.
      if (ctrl.ioQueues.size > 0) {
        throw commandSequenceError('Number of Queues set after I/O queues were connected');
      }
      const granted = Math.min(MAX_IO_QUEUES, asked.sqCount, asked.cqCount);
      ctrl.grantedIoQueues = granted;
      return success(encodeNumberOfQueues({ sqCount: granted, cqCount: granted }));
    }
    case FeatureId.KeepAliveTimer:
      ctrl.setKato(cmd.cdw11);
      return success();
    case FeatureId.AsyncEventConfig:
      ctrl.asyncEventConfig = (cmd.cdw11 & supportedAec(ctrl)) >>> 0;
      return success();
    default:
      throw invalidField(`Set Features 0x${cmd.fid.toString(16)} is not supported`);
  }
}

function getFeatures(ctrl: Controller, sqe: Buffer): CommandResponse {
  const cmd = decodeFeaturesCommand(sqe);
  const known =
    cmd.fid === FeatureId.KeepAliveTimer ||
    cmd.fid === FeatureId.AsyncEventConfig ||
    (cmd.fid === FeatureId.NumberOfQueues && !ctrl.isDiscovery);
  if (!known) throw invalidField(`Get Features 0x${cmd.fid.toString(16)} is not supported`);
  if (cmd.sel === FeatureSelect.SupportedCapabilities) return success(FEATURE_CAP_CHANGEABLE);
  // Nothing is saveable, so "saved" reads as the default (Base 2.0, 5.15.1 Figure 192).
  const current = cmd.sel === FeatureSelect.Current;
  switch (cmd.fid) {
    case FeatureId.NumberOfQueues: {
      const n = current ? ctrl.grantedIoQueues : MAX_IO_QUEUES;
      return success(encodeNumberOfQueues({ sqCount: n, cqCount: n }));
    }
    case FeatureId.KeepAliveTimer:
      return success(current ? ctrl.kato : 0);
    default:
      return success(current ? ctrl.asyncEventConfig : supportedAec(ctrl));
  }
}

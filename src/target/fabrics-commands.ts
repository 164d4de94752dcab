/**
 * Fabrics commands (NVMe-oF 1.1, 3): Connect creates a controller (admin queue) or joins one
 * (I/O queue); Property Get/Set reach CAP, VS, CC and CSTS. Connect failures carry the offending
 * parameter in DW0 (IATTR/IPO, Figure 21) as Linux nvmet and SPDK report them.
 */
import {
  decodeConnectCommand,
  decodeConnectData,
  decodePropertyGet,
  decodePropertySet,
  encodeConnectInvalidParamDw0,
  encodePropertyGetResponse,
  CONNECT_DATA_SIZE,
  CONNECT_DATA_CNTLID,
  CONNECT_DATA_HOSTID,
  CONNECT_DATA_HOSTNQN,
  CONNECT_DATA_SUBNQN,
  CONNECT_QID,
  CONNECT_SQSIZE,
  CONNECT_RECFMT_1_0,
  CNTLID_DYNAMIC,
  type ConnectCommand,
  type ConnectData,
} from '../nvme/fabrics.js';
import { validateNqn } from '../nvme/nqn.js';
import { StatusCodeType, FabricsStatus } from '../nvme/status.js';
import {
  PROPERTY_CAP,
  PROPERTY_VS,
  PROPERTY_CC,
  PROPERTY_CSTS,
  FABRICS_PROPERTY_SIZES,
} from '../nvme/properties.js';
import type { Controller } from './controller.js';
import type { Subsystem } from './subsystem.js';
import { MAX_ADMIN_QUEUE_ENTRIES, MAX_QUEUE_ENTRIES, NVME_VERSION } from './controller-limits.js';
import {
  type CommandResponse,
  NvmeCommandError,
  success,
  invalidField,
  commandSequenceError,
  dataSglLengthInvalid,
} from './to-nvme-status.js';

/** What Connect needs of the target. */
export interface ConnectContext {
  findSubsystem(nqn: string): Subsystem | undefined;
  /** A new controller of `subsystem`, or undefined when every CNTLID is taken. */
  createController(
    subsystem: Subsystem,
    host: { hostnqn: string; hostid: Buffer; kato: number },
  ): Controller | undefined;
}

/** Connect Invalid Parameters (SCT 1, SC 82h) naming the bad field. */
function invalidParameter(inData: boolean, ipo: number, message: string): NvmeCommandError {
  return new NvmeCommandError(
    StatusCodeType.CommandSpecific,
    FabricsStatus.ConnectInvalidParameters,
    message,
    encodeConnectInvalidParamDw0({ inData, ipo }),
  );
}

export interface ConnectRequest {
  cmd: ConnectCommand;
  data: ConnectData;
  subsystem: Subsystem;
}

/** Checks what every Connect must satisfy, admin or I/O (NVMe-oF 1.1, 3.3). */
export function checkConnect(
  ctx: ConnectContext,
  sqe: Buffer,
  payload: Buffer | undefined,
): ConnectRequest {
  const cmd = decodeConnectCommand(sqe);
  if (cmd.recfmt !== CONNECT_RECFMT_1_0) {
    throw new NvmeCommandError(
      StatusCodeType.CommandSpecific,
      FabricsStatus.ConnectIncompatibleFormat,
      `Connect record format ${cmd.recfmt} is not 0`,
      0,
    );
  }
  if (!payload || payload.length !== CONNECT_DATA_SIZE) {
    throw dataSglLengthInvalid(
      `Connect carried ${payload?.length ?? 0} bytes of data, expected ${CONNECT_DATA_SIZE}`,
    );
  }
  const data = decodeConnectData(payload);
  const subsystem = ctx.findSubsystem(data.subnqn);
  if (!subsystem) {
    throw invalidParameter(true, CONNECT_DATA_SUBNQN, `no subsystem "${data.subnqn}" here`);
  }
  const badHost = validateNqn(data.hostnqn);
  if (badHost) throw invalidParameter(true, CONNECT_DATA_HOSTNQN, `host NQN: ${badHost}`);
  if (!subsystem.isHostAllowed(data.hostnqn)) {
    throw new NvmeCommandError(
      StatusCodeType.CommandSpecific,
      FabricsStatus.ConnectInvalidHost,
      `host ${data.hostnqn} may not connect to ${subsystem.nqn}`,
      encodeConnectInvalidParamDw0({ inData: true, ipo: CONNECT_DATA_HOSTNQN }),
    );
  }
  const maxEntries = cmd.qid === 0 ? MAX_ADMIN_QUEUE_ENTRIES : MAX_QUEUE_ENTRIES;
  // SQSIZE is 0-based; a queue of one entry holds no command (Base 2.0, 3.3.1.1).
  if (cmd.sqsize < 1 || cmd.sqsize > maxEntries - 1) {
    throw invalidParameter(
      false,
      CONNECT_SQSIZE,
      `SQSIZE ${cmd.sqsize} is not 1..${maxEntries - 1} (queues of 2..${maxEntries} entries)`,
    );
  }
  return { cmd, data, subsystem };
}

/** Admin queue Connect: a new controller in the dynamic model (CNTLID FFFFh asked). */
export function connectAdmin(ctx: ConnectContext, req: ConnectRequest): Controller {
  if (req.data.cntlid !== CNTLID_DYNAMIC) {
    throw invalidParameter(
      true,
      CONNECT_DATA_CNTLID,
      `admin Connect asked for CNTLID ${req.data.cntlid}; this target has dynamic controllers (FFFFh)`,
    );
  }
  const ctrl = ctx.createController(req.subsystem, {
    hostnqn: req.data.hostnqn,
    hostid: req.data.hostid,
    kato: req.cmd.kato,
  });
  if (!ctrl) {
    throw new NvmeCommandError(
      StatusCodeType.CommandSpecific,
      FabricsStatus.ConnectControllerBusy,
      `${req.subsystem.nqn} has no free controller ID`,
      0,
      false,
    );
  }
  return ctrl;
}

/** I/O queue Connect: joins the controller the host created on its admin queue. */
export function connectIo(req: ConnectRequest): Controller {
  const { cmd, data, subsystem } = req;
  if (subsystem.type === 'discovery') {
    throw invalidParameter(false, CONNECT_QID, 'a discovery controller has no I/O queues');
  }
  const ctrl = subsystem.controller(data.cntlid) as Controller | undefined;
  if (!ctrl || ctrl.destroyed) {
    throw invalidParameter(
      true,
      CONNECT_DATA_CNTLID,
      `no controller ${data.cntlid} in ${subsystem.nqn}`,
    );
  }
  if (ctrl.hostnqn !== data.hostnqn) {
    throw invalidParameter(
      true,
      CONNECT_DATA_HOSTNQN,
      `controller ${data.cntlid} belongs to another host`,
    );
  }
  if (!ctrl.hostid.equals(data.hostid)) {
    throw invalidParameter(
      true,
      CONNECT_DATA_HOSTID,
      `host identifier differs from the admin queue's`,
    );
  }
  if (!ctrl.isReady) {
    throw commandSequenceError(`I/O queue Connect before controller ${ctrl.cntlid} was enabled`);
  }
  if (cmd.qid > ctrl.grantedIoQueues) {
    throw invalidParameter(
      false,
      CONNECT_QID,
      `QID ${cmd.qid} is beyond the ${ctrl.grantedIoQueues} I/O queues granted`,
    );
  }
  if (ctrl.ioQueues.has(cmd.qid)) {
    throw commandSequenceError(
      `I/O queue ${cmd.qid} of controller ${ctrl.cntlid} is already connected`,
    );
  }
  return ctrl;
}

/** Property Get (NVMe-oF 1.1, 3.4): CAP as 8 bytes; VS, CC, CSTS as 4. */
export function propertyGet(ctrl: Controller, sqe: Buffer): CommandResponse {
  const cmd = decodePropertyGet(sqe);
  const size = FABRICS_PROPERTY_SIZES.get(cmd.offset);
  if (cmd.size === 0 || size === undefined || size !== cmd.size) {
    throw invalidField(`Property Get of ${cmd.size} bytes at offset 0x${cmd.offset.toString(16)}`);
  }
  let value: number | bigint;
  switch (cmd.offset) {
    case PROPERTY_CAP:
      value = ctrl.cap;
      break;
    case PROPERTY_VS:
      value = NVME_VERSION;
      break;
    case PROPERTY_CC:
      value = ctrl.cc;
      break;
    case PROPERTY_CSTS:
      value = ctrl.csts;
      break;
    default:
      throw invalidField(`property 0x${cmd.offset.toString(16)} is not readable here`);
  }
  const { dw0, dw1 } = encodePropertyGetResponse(value);
  return success(dw0, undefined, dw1);
}

/** Property Set (NVMe-oF 1.1, 3.5): CC is the only property a host writes. */
export function propertySet(ctrl: Controller, sqe: Buffer): CommandResponse {
  const cmd = decodePropertySet(sqe);
  if (cmd.offset !== PROPERTY_CC || cmd.size !== FABRICS_PROPERTY_SIZES.get(PROPERTY_CC)) {
    throw invalidField(`Property Set of ${cmd.size} bytes at offset 0x${cmd.offset.toString(16)}`);
  }
  ctrl.setCc(Number(cmd.value & 0xffffffffn));
  return success();
}

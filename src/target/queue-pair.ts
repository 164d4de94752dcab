/**
 * The target side of one queue connection (SPDK's spdk_nvmf_qpair): unbound until a Connect
 * binds it to a controller as its admin queue or one of its I/O queues, then the dispatcher of
 * every command that arrives on it. `handle` never rejects: errors become CQE statuses in
 * toNvmeStatus(), once, here.
 */
import type { Logger } from 'pino';
import { FABRICS_OPCODE, FabricsType, commandName } from '../nvme/opcodes.js';
import { SQE_CID, SQE_FCTYPE, SQE_NSID, SQE_OPCODE } from '../nvme/sqe.js';
import { encodeConnectResponseDw0, decodeDisconnect } from '../nvme/fabrics.js';
import { IO_SLBA } from '../nvme/io-command.js';
import { IoOpcode } from '../nvme/opcodes.js';
import { TransportType } from '../nvme/log-pages.js';
import { readU64 } from '../nvme/codec.js';
import type { Controller } from './controller.js';
import type { QueueLink } from './queue-link.js';
import type { DiscoverySource } from './log-page-data.js';
import {
  type ConnectContext,
  checkConnect,
  connectAdmin,
  connectIo,
  propertyGet,
  propertySet,
} from './fabrics-commands.js';
import { handleAdminCommand } from './admin-commands.js';
import { handleIoCommand } from './io-commands.js';
import { ADMIN_IN_CAPSULE_DATA_SIZE, IO_IN_CAPSULE_DATA_SIZE } from './controller-limits.js';
import {
  type CommandResponse,
  toNvmeStatus,
  success,
  invalidOpcode,
  commandSequenceError,
} from './to-nvme-status.js';

export type TargetContext = ConnectContext & DiscoverySource;

export const enum QueuePairState {
  /** Connected at the transport level; only a Fabrics Connect is accepted. */
  AwaitingConnect = 'awaiting-connect',
  Admin = 'admin',
  Io = 'io',
  Closed = 'closed',
}

/** I/O commands whose CDW10-11 hold an SLBA worth putting in the error log. */
const LBA_COMMANDS = new Set<number>([
  IoOpcode.Read,
  IoOpcode.Write,
  IoOpcode.Compare,
  IoOpcode.WriteZeroes,
]);

export class QueuePair {
  private stateValue = QueuePairState.AwaitingConnect;
  private controllerValue: Controller | undefined;
  private qidValue = 0;
  private log: Logger;

  constructor(
    readonly link: QueueLink,
    private readonly ctx: TargetContext,
    logger: Logger,
  ) {
    this.log = logger;
    link.on('close', () => this.closed());
  }

  get state(): QueuePairState {
    return this.stateValue;
  }

  get controller(): Controller | undefined {
    return this.controllerValue;
  }

  get qid(): number {
    return this.qidValue;
  }

  private setState(next: QueuePairState): void {
    this.stateValue = next;
  }

  /**
   * The CommandHandler the transport calls, once per command. Not an async function: a command
   * the bdev completes at once (memory, a file on the event loop) is answered at once, with no
   * promise; any other pays for its bdev's promise and one `then` here.
   */
  readonly handle = (
    sqe: Buffer,
    data: Buffer | undefined,
  ): CommandResponse | Promise<CommandResponse> => {
    this.controllerValue?.restartKeepAlive();
    let result: Promise<CommandResponse> | CommandResponse;
    try {
      result = this.dispatch(sqe, data);
    } catch (err) {
      return this.failed(sqe, err);
    }
    return result instanceof Promise
      ? result.then(undefined, (err: unknown) => this.failed(sqe, err))
      : result;
  };

  /** A command's error becomes its CQE status, and an Error Information log entry. */
  private failed(sqe: Buffer, err: unknown): CommandResponse {
    const response = toNvmeStatus(err);
    this.log.debug({ err, command: this.describe(sqe), status: response.status }, 'command failed');
    if (this.controllerValue) this.recordError(this.controllerValue, sqe, response.status);
    return response;
  }

  private dispatch(
    sqe: Buffer,
    data: Buffer | undefined,
  ): Promise<CommandResponse> | CommandResponse {
    if (sqe[SQE_OPCODE] === FABRICS_OPCODE) return this.fabrics(sqe, data);
    const ctrl = this.controllerValue;
    if (!ctrl || this.stateValue === QueuePairState.AwaitingConnect) {
      throw commandSequenceError(`${this.describe(sqe)} before Connect`);
    }
    // Base 2.0, 3.5.1: until CSTS.RDY only Fabrics commands are processed.
    if (!ctrl.isReady)
      throw commandSequenceError(`${this.describe(sqe)} while the controller is not ready`);
    if (this.stateValue === QueuePairState.Admin) return handleAdminCommand(ctrl, this.ctx, sqe);
    return handleIoCommand(ctrl.subsystem, sqe, data);
  }

  private fabrics(sqe: Buffer, data: Buffer | undefined): CommandResponse {
    const fctype = sqe[SQE_FCTYPE];
    if (fctype === FabricsType.Connect) return this.connect(sqe, data);
    const ctrl = this.controllerValue;
    if (!ctrl) throw commandSequenceError(`${this.describe(sqe)} before Connect`);
    switch (fctype) {
      case FabricsType.PropertyGet:
      case FabricsType.PropertySet:
        if (this.stateValue !== QueuePairState.Admin) {
          throw invalidOpcode(`${this.describe(sqe)} is an admin queue command`);
        }
        return fctype === FabricsType.PropertyGet ? propertyGet(ctrl, sqe) : propertySet(ctrl, sqe);
      case FabricsType.Disconnect:
        decodeDisconnect(sqe);
        this.disconnectAfterResponse();
        return success();
      default:
        throw invalidOpcode(`${this.describe(sqe)} is not supported`);
    }
  }

  /** Connect (NVMe-oF 1.1, 3.3): binds this queue; a second Connect is a sequence error. */
  private connect(sqe: Buffer, data: Buffer | undefined): CommandResponse {
    if (this.stateValue !== QueuePairState.AwaitingConnect) {
      throw commandSequenceError(`Connect on queue ${this.qidValue}, which is already connected`);
    }
    const req = checkConnect(this.ctx, sqe, data);
    const qid = req.cmd.qid;
    const ctrl = qid === 0 ? connectAdmin(this.ctx, req) : connectIo(req);
    this.controllerValue = ctrl;
    this.qidValue = qid;
    this.link.qid = qid;
    this.link.sqSize = req.cmd.sqsize + 1;
    this.log = ctrl.log.child({ qid });
    if (qid === 0) {
      ctrl.admin = this.link;
      this.link.setInCapsuleDataSize(ADMIN_IN_CAPSULE_DATA_SIZE);
      this.setState(QueuePairState.Admin);
    } else {
      ctrl.attachIoQueue(qid, this.link);
      this.link.setInCapsuleDataSize(IO_IN_CAPSULE_DATA_SIZE);
      this.setState(QueuePairState.Io);
    }
    this.log.info(
      { hostnqn: ctrl.hostnqn, sqsize: req.cmd.sqsize, kato: req.cmd.kato },
      'queue connected',
    );
    return success(encodeConnectResponseDw0(ctrl.cntlid));
  }

  /**
   * Disconnect (NVMe-oF 1.1, 3.6): the queue (and for the admin queue the whole association)
   * ends once its completion is on the wire: close after the transport has taken the response.
   */
  private disconnectAfterResponse(): void {
    setImmediate(() => {
      if (this.stateValue === QueuePairState.Admin)
        this.controllerValue?.destroy('host disconnected');
      else this.link.close('host disconnected');
    });
  }

  /** The transport connection closed: an admin queue takes its association with it. */
  private closed(): void {
    const ctrl = this.controllerValue;
    const was = this.stateValue;
    this.setState(QueuePairState.Closed);
    if (!ctrl) return;
    if (was === QueuePairState.Admin) ctrl.destroy('admin queue closed');
    else if (was === QueuePairState.Io) ctrl.detachIoQueue(this.qidValue, this.link);
  }

  private recordError(ctrl: Controller, sqe: Buffer, status: number): void {
    const opcode = sqe[SQE_OPCODE];
    const io = this.stateValue === QueuePairState.Io;
    ctrl.recordError({
      sqid: this.qidValue,
      cid: sqe.readUInt16LE(SQE_CID),
      status,
      paramLocation: 0,
      lba:
        io && LBA_COMMANDS.has(opcode)
          ? Math.min(readU64(sqe, IO_SLBA), Number.MAX_SAFE_INTEGER)
          : 0,
      nsid: opcode === FABRICS_OPCODE ? 0 : sqe.readUInt32LE(SQE_NSID),
      vs: 0,
      trtype: TransportType.Tcp,
      csi: 0,
      opcode,
      commandSpecific: 0,
      trtypeSpecific: 0,
      version: 0,
    });
  }

  private describe(sqe: Buffer): string {
    const opcode = sqe[SQE_OPCODE];
    const name = commandName(opcode, this.stateValue !== QueuePairState.Io, sqe[SQE_FCTYPE]);
    return `${name} (cid ${sqe.readUInt16LE(SQE_CID)})`;
  }
}

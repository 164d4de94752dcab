/**
 * The host end of one NVMe/TCP connection (one NVMe queue): the ICReq/ICResp exchange, command
 * identifiers, in-capsule data or R2T-driven H2CData for writes, C2HData for reads, and the
 * mapping of every way a command can end into one outcome, a callback or a settled promise
 * (NVMe/TCP 1.0 data transfers and the PDUs of 3.6.2). Queue depth and deadlines are the
 * caller's business (src/initiator).
 */
import net from 'node:net';
import pino, { type Logger } from 'pino';
import { CQE_CID, CQE_SIZE } from '../../nvme/cqe.js';
import { setSqeCid } from '../../nvme/sqe.js';
import { totalLength } from './buffer-list.js';
import {
  TcpConnectTimeoutError,
  TcpConnectionClosedError,
  TcpPeerTerminatedError,
  TcpTransportError,
  TermReqFes,
} from './errors.js';
import {
  CAPSULE_RESP_CQE,
  CH_FLAGS,
  CH_PDO,
  CH_TYPE,
  DATA_CCCID,
  DATA_DATAL,
  DATA_DATAO,
  MIN_MAXH2CDATA,
  type Pdu,
  PduType,
  PduFlag,
  IN_CAPSULE_SGL_ID,
  TRANSPORT_SGL_ID,
  setSgl1,
  capsuleCmdHeaderSize,
  pdaAlignment,
  writeCapsuleCmd,
} from './pdu.js';
import {
  type HostCommand,
  type HostCompletion,
  type HostCompletionCallback,
  type HostSubmitIo,
  addC2HData,
  completionOf,
  newHostCommand,
} from './host-command.js';
import { checkC2HData, checkCapsuleResp, checkHostRxHeader, checkR2T } from './host-pdu-checks.js';
import {
  ADMIN_IN_CAPSULE_DATA_SIZE,
  DEFAULT_MAX_C2H_DATA,
  type HostQueueOptions,
  hostIcReq,
} from './host-queue-options.js';
import { checkIcResp } from './ic-exchange.js';
import { QueueState, TcpQueueCore } from './queue-core.js';
import { RX_READ_BYTES, RxBuffers } from './rx-buffers.js';
import { SmallBuffers } from './small-buffers.js';
import { TagTable } from './tag-table.js';

/** Command identifiers 0..0xFFFE; 0xFFFF is kept out ("no CID" in error log entries). */
const MAX_CID = 0xfffe;

export { ADMIN_IN_CAPSULE_DATA_SIZE, type HostQueueOptions } from './host-queue-options.js';
export type { HostCompletion, HostCompletionCallback, HostSubmitIo } from './host-command.js';

const SILENT_LOGGER: Logger = pino({ level: 'silent' });

export class HostQueue extends TcpQueueCore {
  /** In-capsule data accepted by the controller; the initiator sets it from IOCCSZ for I/O queues. */
  inCapsuleDataSize = ADMIN_IN_CAPSULE_DATA_SIZE;
  /** MAXH2CDATA from the ICResp. */
  maxH2CData = MIN_MAXH2CDATA;
  private readonly commands = new TagTable<HostCommand>(MAX_CID);
  private readonly maxC2HData: number;
  private established: { resolve(): void; reject(err: Error): void } | undefined;
  private readonly readBuffers: RxBuffers;
  /** The CQEs synthesized for C2HData SUCCESS (one per read): views of a slab. */
  private readonly cqes = new SmallBuffers();

  private constructor(
    socket: net.Socket,
    private readonly opts: HostQueueOptions,
    logger: Logger,
  ) {
    super(socket, false, logger, `${opts.host}:${opts.port}`);
    this.readBuffers = new RxBuffers(this.reader);
    this.maxC2HData = opts.maxC2HData ?? DEFAULT_MAX_C2H_DATA;
  }

  /** Connects, sends ICReq and resolves once a valid ICResp arrived. */
  static async connect(opts: HostQueueOptions): Promise<HostQueue> {
    const icReq = hostIcReq(opts);
    const log = (opts.logger ?? SILENT_LOGGER).child({
      transport: 'tcp',
      peer: `${opts.host}:${opts.port}`,
    });
    const created: { queue?: HostQueue } = {};
    const socket = net.connect({
      host: opts.host,
      port: opts.port,
      // Reads land where the PDU reader wants them (rx-buffers.ts). net.connect sets the handle
      // up before the queue exists; that first buffer can be any.
      onread: {
        buffer: () => created.queue?.readBuffers.next() ?? Buffer.allocUnsafe(RX_READ_BYTES),
        callback: (n: number, buf: Uint8Array) => {
          created.queue?.received(buf as Buffer, n);
          return true;
        },
      },
    });
    const queue = new HostQueue(socket, opts, log);
    created.queue = queue;
    const ready = new Promise<void>((resolve, reject) => {
      queue.established = { resolve, reject };
    });
    queue.write(icReq);
    const ms = opts.connectTimeoutMs ?? 0;
    const timer =
      ms > 0
        ? setTimeout(
            () => queue.established?.reject(new TcpConnectTimeoutError(opts.host, opts.port, ms)),
            ms,
          )
        : undefined;
    try {
      await ready;
    } catch (err) {
      queue.destroy(err as Error);
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return queue;
  }

  private received(buf: Buffer, n: number): void {
    this.onData(this.readBuffers.filled(buf, n));
  }

  /** Commands submitted and not yet completed. */
  get outstanding(): number {
    return this.commands.size;
  }

  /**
   * Sends a command. Sets the CID and SGL1 of `sqe` (which is modified), sends write data in the
   * capsule or on R2T, and resolves with the CQE (any status) and the read data. Rejects only
   * when the connection fails or is closed before the command completes.
   */
  submit(sqe: Buffer, io?: HostSubmitIo): Promise<HostCompletion> {
    return new Promise<HostCompletion>((resolve, reject) => {
      this.send(sqe, io, (err, completion) => (err ? reject(err) : resolve(completion!)));
    });
  }

  /**
   * submit() for the data path: the outcome goes to `done` (once, never synchronously), with no
   * promise of its own, so that a caller with its own bookkeeping pays for one promise per I/O
   * at most.
   */
  send(sqe: Buffer, io: HostSubmitIo | undefined, done: HostCompletionCallback): void {
    const refused = this.refusal(io);
    if (refused) {
      queueMicrotask(() => done(refused));
      return;
    }
    const write = io?.data;
    const writeLength = write ? totalLength(write) : 0;
    const readLength = io?.readLength ?? 0;
    const cid = this.commands.alloc();
    if (cid < 0) {
      queueMicrotask(() => done(new RangeError(`more than ${MAX_CID + 1} commands outstanding`)));
      return;
    }
    setSqeCid(sqe, cid);
    const inCapsule = writeLength > 0 && writeLength <= this.inCapsuleDataSize;
    if (inCapsule) setSgl1(sqe, IN_CAPSULE_SGL_ID, writeLength);
    else setSgl1(sqe, TRANSPORT_SGL_ID, writeLength > 0 ? writeLength : readLength);
    this.commands.set(
      cid,
      newHostCommand(
        cid,
        done,
        inCapsule ? undefined : write,
        inCapsule ? 0 : writeLength,
        readLength,
      ),
    );
    const capsuleData = inCapsule ? writeLength : 0;
    const at = this.batch.reserve(capsuleCmdHeaderSize(capsuleData, this.tx));
    writeCapsuleCmd(this.batch.buf, at, sqe, capsuleData, this.tx);
    if (inCapsule) this.sendData(write!);
  }

  /** Why a command cannot be sent at all, or undefined. */
  private refusal(io: HostSubmitIo | undefined): Error | undefined {
    if (this.state !== QueueState.Ready) {
      return new TcpConnectionClosedError(
        `NVMe/TCP queue to ${this.remoteAddress} is not connected`,
      );
    }
    if (io?.data && totalLength(io.data) > 0 && (io.readLength ?? 0) > 0) {
      return new RangeError('a command moves data in one direction only over NVMe/TCP');
    }
    return undefined;
  }

  /** Closes the connection; outstanding commands reject with a connection-closed error. */
  close(): void {
    this.shutdown();
  }

  protected checkHeader(type: PduType, dataLength: number): void {
    checkHostRxHeader(type, dataLength, this.state === QueueState.Initializing, this.maxC2HData);
  }

  protected handlePdu(pdu: Pdu): void {
    switch (pdu.type) {
      case PduType.IcResp:
        return this.onIcResp(pdu);
      case PduType.CapsuleResp:
        return this.onCapsuleResp(pdu.cqe);
      case PduType.C2HData:
        return this.onC2HData(
          pdu.cccid,
          pdu.datao,
          pdu.datal,
          pdu.success,
          pdu.data,
          pdu.dataDigestOk,
        );
      case PduType.R2T:
        return this.onR2T(pdu);
      case PduType.C2HTermReq:
        this.log.warn({ fes: pdu.fes, fei: pdu.fei }, 'controller terminated the connection');
        this.shutdown(
          new TcpPeerTerminatedError(pdu.fes, pdu.fei, `controller ${this.remoteAddress}`),
        );
        return;
      default:
        // checkCommonHeader only lets controller→host PDU types through.
        throw new TcpTransportError(
          TermReqFes.InvalidHeaderField,
          0,
          `unexpected PDU type 0x${pdu.type.toString(16)}`,
        );
    }
  }

  /** NVMe/TCP 1.0, 3.6.2.3: check what the controller granted, then adopt it. */
  private onIcResp(m: Pdu & { type: PduType.IcResp }): void {
    checkIcResp(m, { hdgst: this.opts.hdgst ?? false, ddgst: this.opts.ddgst ?? false });
    this.maxH2CData = m.maxh2cdata;
    this.rx.hdgst = this.tx.hdgst = m.hdgst;
    this.rx.ddgst = this.tx.ddgst = m.ddgst;
    this.rx.pdoAlignment = pdaAlignment(this.opts.hpda ?? 0);
    this.tx.pdoAlignment = pdaAlignment(m.cpda);
    this.setState(QueueState.Ready);
    this.log.debug(
      { hdgst: m.hdgst, ddgst: m.ddgst, cpda: m.cpda, maxh2cdata: m.maxh2cdata },
      'NVMe/TCP connection ready',
    );
    this.established?.resolve();
    this.established = undefined;
  }

  private onCapsuleResp(cqe: Buffer): void {
    const cid = cqe.readUInt16LE(CQE_CID);
    const cmd = this.commands.get(cid);
    checkCapsuleResp(cmd, cid);
    this.complete(cmd, cqe);
  }

  /** NVMe/TCP 1.0, 3.6.2.9: C2HData PDUs of a command arrive in order, inside its data. */
  private onC2HData(
    cccid: number,
    datao: number,
    datal: number,
    success: boolean,
    data: Buffer,
    dataDigestOk: boolean,
  ): void {
    const cmd = this.commands.get(cccid);
    checkC2HData(cmd, cccid, datao, datal);
    if (!dataDigestOk) {
      this.log.warn({ cid: cccid, datao }, 'C2HData data digest error');
      cmd.digestError = true;
    }
    // One PDU carrying it all reaches the caller as the view of the receive buffer, no copy.
    addC2HData(cmd, datao, data);
    if (success) {
      // NVMe/TCP 1.0, 3.6.2.9: SUCCESS replaces the CapsuleResp of a successful command.
      const cqe = this.cqes.take(CQE_SIZE);
      cqe.writeUInt16LE(cccid, CQE_CID);
      this.complete(cmd, cqe);
    }
  }

  /** CapsuleResp and C2HData read in place (see TcpQueueCore.handleInPlace). */
  protected override handleInPlace(
    buf: Buffer,
    at: number,
    plen: number,
    dataLength: number,
  ): boolean {
    // checkHeader() already let only the PDU types of the Ready state through.
    switch (buf[at + CH_TYPE]) {
      case PduType.CapsuleResp:
        this.onCapsuleResp(buf.subarray(at + CAPSULE_RESP_CQE, at + CAPSULE_RESP_CQE + CQE_SIZE));
        return true;
      case PduType.C2HData: {
        const datal = buf.readUInt32LE(at + DATA_DATAL);
        // The decoder reports a DATAL that disagrees with PLEN and PDO.
        if (datal !== dataLength || dataLength === 0) return false;
        const pdo = at + buf[at + CH_PDO];
        const data = buf.subarray(pdo, pdo + dataLength);
        this.onC2HData(
          buf.readUInt16LE(at + DATA_CCCID),
          buf.readUInt32LE(at + DATA_DATAO),
          datal,
          (buf[at + CH_FLAGS] & PduFlag.Success) !== 0,
          data,
          this.dataDigestOk(buf, at, plen, data),
        );
        return true;
      }
      default:
        return false;
    }
  }

  /** NVMe/TCP 1.0, 3.6.2.10 / 3.6.2.8: send the R2T's range as H2CData PDUs of at most MAXH2CDATA bytes. */
  private onR2T(m: Pdu & { type: PduType.R2T }): void {
    const cmd = this.commands.get(m.cccid);
    checkR2T(cmd, m);
    this.sendDataPdus(
      PduType.H2CData,
      m.cccid,
      m.ttag,
      cmd.write,
      m.r2to,
      m.r2tl,
      this.maxH2CData,
      PduFlag.LastPdu,
    );
  }

  private complete(cmd: HostCommand, cqe: Buffer): void {
    this.commands.release(cmd.cid);
    const completion = completionOf(cmd, cqe);
    try {
      cmd.done(null, completion);
    } catch (err) {
      // A throwing callback is the caller's bug; the connection and its other commands go on.
      this.log.error({ err, cid: cmd.cid }, 'command completion callback threw');
    }
  }

  protected onTerminated(err: Error): void {
    this.established?.reject(err);
    this.established = undefined;
    for (const cmd of this.commands.drain()) cmd.done(err);
  }
}

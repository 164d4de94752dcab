/**
 * The controller end of one NVMe/TCP connection (one NVMe queue): answers ICReq, takes command
 * capsules, gathers their host→controller data (in-capsule, or R2T + H2CData), calls the
 * command handler once per command, and sends the handler's data as C2HData followed by the
 * CapsuleResp (NVMe/TCP 1.0, 3.6.2). Subsystems and controllers live in src/target; this
 * queue knows only PDUs and SGLs.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { encodeCqeStatus } from '../../nvme/cqe.js';
import { DataTransfer, dataTransferOf } from '../../nvme/opcodes.js';
import { SGL_ADDRESS, SGL_IDENTIFIER, SGL_LENGTH } from '../../nvme/sgl.js';
import { SQE_DPTR, SQE_SIZE, sqeCid } from '../../nvme/sqe.js';
import { GenericStatus, StatusCodeType } from '../../nvme/status.js';
import { totalLength } from './buffer-list.js';
import { TcpPeerTerminatedError, TcpTransportError, TermReqFes } from './errors.js';
import {
  CAPSULE_CMD_SQE,
  CH_PDO,
  CH_TYPE,
  PFV_1_0,
  type Pdu,
  PduFlag,
  PduType,
  IN_CAPSULE_SGL_ID,
  NULL_SGL_ID,
  TRANSPORT_SGL_ID,
  capsuleRespSize,
  encodeIcResp,
  pdaAlignment,
  r2tSize,
  writeCapsuleResp,
  writeDataPduHeader,
} from './pdu.js';
import { QueueState, TcpQueueCore } from './queue-core.js';
import { ReusableRxBuffer } from './reusable-rx-buffer.js';
import { TagTable } from './tag-table.js';
import { checkIcReq } from './ic-exchange.js';
import { checkH2CData, checkTargetQueueOptions, checkTargetRxHeader } from './target-pdu-checks.js';
import { type TargetTransfer, newTargetTransfer } from './target-transfer.js';
import type { CommandHandler, TargetQueueOptions, TargetResponse } from './target-response.js';

export type { CommandHandler, TargetQueueOptions, TargetResponse } from './target-response.js';

const DEFAULT_MAX_C2H_DATA = 1024 * 1024;
/** R2Ts outstanding per command at most, whatever MAXR2T the host allows. */
const MAX_R2T_PER_COMMAND = 16;
/** Transfer tags 0..0xFFFE. */
const MAX_TTAG = 0xfffe;
/** SQ head pointer wraps here until the Connect command gives the queue size. */
const SQHD_MODULUS = 0x10000;
const STATUS_FIELD_MASK = 0xfffe;

const genericStatus = (sc: GenericStatus, dnr = true): number =>
  encodeCqeStatus(StatusCodeType.Generic, sc, dnr);
const TRANSIENT_TRANSPORT_ERROR = encodeCqeStatus(
  StatusCodeType.Generic,
  GenericStatus.TransientTransportError,
);
const INTERNAL_ERROR = encodeCqeStatus(StatusCodeType.Generic, GenericStatus.InternalError);

export class TargetQueue extends TcpQueueCore {
  /** Set by the controller after Connect; the CQE SQID. */
  qid = 0;
  /** Submission queue entries (Connect SQSIZE + 1); 0 until known. */
  sqSize = 0;
  private sqHead = 0;
  private inCapsuleDataSize: number;
  private handler: CommandHandler | undefined;
  private hostMaxR2T = 1;
  private readonly transfers = new TagTable<TargetTransfer>(MAX_TTAG);
  private readonly maxC2HData: number;
  /**
   * Where the socket reads when the listener built it with `onread` (tcp-listener.ts): one
   * buffer read into again unless a command still holds views of the last read (execute()).
   */
  readonly readBuffers: ReusableRxBuffer;
  private readonly consume = (chunk: Buffer): void => this.onData(chunk);

  constructor(
    socket: Socket,
    private readonly opts: TargetQueueOptions,
    logger: Logger,
  ) {
    super(socket, true, logger, `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`);
    checkTargetQueueOptions(opts);
    this.inCapsuleDataSize = opts.inCapsuleDataSize;
    this.maxC2HData = opts.maxC2HData ?? DEFAULT_MAX_C2H_DATA;
    this.readBuffers = new ReusableRxBuffer(this.reader);
  }

  /** The socket's `onread` callback: `n` bytes were read into `buf`, which readBuffers gave. */
  received(buf: Buffer, n: number): void {
    this.readBuffers.filled(buf, n, this.consume);
  }

  /** Installs the command handler (the listener does it before the first PDU can arrive). */
  start(handler: CommandHandler): void {
    this.handler = handler;
  }

  /** In-capsule data accepted from now on (the I/O queue's IOCCSZ after Connect). */
  setInCapsuleDataSize(n: number): void {
    this.inCapsuleDataSize = n;
  }

  /** Closes the connection without a TermReq (orderly, or the controller is going away). */
  close(reason = 'queue closed by the controller'): void {
    this.log.debug({ reason }, 'closing NVMe/TCP queue');
    this.shutdown();
  }

  protected checkHeader(type: PduType, dataLength: number): void {
    checkTargetRxHeader(
      type,
      dataLength,
      this.state === QueueState.Initializing,
      this.inCapsuleDataSize,
      this.opts.maxH2CData,
    );
  }

  protected handlePdu(pdu: Pdu): void {
    switch (pdu.type) {
      case PduType.IcReq:
        return this.onIcReq(pdu);
      case PduType.CapsuleCmd:
        return this.onCapsuleCmd(pdu.sqe, pdu.data, pdu.dataDigestOk);
      case PduType.H2CData:
        return this.onH2CData(pdu);
      case PduType.H2CTermReq:
        this.log.warn({ fes: pdu.fes, fei: pdu.fei }, 'host terminated the connection');
        this.shutdown(new TcpPeerTerminatedError(pdu.fes, pdu.fei, `host ${this.remoteAddress}`));
        return;
      default:
        throw new TcpTransportError(
          TermReqFes.InvalidHeaderField,
          0,
          `unexpected PDU type 0x${pdu.type.toString(16)}`,
        );
    }
  }

  /** CapsuleCmd read in place (see TcpQueueCore.handleInPlace); checkHeader() allowed it. */
  protected override handleInPlace(
    buf: Buffer,
    at: number,
    plen: number,
    dataLength: number,
  ): boolean {
    if (buf[at + CH_TYPE] !== PduType.CapsuleCmd) return false;
    const sqe = buf.subarray(at + CAPSULE_CMD_SQE, at + CAPSULE_CMD_SQE + SQE_SIZE);
    if (dataLength === 0) {
      this.onCapsuleCmd(sqe, undefined, true);
    } else {
      const pdo = at + buf[at + CH_PDO];
      const data = buf.subarray(pdo, pdo + dataLength);
      this.onCapsuleCmd(sqe, data, this.dataDigestOk(buf, at, plen, data));
    }
    return true;
  }

  /** NVMe/TCP 1.0, 3.6.2.2: PFV 0, HPDA 0..31; the digests asked for are granted. */
  private onIcReq(m: Pdu & { type: PduType.IcReq }): void {
    checkIcReq(m);
    const cpda = this.opts.cpda ?? 0;
    this.write(
      encodeIcResp({
        pfv: PFV_1_0,
        cpda,
        hdgst: m.hdgst,
        ddgst: m.ddgst,
        maxh2cdata: this.opts.maxH2CData,
      }),
    );
    this.hostMaxR2T = m.maxr2t + 1; // MAXR2T is 0's based
    this.rx.hdgst = this.tx.hdgst = m.hdgst;
    this.rx.ddgst = this.tx.ddgst = m.ddgst;
    this.rx.pdoAlignment = pdaAlignment(cpda);
    this.tx.pdoAlignment = pdaAlignment(m.hpda);
    this.setState(QueueState.Ready);
    this.log.debug(
      { hdgst: m.hdgst, ddgst: m.ddgst, hpda: m.hpda, maxr2t: m.maxr2t },
      'NVMe/TCP connection ready',
    );
  }

  /** Where a command's data is: SGL1 per NVMe/TCP 1.0 (Data Block Offset = in-capsule, Transport SGL = R2T/C2HData). */
  private onCapsuleCmd(sqe: Buffer, inCapsule: Buffer | undefined, digestOk: boolean): void {
    this.sqHead = (this.sqHead + 1) % (this.sqSize > 0 ? this.sqSize : SQHD_MODULUS);
    const cid = sqeCid(sqe);
    if (!digestOk) {
      // NVMe/TCP 1.0 data digest errors are per command: Transient Transport Error, not fatal.
      this.log.warn({ cid }, 'CapsuleCmd data digest error');
      return this.respond(cid, 0, { status: TRANSIENT_TRANSPORT_ERROR });
    }
    const id = sqe[SQE_DPTR + SGL_IDENTIFIER];
    const length = sqe.readUInt32LE(SQE_DPTR + SGL_LENGTH);
    const direction = dataTransferOf(sqe);
    const toHost = (direction & DataTransfer.ControllerToHost) !== 0;
    const fromHost = (direction & DataTransfer.HostToController) !== 0;
    if (this.opts.maxDataTransfer > 0 && length > this.opts.maxDataTransfer) {
      return this.respond(cid, 0, { status: genericStatus(GenericStatus.DataSglLengthInvalid) });
    }
    if (id === IN_CAPSULE_SGL_ID) {
      if (sqe.readBigUInt64LE(SQE_DPTR + SGL_ADDRESS) !== 0n) {
        return this.respond(cid, 0, { status: genericStatus(GenericStatus.SglOffsetInvalid) });
      }
      if (length !== (inCapsule?.length ?? 0) || (length > 0 && !fromHost)) {
        return this.respond(cid, 0, { status: genericStatus(GenericStatus.DataSglLengthInvalid) });
      }
      return this.execute(sqe, inCapsule, 0);
    }
    if (inCapsule || (id !== TRANSPORT_SGL_ID && !(id === NULL_SGL_ID && length === 0))) {
      return this.respond(cid, 0, {
        status: genericStatus(GenericStatus.SglDescriptorTypeInvalid),
      });
    }
    if (fromHost && length > 0) return this.startTransfer(sqe, cid, length);
    this.execute(sqe, undefined, toHost ? length : 0);
  }

  private startTransfer(sqe: Buffer, cid: number, length: number): void {
    const ttag = this.transfers.alloc();
    if (ttag < 0)
      return this.respond(cid, 0, {
        status: genericStatus(GenericStatus.CommandSequenceError, false),
      });
    const t = newTargetTransfer(ttag, sqe, cid, length);
    this.transfers.set(ttag, t);
    this.grant(t);
  }

  /** Keeps min(MAXR2T+1, 16) R2Ts outstanding until the whole transfer is asked for. */
  private grant(t: TargetTransfer): void {
    const limit = Math.min(this.hostMaxR2T, MAX_R2T_PER_COMMAND);
    const chunk = this.opts.maxR2tLength ?? this.opts.maxH2CData;
    while (t.r2tEnds.length < limit && t.granted < t.length) {
      const r2tl = Math.min(chunk, t.length - t.granted);
      const at = this.batch.reserve(r2tSize(this.tx));
      writeDataPduHeader(
        this.batch.buf,
        at,
        PduType.R2T,
        0,
        t.cid,
        t.ttag,
        t.granted,
        r2tl,
        this.tx,
        0,
      );
      t.granted += r2tl;
      t.r2tEnds.push(t.granted);
    }
  }

  /** NVMe/TCP 1.0, 3.6.2.8: H2CData answers an R2T, in order, within what the R2Ts asked for. */
  private onH2CData(m: Pdu & { type: PduType.H2CData }): void {
    const t = this.transfers.get(m.ttag);
    checkH2CData(t, m);
    if (!m.dataDigestOk) {
      this.log.warn({ cid: t.cid, datao: m.datao }, 'H2CData data digest error');
      t.digestError = true;
    } else if (m.datao === 0 && m.datal === t.length) {
      t.view = m.data;
    } else {
      t.assembled ??= Buffer.allocUnsafe(t.length);
      m.data.copy(t.assembled, m.datao);
    }
    t.received += m.datal;
    while (t.r2tEnds.length > 0 && t.received >= t.r2tEnds[0]) t.r2tEnds.shift();
    if (t.received < t.length) return this.grant(t);
    this.transfers.release(t.ttag);
    if (t.digestError) return this.respond(t.cid, 0, { status: TRANSIENT_TRANSPORT_ERROR });
    this.execute(t.sqe, t.view ?? t.assembled, 0);
  }

  /**
   * Runs the command handler on views of the receive buffer. An answer given at once (the
   * common case on a storage node) lets the buffer take the next read; a promise keeps it.
   */
  private execute(sqe: Buffer, data: Buffer | undefined, c2hLimit: number): void {
    const cid = sqeCid(sqe);
    const handler = this.handler;
    if (!handler) return this.respond(cid, 0, { status: INTERNAL_ERROR });
    let result: Promise<TargetResponse> | TargetResponse;
    try {
      result = handler(sqe, data);
    } catch (err) {
      return this.handlerFailed(cid, err);
    }
    if (result instanceof Promise) {
      // The handler may hold `sqe` and `data` until it settles: keep the bytes they view.
      this.readBuffers.keep();
      result.then(
        (r) => this.respond(cid, c2hLimit, r),
        (err: unknown) => this.handlerFailed(cid, err),
      );
    } else {
      this.respond(cid, c2hLimit, result);
    }
  }

  private handlerFailed(cid: number, err: unknown): void {
    this.log.error({ err, cid }, 'command handler threw; answering Internal Error');
    this.respond(cid, 0, { status: INTERNAL_ERROR });
  }

  /** C2HData (no more than the host's SGL asked for), then the CapsuleResp. */
  private respond(cid: number, c2hLimit: number, r: TargetResponse): void {
    if (this.state !== QueueState.Ready) return;
    if (r.data && c2hLimit > 0 && (r.status & STATUS_FIELD_MASK) === 0) {
      const total = Math.min(totalLength(r.data), c2hLimit);
      this.sendDataPdus(
        PduType.C2HData,
        cid,
        0,
        r.data,
        0,
        total,
        this.maxC2HData,
        PduFlag.LastPdu,
      );
    }
    const at = this.batch.reserve(capsuleRespSize(this.tx));
    writeCapsuleResp(
      this.batch.buf,
      at,
      cid,
      r.status & STATUS_FIELD_MASK,
      this.sqHead,
      this.qid,
      r.dw0 ?? 0,
      r.dw1 ?? 0,
      this.tx,
    );
  }

  protected onTerminated(): void {
    this.transfers.drain();
    this.handler = undefined;
  }
}

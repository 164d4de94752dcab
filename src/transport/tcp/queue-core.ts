/**
 * What the host and the controller end of an NVMe/TCP connection share (SPDK
 * include/spdk_internal/nvme_tcp.h plays this part there): the socket, the PDU reader, the
 * negotiated digest and alignment rules, corked batched writes, the connection state and the
 * fatal-error path that sends a TermReq with the right FES and closes only this connection.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { sliceBuffers } from './buffer-list.js';
import { dataDigest, DIGEST_SIZE } from './digest.js';
import { TcpConnectionClosedError, TcpTransportError, TermReqFes, fesName } from './errors.js';
import {
  CH_FLAGS,
  CH_HLEN,
  CH_SIZE,
  CH_TYPE,
  type HeaderRules,
  INITIAL_PDO_ALIGNMENT,
  type Pdu,
  PduFlag,
  PduType,
  TERM_REQ_MAX_DATA,
  type TxRules,
  checkCommonHeader,
  dataPduHeaderSize,
  decodeCheckedPdu,
  encodeTermReq,
  writeDataPduHeader,
} from './pdu.js';
import { PduReader } from './pdu-reader.js';
import { TxBatch } from './tx-batch.js';

/** The life of a connection; changed only through setState(). */
export const enum QueueState {
  /** TCP connected, waiting for ICReq (controller) or ICResp (host). */
  Initializing = 0,
  Ready = 1,
  /** A fatal error or close() happened: nothing more is read or sent but the TermReq. */
  Terminating = 2,
  Closed = 3,
}

const STATE_NAMES = ['initializing', 'ready', 'terminating', 'closed'];

/** How long a terminating connection waits for the peer to close before destroying the socket. */
const TERMINATE_LINGER_MS = 2000;

export abstract class TcpQueueCore extends EventEmitter {
  private stateValue = QueueState.Initializing;
  /** Rules for PDUs we receive (updated by the IC exchange). */
  protected readonly rx: HeaderRules;
  /** Rules for PDUs we send (updated by the IC exchange). */
  protected readonly tx: TxRules = {
    hdgst: false,
    ddgst: false,
    pdoAlignment: INITIAL_PDO_ALIGNMENT,
  };
  protected readonly reader: PduReader;
  /** This tick's outgoing PDUs: headers encoded in place, payloads as views, one writev. */
  protected readonly batch: TxBatch;
  /** Data section length of the PDU whose header onHeader() checked last (the one onPdu gets). */
  private rxDataLength = 0;
  private closeReason: Error | undefined;
  protected readonly log: Logger;

  protected constructor(
    protected readonly socket: Socket,
    controller: boolean,
    logger: Logger,
    /** "address:port" of the peer, kept for messages after the socket is gone. */
    readonly remoteAddress: string,
  ) {
    super();
    this.log = logger;
    this.rx = { controller, hdgst: false, ddgst: false, pdoAlignment: INITIAL_PDO_ALIGNMENT };
    this.reader = new PduReader({
      onHeader: (buf, at) => this.onHeader(buf, at),
      onPdu: (pdu) => this.onPdu(pdu, 0, pdu.length),
      onPduAt: (buf, at, plen) => this.onPdu(buf, at, plen),
    });
    this.batch = new TxBatch(socket);
    // Every PDU batch is complete when written: Nagle would only add latency (Linux nvme-tcp
    // and SPDK set TCP_NODELAY too).
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      this.log.debug({ err }, 'socket error');
      // After our own shutdown, a write error while flushing does not change why we closed.
      if (this.stateValue >= QueueState.Terminating) return;
      this.closeReason ??= new TcpConnectionClosedError(
        `NVMe/TCP connection failed: ${err.message}`,
      );
    });
    socket.on('close', () => this.onSocketClose());
  }

  get state(): QueueState {
    return this.stateValue;
  }

  protected setState(next: QueueState): void {
    if (next === this.stateValue) return;
    this.log.trace({ from: STATE_NAMES[this.stateValue], to: STATE_NAMES[next] }, 'queue state');
    this.stateValue = next;
  }

  /** Negotiated digests, for logs and tests. */
  get digests(): { hdgst: boolean; ddgst: boolean } {
    return { hdgst: this.rx.hdgst, ddgst: this.rx.ddgst };
  }

  /** Role-specific header checks: PDU type allowed in this state, data size limits. */
  protected abstract checkHeader(type: PduType, dataLength: number): void;
  /** Role-specific meaning of a checked, decoded PDU. Throw TcpTransportError for fatal errors. */
  protected abstract handlePdu(pdu: Pdu): void;
  /** Called once when the connection stops working: fail what is outstanding. */
  protected abstract onTerminated(err: Error): void;

  /** Bytes from the socket ('data', or a subclass's `onread` callback). */
  protected onData(chunk: Buffer): void {
    if (this.stateValue >= QueueState.Terminating) return;
    try {
      this.reader.push(chunk);
    } catch (err) {
      this.fatal(err);
    }
  }

  private onHeader(buf: Buffer, at: number): void {
    // A PDU that follows a fatal one in the same chunk is not looked at.
    if (this.stateValue >= QueueState.Terminating) throw STOP;
    try {
      this.rxDataLength = checkCommonHeader(buf, at, this.rx);
      this.checkHeader(buf[at + CH_TYPE] as PduType, this.rxDataLength);
    } catch (err) {
      if (err instanceof TcpTransportError)
        err.header ??= Buffer.from(buf.subarray(at, at + CH_SIZE));
      throw err;
    }
  }

  /** A whole PDU, `plen` bytes of `buf` from `at`, its common header checked by onHeader(). */
  private onPdu(buf: Buffer, at: number, plen: number): void {
    if (this.stateValue >= QueueState.Terminating) throw STOP;
    try {
      const dataLength = this.rxDataLength;
      const hdgst = (buf[at + CH_FLAGS] & PduFlag.HeaderDigest) !== 0;
      if (hdgst || !this.handleInPlace(buf, at, plen, dataLength)) {
        const pdu = at === 0 && plen === buf.length ? buf : buf.subarray(at, at + plen);
        this.handlePdu(decodeCheckedPdu(pdu, dataLength));
      }
    } catch (err) {
      if (err instanceof TcpTransportError && !err.header) {
        const hlen = Math.min(buf[at + CH_HLEN] || CH_SIZE, TERM_REQ_MAX_DATA, plen);
        err.header = Buffer.from(buf.subarray(at, at + hlen));
      }
      throw err;
    }
  }

  /**
   * The data path's PDUs, taken straight from the receive buffer: no view of the whole PDU and
   * no decoded object. Returns false to have the PDU decoded and given to handlePdu() instead
   * (the default, and what a subclass does for anything unusual, so that the one decoder reports
   * it). Never sees a PDU with a header digest: those take the checked, decoded path.
   */
  protected handleInPlace(_buf: Buffer, _at: number, _plen: number, _dataLength: number): boolean {
    return false;
  }

  /** Whether the data of a data-carrying PDU (`plen` bytes at `at`) matches its DDGST, if any. */
  protected dataDigestOk(buf: Buffer, at: number, plen: number, data: Buffer): boolean {
    if ((buf[at + CH_FLAGS] & PduFlag.DataDigest) === 0) return true;
    return buf.readUInt32LE(at + plen - DIGEST_SIZE) === dataDigest(data);
  }

  /** Queues an encoded PDU (ICReq/ICResp, TermReq) for sending in this tick's batch. */
  protected write(pdu: Buffer): void {
    this.batch.bytes(pdu);
  }

  /**
   * Sends a PDU's data section after its header (already written in the batch): the buffers as
   * they are (no copy), then the data digest when negotiated.
   */
  protected sendData(data: Buffer | readonly Buffer[]): void {
    if (Buffer.isBuffer(data)) this.batch.data(data);
    else for (const part of data) this.batch.data(part);
    if (this.tx.ddgst) {
      const at = this.batch.reserve(DIGEST_SIZE);
      this.batch.buf.writeUInt32LE(dataDigest(data) >>> 0, at);
    }
  }

  /**
   * Sends bytes [offset, offset+length) of `data` as H2CData or C2HData PDUs of at most
   * `maxPerPdu` data bytes, each a view of `data` behind a header written in the batch;
   * `lastFlags` (LAST_PDU, SUCCESS) go on the final one.
   */
  protected sendDataPdus(
    type: PduType.H2CData | PduType.C2HData,
    cccid: number,
    ttag: number,
    data: Buffer | readonly Buffer[],
    offset: number,
    length: number,
    maxPerPdu: number,
    lastFlags: number,
  ): void {
    const end = offset + length;
    for (let off = offset; off < end;) {
      const n = Math.min(maxPerPdu, end - off);
      const flags = off + n === end ? lastFlags : 0;
      const at = this.batch.reserve(dataPduHeaderSize(n, this.tx));
      writeDataPduHeader(this.batch.buf, at, type, flags, cccid, ttag, off, n, this.tx, n);
      this.sendData(sliceBuffers(data, off, n));
      off += n;
    }
  }

  /**
   * A fatal error: TcpTransportError → TermReq with its FES/FEI (unless the spec says close
   * silently), anything else → log as a bug and close. Only this connection goes away.
   */
  protected fatal(err: unknown): void {
    if (err === STOP || this.stateValue >= QueueState.Terminating) return;
    if (err instanceof TcpTransportError) {
      this.log.warn({ fes: err.fes, fei: err.fei, code: err.code }, err.message);
      if (err.sendTermReq) this.sendTermReq(err.fes, err.fei, err.header);
      this.shutdown(err);
      return;
    }
    this.log.error({ err }, 'internal error in the NVMe/TCP queue; closing the connection');
    this.shutdown(err instanceof Error ? err : new Error(String(err)));
  }

  /** Sends our TermReq (H2C on the host, C2H on the controller), then closes. */
  terminate(fes: TermReqFes, fei: number, message = fesName(fes)): void {
    this.fatal(new TcpTransportError(fes, fei, message));
  }

  protected sendTermReq(fes: number, fei: number, header?: Buffer): void {
    const type = this.rx.controller ? PduType.C2HTermReq : PduType.H2CTermReq;
    this.write(encodeTermReq(type, { fes, fei, header }));
  }

  /**
   * Stops the queue: fails what is outstanding with `reason`, flushes what was written (a
   * TermReq), half-closes, and destroys the socket if the peer does not close in time.
   * `reason` undefined = an orderly local close.
   */
  protected shutdown(reason?: Error): void {
    if (this.stateValue >= QueueState.Terminating) return;
    this.setState(QueueState.Terminating);
    this.closeReason = reason;
    this.onTerminated(reason ?? new TcpConnectionClosedError('NVMe/TCP queue closed'));
    this.batch.flush();
    if (this.socket.destroyed) return;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), TERMINATE_LINGER_MS).unref();
  }

  /** Destroys the connection at once (no TermReq, no flush). */
  destroy(reason?: Error): void {
    this.shutdown(reason);
    this.socket.destroy();
  }

  private onSocketClose(): void {
    if (this.stateValue === QueueState.Closed) return;
    if (this.stateValue < QueueState.Terminating) {
      this.setState(QueueState.Terminating);
      this.closeReason ??= new TcpConnectionClosedError('NVMe/TCP connection closed by the peer');
      this.onTerminated(this.closeReason);
    }
    this.setState(QueueState.Closed);
    this.emit('close', this.closeReason);
  }
}

/** Thrown inside the reader to stop at the first PDU after a fatal one; swallowed by fatal(). */
const STOP = Symbol('stop reading');

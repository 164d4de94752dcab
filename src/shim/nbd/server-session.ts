/**
 * One client connection to the NBD server: the fixed newstyle handshake, then transmission.
 * A state machine over the framer (STYLE.md rule 4): the state is one enum changed only by
 * `setState()`. Requests run concurrently and are answered as they complete (proto.md allows
 * out-of-order replies); a bad request or a bdev failure answers that request only, and only a
 * protocol violation ends the connection.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { decodeOptionCode, encodeGreeting } from './handshake-codec.js';
import { NbdError, NbdProtocolError } from './nbd-error.js';
import type { NbdExport } from './nbd-export.js';
import { FrameKind, NbdFramer, type Frame } from './nbd-framer.js';
import { OptionNegotiator, optionName } from './option-negotiator.js';
import {
  ClientFlag,
  HandshakeFlag,
  INTEROPERABLE_MAXIMUM_BLOCK_SIZE,
  NbdCommand,
} from './protocol.js';
import { ReplyBatch } from './reply-batch.js';
import {
  errorReply,
  executeRequest,
  validateRequest,
  writeReply,
  type NbdRequest,
  type RequestResult,
  type TransmissionContext,
} from './request-handler.js';
import { commandName, decodeRequest } from './transmission-codec.js';

export const enum SessionState {
  /** Greeting sent; waiting for the client flags. */
  AwaitClientFlags = 'await-client-flags',
  Options = 'options',
  Transmission = 'transmission',
  /** NBD_CMD_DISC or server shutdown: no new requests; close once in-flight ones are answered. */
  Draining = 'draining',
  Closed = 'closed',
}

/** Option data larger than this is a denial of service (names and queries are ≤ 4096 bytes). */
const MAX_OPTION_DATA = 64 * 1024;
/**
 * WRITE payloads are read up to twice the maximum block size so that an oversized write gets an
 * EINVAL reply (as nbdkit skips them); beyond that the connection is dropped.
 */
const MAX_WRITE_PAYLOAD = 2 * INTEROPERABLE_MAXIMUM_BLOCK_SIZE;
/** Requests served at once per connection before reading pauses. */
const MAX_IN_FLIGHT = 256;
/**
 * Reply bytes queued on the socket (not yet taken by the kernel) before reading pauses: a client
 * that stops reading replies cannot make us buffer without bound. It is far above the socket's
 * high-water mark on purpose: a turn's replies wait corked in the ReplyBatch, so a few 4 KiB READ
 * replies pass the 16 KiB mark every turn, and pausing there meant readStop, then readStart on
 * 'drain' (measured at QD32 random reads: 0.17 epoll_ctl calls per I/O, now none) and requests
 * left unread for a turn. MAX_IN_FLIGHT READs of 4 KiB fit well below it.
 */
const MAX_UNSENT_REPLY_BYTES = 4 * 1024 * 1024;
const KNOWN_CLIENT_FLAGS = ClientFlag.FixedNewstyle | ClientFlag.NoZeroes;

export class ServerSession {
  private state = SessionState.AwaitClientFlags;
  private readonly framer = new NbdFramer(FrameKind.ClientFlags, { maxPayload: MAX_OPTION_DATA });
  /** This turn's outgoing messages: headers encoded in place, one send per turn. */
  private readonly batch: ReplyBatch;
  private negotiator: OptionNegotiator | undefined;
  private ctx: TransmissionContext | undefined;
  private inFlight = 0;
  private paused = false;
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;

  constructor(
    private readonly socket: Socket,
    private readonly exports: readonly NbdExport[],
    private readonly log: Logger,
    /** The socket emits 'data' (false when its reads arrive through `received`, onread). */
    dataEvents = true,
  ) {
    this.batch = new ReplyBatch(socket);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('close', () => this.setState(SessionState.Closed));
    socket.on('error', (err) => this.log.debug({ err }, 'socket error'));
    if (dataEvents) socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('drain', () => this.updateFlow());
  }

  start(): void {
    this.batch.write([encodeGreeting(HandshakeFlag.FixedNewstyle | HandshakeFlag.NoZeroes)]);
  }

  /** Server shutdown: answers in-flight requests, then closes (proto.md "Terminating"). */
  async shutdown(): Promise<void> {
    if (this.state === SessionState.Transmission) this.drain();
    else if (this.state !== SessionState.Draining) this.socket.destroy();
    await this.closed;
  }

  private setState(next: SessionState): void {
    if (this.state === next || this.state === SessionState.Closed) return;
    this.log.trace({ from: this.state, to: next }, 'session state');
    this.state = next;
  }

  /** Bytes read from the client (a 'data' event or the socket's `onread` callback). */
  received(chunk: Buffer): void {
    if (this.state === SessionState.Draining || this.state === SessionState.Closed) return;
    try {
      this.framer.push(chunk, (frame) => this.onFrame(frame));
    } catch (err) {
      this.hardDisconnect(err);
    }
  }

  private onFrame(frame: Frame): void {
    switch (this.state) {
      case SessionState.AwaitClientFlags:
        return this.onClientFlags(frame.header.readUInt32BE(0));
      case SessionState.Options:
        return this.onOption(decodeOptionCode(frame.header), frame.payload);
      case SessionState.Transmission:
        return this.onRequest(frame);
      default:
        // proto.md: nothing may follow NBD_CMD_DISC; anything that does is ignored.
        return;
    }
  }

  private onClientFlags(flags: number): void {
    // proto.md "Client flags": the server MUST drop the connection on an unknown flag.
    if (flags & ~KNOWN_CLIENT_FLAGS) {
      throw new NbdProtocolError(
        'NBD_ERR_BAD_CLIENT_FLAGS',
        `client flags 0x${flags.toString(16)} include unknown bits`,
      );
    }
    this.negotiator = new OptionNegotiator(this.exports, (flags & ClientFlag.NoZeroes) !== 0);
    this.framer.expect = FrameKind.Option;
    this.setState(SessionState.Options);
  }

  private onOption(option: number, data: Buffer): void {
    const outcome = this.negotiator!.handle(option, data);
    this.log.debug({ option: optionName(option), outcome: outcome.kind }, 'option');
    switch (outcome.kind) {
      case 'continue':
        this.batch.write(outcome.replies);
        return;
      case 'transmission':
        this.batch.write(outcome.replies);
        this.ctx = {
          export: outcome.export,
          structuredReplies: this.negotiator!.structuredReplies,
          baseAllocation: outcome.baseAllocation,
        };
        this.framer.expect = FrameKind.Request;
        this.framer.maxPayload = MAX_WRITE_PAYLOAD;
        this.log.info(
          { export: outcome.export.name, structuredReplies: this.ctx.structuredReplies },
          'client entered transmission',
        );
        this.setState(SessionState.Transmission);
        return;
      case 'abort':
        this.batch.write(outcome.replies);
        this.setState(SessionState.Draining);
        this.finish();
        return;
      case 'disconnect':
        throw new NbdProtocolError('NBD_ERR_UNKNOWN_EXPORT', outcome.reason);
    }
  }

  private onRequest(frame: Frame): void {
    const req: NbdRequest = decodeRequest(frame.header, frame.payload);
    if (req.type === NbdCommand.Disc) {
      this.log.debug('client sent NBD_CMD_DISC');
      this.drain();
      return;
    }
    this.inFlight++;
    this.updateFlow();
    this.serve(req, this.ctx!);
  }

  /** Runs a request; its reply joins this turn's batch when it completes. */
  private serve(req: NbdRequest, ctx: TransmissionContext): void {
    let pending: Promise<RequestResult>;
    try {
      validateRequest(req, ctx);
      pending = executeRequest(req, ctx);
    } catch (err) {
      this.failed(req, ctx, err);
      return;
    }
    pending.then(
      (result) => {
        writeReply(this.batch, req, ctx, result);
        this.answered();
      },
      (err: unknown) => this.failed(req, ctx, err),
    );
  }

  private failed(req: NbdRequest, ctx: TransmissionContext, err: unknown): void {
    // A refused request is the client's doing (debug); a bdev failure is worth a warning.
    const level = err instanceof NbdError ? 'debug' : 'warn';
    this.log[level](
      { err, cmd: commandName(req.type), offset: req.offset, length: req.length },
      'request failed',
    );
    this.batch.write(errorReply(req, ctx, err));
    this.answered();
  }

  private answered(): void {
    this.inFlight--;
    if (this.state === SessionState.Draining) {
      if (this.inFlight === 0) this.finish();
    } else this.updateFlow();
  }

  /** Pauses reading while too many requests are in flight or too many replies are unsent. */
  private updateFlow(): void {
    if (this.state !== SessionState.Transmission) return;
    // Above MAX_UNSENT_REPLY_BYTES the socket's write() has returned false, so 'drain' follows.
    const busy =
      this.inFlight >= MAX_IN_FLIGHT || this.socket.writableLength >= MAX_UNSENT_REPLY_BYTES;
    if (busy && !this.paused) this.socket.pause();
    else if (!busy && this.paused) this.socket.resume();
    this.paused = busy;
  }

  private drain(): void {
    this.setState(SessionState.Draining);
    this.socket.pause();
    if (this.inFlight === 0) this.finish();
  }

  /** Closes after everything written so far has been flushed to the kernel. */
  private finish(): void {
    this.batch.flush();
    this.socket.end(() => this.socket.destroy());
  }

  private hardDisconnect(err: unknown): void {
    this.log.warn({ err }, 'protocol violation; closing the connection');
    this.setState(SessionState.Closed);
    this.socket.destroy();
  }
}

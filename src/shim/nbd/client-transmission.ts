/**
 * The client's transmission phase on one connection (proto.md "Transmission"): numbered requests
 * out, replies in, completions handed on. Built for latency the way libnbd is, because
 * nvmf-bench measures through it and is compared with fio's libnbd engine:
 * - a request goes on the wire when it is issued, header and payload as one corked pair (one
 *   writev, no copy), never held back to batch with requests issued later in the tick — that
 *   wait would count in the latency measured from issue to completion (fio's clat);
 * - replies are read as libnbd reads them (ReplyReader): a header into a small buffer, then the
 *   data straight into the caller's buffer, one reply at a time — no allocation or copy per
 *   reply or handle (handles are numbers), so the garbage collector's pauses stay out of the
 *   measured latencies, and a backlog of replies is taken one by one, not in one gulp;
 * - completions are handed on one per microtask, in reply order. fio's nbd engine reaps one
 *   reply per nbd_poll() and queues the next command before it reaps another; a caller that
 *   resubmits on completion likewise gets its request out before the next completion reaches
 *   it, instead of a burst of completions followed by a burst of submissions.
 */
import type net from 'node:net';
import type { Logger } from 'pino';
import type { BdevStats } from '../../bdev/bdev.js';
import { nbdConnectionLostError, nbdErrnoToStatus, NbdProtocolError } from './nbd-error.js';
import {
  PendingRequest,
  type Failure,
  type IoCompletion,
  type ReplyResult,
  type RequestOwner,
} from './pending-request.js';
import { INTEROPERABLE_MAXIMUM_BLOCK_SIZE, NbdCommand, REQUEST_HEADER_SIZE } from './protocol.js';
import { ReplyReader } from './reply-reader.js';
import { commandName, encodeRequestHeader, writeRequestHeader } from './transmission-codec.js';

/** A non-data reply chunk (block status, error) is accepted up to this size. */
const MAX_REPLY_PAYLOAD = 2 * INTEROPERABLE_MAXIMUM_BLOCK_SIZE;
const WRITES = new Set<number>([NbdCommand.Write, NbdCommand.WriteZeroes, NbdCommand.Trim]);

/**
 * A handle is `sequence * SLOT_SPAN + slot`: the slot finds the request without a Map (whose
 * rehashing allocates as requests come and go), the sequence keeps handles unique on the wire
 * (a stale or duplicate reply names a handle no request has). Up to SLOT_SPAN requests in
 * flight, and 2^53 / SLOT_SPAN = 2^37 requests per connection.
 */
const SLOT_SPAN = 0x1_0000;

/**
 * Queues a microtask: `RESOLVED.then(fn)` costs a reaction and a promise, where Node's
 * queueMicrotask adds an AsyncResource and a bound function per call — per completion here.
 */
const RESOLVED = Promise.resolve();

/** How a request is named in errors; built only when one occurs. */
const describe = (type: NbdCommand, offset: number, length: number, name: string): string =>
  `NBD ${commandName(type)} ${offset}+${length} on ${name}`;

export class ClientTransmission {
  /** Request objects by slot (a handle's low bits), reused; `free` lists the idle slots. */
  private readonly slots: PendingRequest[] = [];
  private readonly free: number[] = [];
  /** Requests sent and not yet settled. */
  private inFlight = 0;
  /** A called-back request that settled in the reply just read, delivered by `settled`. */
  private ready: PendingRequest | undefined;
  private readonly reader: ReplyReader;
  /** The sequence part of the next handle (see SLOT_SPAN). */
  private nextSequence = 1;
  /**
   * Settled requests waiting to be handed on, in reply order: `completed[delivered]` up to
   * `completed[settledCount - 1]`. The array is reused, never truncated: emptying it with
   * `length = 0` would free its backing store and make the next push allocate one, per reply.
   */
  private readonly completed: Array<PendingRequest | undefined> = [];
  private settledCount = 0;
  private delivered = 0;
  /** Why no more requests can be sent; undefined while the connection is usable. */
  private closedBy: string | undefined;
  private idle: (() => void) | undefined;

  /** What every request reports to (PendingRequest's owner): one object, nothing per request. */
  private readonly owner: RequestOwner = {
    settled: (p) => {
      if (p.completion && this.settledCount === 0) {
        this.ready = p; // nothing queued ahead: called back once the reader is done with it
        return;
      }
      this.completed[this.settledCount++] = p;
      if (this.settledCount === 1) void RESOLVED.then(this.deliverNext);
    },
    failure: (p, f) => {
      this.stats.errors++;
      if (f instanceof Error) return f;
      const what = describe(p.type, p.offset, p.length, this.name);
      const err = nbdErrnoToStatus(f.errno, what, WRITES.has(p.type));
      if (f.message) err.message += ` (${f.message})`;
      return err;
    },
  };

  /**
   * Hands on one completion, then queues the next behind the microtask its caller's continuation
   * was just queued as (a promise resolved with a plain value resumes its awaiter in one tick).
   */
  private readonly deliverNext = (): void => {
    const p = this.completed[this.delivered]!;
    this.completed[this.delivered++] = undefined; // the queue keeps no settled request alive
    this.hand(p);
    if (this.delivered < this.settledCount) void RESOLVED.then(this.deliverNext);
    else {
      this.settledCount = 0;
      this.delivered = 0;
    }
  };

  constructor(
    private readonly socket: net.Socket,
    /** The client's name, for errors. */
    private readonly name: string,
    private readonly stats: BdevStats,
    /** base:allocation context id, for BLOCK_STATUS replies. */
    private readonly contextId: number | undefined,
    private readonly log: Logger,
  ) {
    this.reader = new ReplyReader(
      { pendingFor: (h) => this.pendingFor(h), settled: (h) => this.settled(h) },
      MAX_REPLY_PAYLOAD,
    );
  }

  /** Where the next socket read should land (Node's `onread` buffer). */
  nextReadBuffer(): Buffer {
    return this.reader.nextReadBuffer();
  }

  /** `n` bytes were read into `buf` (valid only during the call). */
  received(buf: Buffer, n: number): void {
    try {
      this.reader.received(buf, n);
    } catch (err) {
      this.abort(err as Error);
    }
  }

  /** Whether requests can still be sent. */
  get open(): boolean {
    return this.closedBy === undefined;
  }

  /**
   * A request as a promise of its result. The result is copied out of the request object, which
   * is reused once delivered.
   */
  request(
    type: NbdCommand,
    flags: number,
    offset: number,
    length: number,
    data?: Buffer,
    into?: Buffer,
  ): Promise<ReplyResult> {
    return new Promise<ReplyResult>((resolve, reject) =>
      this.send(
        type,
        flags,
        offset,
        length,
        data,
        (r) => resolve({ data: r.data, descriptors: r.descriptors }),
        reject,
        into,
      ),
    );
  }

  /**
   * fio's queue/complete style: sends a request whose outcome goes to `completion` — after the
   * reply was read, never during this call (a closed connection is reported a microtask later).
   * READ data lands in `into` (exactly `length` bytes). No promise or closure per request.
   */
  queue(
    type: NbdCommand,
    flags: number,
    offset: number,
    length: number,
    data: Buffer | undefined,
    into: Buffer | undefined,
    completion: IoCompletion,
  ): void {
    if (this.closedBy) {
      const err = nbdConnectionLostError(describe(type, offset, length, this.name), this.closedBy);
      void RESOLVED.then(() => completion.ioDone(err));
      return;
    }
    this.start(type, flags, offset, length, data, undefined, undefined, into, completion);
  }

  /**
   * Registers a request and puts it on the wire now; its reply settles it through the reader.
   * `reject` receives Errors only: the owner's `failure` turns server errors into them.
   */
  send(
    type: NbdCommand,
    flags: number,
    offset: number,
    length: number,
    data: Buffer | undefined,
    resolve: (r: ReplyResult) => void,
    reject: (e: Failure) => void,
    into?: Buffer,
  ): void {
    if (this.closedBy) {
      reject(nbdConnectionLostError(describe(type, offset, length, this.name), this.closedBy));
      return;
    }
    this.start(type, flags, offset, length, data, resolve, reject, into, undefined);
  }

  /** Resolves once no request is in flight. */
  async drained(): Promise<void> {
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
  }

  /** Sends NBD_CMD_DISC; no request can follow (proto.md "Terminating the transmission phase"). */
  disconnect(): void {
    if (this.closedBy) return;
    const handle = this.nextSequence++ * SLOT_SPAN; // no slot: DISC has no reply
    this.transmit(
      encodeRequestHeader({ flags: 0, type: NbdCommand.Disc, handle, offset: 0, length: 0 }),
      undefined,
    );
    this.closedBy = 'closed by the client';
  }

  /** The connection is gone or unusable: every pending request fails as a lost connection. */
  abort(err: Error): void {
    if (!this.closedBy) {
      this.closedBy = err.message;
      this.log.warn({ err }, 'NBD connection lost');
    }
    for (const p of this.slots) {
      if (p.handle === 0) continue; // idle, or settled and waiting for delivery
      p.handle = 0;
      this.inFlight--;
      p.lost(nbdConnectionLostError(`NBD ${commandName(p.type)} on ${this.name}`, this.closedBy));
      this.release(p);
    }
    this.idle?.();
    this.idle = undefined;
    this.socket.destroy();
  }

  /** Takes a request object (reused when one is idle), fills in its header and sends it. */
  private start(
    type: NbdCommand,
    flags: number,
    offset: number,
    length: number,
    data: Buffer | undefined,
    resolve: ((r: ReplyResult) => void) | undefined,
    reject: ((e: Failure) => void) | undefined,
    into: Buffer | undefined,
    completion: IoCompletion | undefined,
  ): void {
    let p: PendingRequest;
    if (this.free.length > 0) p = this.slots[this.free.pop()!];
    else if (this.slots.length < SLOT_SPAN) {
      const index = this.slots.length;
      p = new PendingRequest(
        type,
        0,
        0,
        this.contextId,
        resolve!,
        reject!,
        undefined,
        this.owner,
        index,
      );
      this.slots.push(p);
    } else {
      const err = new NbdProtocolError(
        'NBD_ERR_TOO_LARGE',
        `${describe(type, offset, length, this.name)}: more than ${SLOT_SPAN} requests in flight`,
      );
      if (completion) void RESOLVED.then(() => completion.ioDone(err));
      else reject!(err);
      return;
    }
    p.reuse(type, offset, length, resolve, reject, into, completion);
    const handle = this.nextSequence++ * SLOT_SPAN + p.index;
    p.handle = handle;
    this.inFlight++;
    // The header buffer is rewritten only after the reply came, i.e. after the server read it.
    const h = (p.header ??= Buffer.allocUnsafe(REQUEST_HEADER_SIZE));
    writeRequestHeader(h, flags, type, handle, offset, length);
    this.transmit(h, data);
  }

  /** Hands a settled request's outcome on and returns the object to the pool. */
  private hand(p: PendingRequest): void {
    if (p.completion && p.ok) {
      // A called-back request's caller has no NbdClient wrapper to count it.
      if (p.type === NbdCommand.Read) {
        this.stats.readOps++;
        this.stats.readBytes += p.length;
      } else if (p.type === NbdCommand.Write) {
        this.stats.writeOps++;
        this.stats.writeBytes += p.length;
      }
    }
    p.deliver();
    this.release(p);
  }

  private release(p: PendingRequest): void {
    p.clear();
    this.free.push(p.index);
  }

  private transmit(header: Buffer, data: Buffer | undefined): void {
    const s = this.socket;
    if (s.destroyed || !s.writable) return; // the close handler fails what is pending
    if (data && data.length > 0) {
      s.cork();
      s.write(header);
      s.write(data);
      s.uncork();
    } else s.write(header);
  }

  private pendingFor(handle: number): PendingRequest {
    const p = this.slots[handle % SLOT_SPAN];
    if (p === undefined || p.handle !== handle || handle === 0) {
      throw new NbdProtocolError('NBD_ERR_UNEXPECTED_REPLY', `reply for unknown handle ${handle}`);
    }
    return p;
  }

  private settled(handle: number): void {
    const p = this.slots[handle % SLOT_SPAN];
    p.handle = 0;
    this.inFlight--;
    if (this.inFlight === 0 && this.idle) {
      this.idle();
      this.idle = undefined;
    }
    const ready = this.ready;
    if (ready) {
      this.ready = undefined;
      this.hand(ready);
    }
  }
}

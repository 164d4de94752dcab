/**
 * A client request waiting for its reply: collects the chunks of a structured reply (content
 * chunks in any order, errors, block status) or takes a simple reply, and settles once, when the
 * final chunk arrives (proto.md "Structured reply chunk message", "NBD_CMD_READ"). READ content
 * arrives either as whole chunk payloads (`chunk`) or streamed by the ReplyReader, which claims a
 * range (`beginContent`) and copies the bytes into `destination()` itself. With an owner, the
 * outcome is held until the owner calls `deliver()` (the client hands completions on one at a
 * time) and failures become the owner's errors; without, it is delivered at once, as is.
 * A request may instead carry an IoCompletion, called back with no promise at all (fio's
 * queue/complete style); the owner then reuses the request object for later requests (`reuse`).
 */
import { NbdProtocolError } from './nbd-error.js';
import { NbdCommand, NbdErrno, ReplyType, REPLY_TYPE_ERROR_BIT } from './protocol.js';
import {
  decodeBlockStatus,
  decodeErrorChunk,
  decodeOffsetData,
  decodeOffsetHole,
  type BlockDescriptor,
  type ChunkHeader,
  type ErrorChunk,
} from './transmission-codec.js';

export interface ReplyResult {
  /** READ data: exactly the requested length. */
  data?: Buffer;
  /** BLOCK_STATUS descriptors of the requested context. */
  descriptors?: BlockDescriptor[];
}

/** An NBD error value from the server, or an Error when the request could not complete. */
export type Failure = { errno: number; message: string } | Error;

/** The client that issued a request: one object for all its requests (nothing per request). */
export interface RequestOwner {
  /** The request has settled; the owner calls `deliver()` when it chooses. */
  settled(p: PendingRequest): void;
  /** The error the request fails with, for a server error value or a lost connection. */
  failure(p: PendingRequest, f: Failure): Error;
}

/**
 * Called back once when a request completes, instead of a promise settling: nvmf-bench's queue
 * slots implement it, so that a read or write costs no promise, closure or result object.
 */
export interface IoCompletion {
  /** Success (READ data is in the caller's buffer) when `err` is undefined. */
  ioDone(err: Error | undefined): void;
}

const ignore = (): void => {};

export class PendingRequest {
  /** The handle on the wire while in flight, 0 once settled (owner-managed). */
  handle = 0;
  /** The request header this object sends, reused with the object (owner-managed). */
  header: Buffer | undefined;
  /** Whole-request view when one content chunk covered it, else the assembled copy. */
  private content: Buffer | undefined;
  private covered = 0;
  private error: ErrorChunk | undefined;
  private blockDescriptors: BlockDescriptor[] | undefined;
  /** The outcome once settled, until delivered. */
  private succeeded = false;
  private outcome: ReplyResult | Failure | undefined;

  /** Called back instead of `resolve`/`reject` when set. */
  completion: IoCompletion | undefined;

  constructor(
    public type: NbdCommand,
    public offset: number,
    public length: number,
    /** base:allocation context id, for BLOCK_STATUS. */
    private readonly contextId: number | undefined,
    private resolve: (r: ReplyResult) => void,
    private reject: (e: Failure) => void,
    /** Where READ data goes (exactly `length` bytes); a new buffer when not given. */
    private into?: Buffer,
    private readonly owner?: RequestOwner,
    /** The owner's index for this object (its slot in a table of reusable requests). */
    readonly index = 0,
  ) {}

  /**
   * Makes a settled and delivered (or new) object a fresh request, so that an owner reuses its
   * request objects instead of allocating one per request. With `completion`, the outcome goes
   * to it and `resolve`/`reject` are not used.
   */
  reuse(
    type: NbdCommand,
    offset: number,
    length: number,
    resolve: ((r: ReplyResult) => void) | undefined,
    reject: ((e: Failure) => void) | undefined,
    into: Buffer | undefined,
    completion: IoCompletion | undefined,
  ): void {
    this.type = type;
    this.offset = offset;
    this.length = length;
    this.resolve = resolve ?? ignore;
    this.reject = reject ?? ignore;
    this.into = into;
    this.completion = completion;
    this.content = undefined;
    this.covered = 0;
    this.error = undefined;
    this.blockDescriptors = undefined;
    this.succeeded = false;
    this.outcome = undefined;
  }

  /** Drops every reference to the caller's objects (a reusable request waiting in a pool). */
  clear(): void {
    this.reuse(this.type, 0, 0, undefined, undefined, undefined, undefined);
  }

  /** Whether the settled request succeeded. */
  get ok(): boolean {
    return this.succeeded;
  }

  /**
   * A settled request is its own ReplyResult (READ data, BLOCK_STATUS descriptors), so that a
   * success allocates no result object — one per reply otherwise.
   */
  get data(): Buffer | undefined {
    return this.content;
  }

  get descriptors(): BlockDescriptor[] | undefined {
    return this.blockDescriptors;
  }

  /** Hands the settled outcome to `resolve` or `reject`. */
  deliver(): void {
    const outcome = this.outcome!;
    this.outcome = undefined;
    if (!this.succeeded) this.fail(outcome as Failure);
    else if (this.completion) this.completion.ioDone(undefined);
    else this.resolve(outcome as ReplyResult);
  }

  private finish(succeeded: boolean, outcome: ReplyResult | Failure): void {
    this.succeeded = succeeded;
    this.outcome = outcome;
    if (this.owner) this.owner.settled(this);
    else this.deliver();
  }

  private fail(f: Failure): void {
    const err = this.owner ? this.owner.failure(this, f) : f;
    if (this.completion) {
      this.completion.ioDone(err instanceof Error ? err : new Error(`NBD error ${err.errno}`));
    } else this.reject(err);
  }

  /** The connection was lost before the reply came. */
  lost(err: Error): void {
    this.fail(err);
  }

  /**
   * A simple reply: `payload` is the READ data when `error` is 0, unless the data was streamed
   * into `destination()` already.
   */
  simple(error: number, payload?: Buffer): void {
    if (error !== 0) return this.finish(false, { errno: error, message: '' });
    if (this.type !== NbdCommand.Read) return this.finish(true, this);
    if (payload) this.place(this.offset, this.length, payload);
    this.finish(true, this);
  }

  /**
   * Streaming: claims the content `length` bytes at device `offset` (checked as a chunk is) and
   * returns where in `destination()` they go.
   */
  beginContent(offset: number, length: number): number {
    if (this.type !== NbdCommand.Read) throw unexpected('content', this.type);
    return this.claim(offset, length);
  }

  /** The buffer READ data is assembled in. */
  destination(): Buffer {
    return (this.content ??= this.into ?? Buffer.allocUnsafe(this.length));
  }

  /** Streaming: the end of a content chunk; returns true when it was the final one. */
  contentDone(done: boolean): boolean {
    if (!done) return false;
    this.settle();
    return true;
  }

  /** One structured chunk; returns true when it was the final one and the request settled. */
  chunk(h: ChunkHeader, payload: Buffer, done: boolean): boolean {
    switch (h.type) {
      case ReplyType.None:
        break;
      case ReplyType.OffsetData: {
        const { offset, data } = decodeOffsetData(payload);
        this.place(offset, data.length, data);
        break;
      }
      case ReplyType.OffsetHole: {
        const hole = decodeOffsetHole(payload);
        this.place(hole.offset, hole.length, undefined);
        break;
      }
      case ReplyType.BlockStatus: {
        const bs = decodeBlockStatus(payload);
        if (this.type !== NbdCommand.BlockStatus) throw unexpected('BLOCK_STATUS', this.type);
        if (bs.contextId === this.contextId) this.blockDescriptors = bs.descriptors;
        break;
      }
      default:
        // proto.md: an unknown type with bit 15 set errors the request; any other ends the session.
        if (!(h.type & REPLY_TYPE_ERROR_BIT)) throw unexpected(`type ${h.type}`, this.type);
        this.error ??= decodeErrorChunk(h.type, payload);
    }
    if (!done) return false;
    this.settle();
    return true;
  }

  private place(offset: number, length: number, data: Buffer | undefined): void {
    if (this.type !== NbdCommand.Read) throw unexpected('content', this.type);
    const at = this.claim(offset, length);
    if (data && length === this.length && !this.into) {
      this.content = data; // the usual case: one chunk, handed on without a copy
      return;
    }
    // Holes are zeroed here; a range no chunk covered fails the request in settle().
    if (data) data.copy(this.destination(), at);
    else this.destination().fill(0, at, at + length);
  }

  /** Checks a content range against the request and counts it; returns its request offset. */
  private claim(offset: number, length: number): number {
    const at = offset - this.offset;
    // Chunks may not overlap (proto.md), so more bytes than requested means a bad server.
    if (at < 0 || at + length > this.length || this.covered + length > this.length) {
      throw new NbdProtocolError(
        'NBD_ERR_BAD_REPLY',
        `content chunk ${offset}+${length} outside or overlapping the read ${this.offset}+${this.length}`,
      );
    }
    this.covered += length;
    return at;
  }

  private settle(): void {
    if (this.error) {
      this.finish(false, { errno: this.error.errno, message: this.error.message });
    } else if (this.type === NbdCommand.Read && this.covered !== this.length) {
      // proto.md: with no error the server MUST cover the whole region; treat a gap as EIO.
      this.finish(false, {
        errno: NbdErrno.EIO,
        message: `reply covered ${this.covered} of ${this.length} bytes`,
      });
    } else if (this.type === NbdCommand.BlockStatus && !this.blockDescriptors) {
      this.finish(false, {
        errno: NbdErrno.EIO,
        message: 'no block status for the negotiated context',
      });
    } else {
      this.finish(true, this);
    }
  }
}

const unexpected = (what: string, type: NbdCommand) =>
  new NbdProtocolError('NBD_ERR_BAD_REPLY', `${what} chunk in the reply to command ${type}`);

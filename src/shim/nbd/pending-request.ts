/**
 * A client request waiting for its reply: collects the chunks of a structured reply (content
 * chunks in any order, errors, block status) or takes a simple reply, and settles once, when the
 * final chunk arrives (proto.md "Structured reply chunk message", "NBD_CMD_READ").
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

export class PendingRequest {
  /** Whole-request view when one content chunk covered it, else the assembled copy. */
  private data: Buffer | undefined;
  private covered = 0;
  private error: ErrorChunk | undefined;
  private descriptors: BlockDescriptor[] | undefined;

  constructor(
    readonly type: NbdCommand,
    readonly offset: number,
    readonly length: number,
    /** base:allocation context id, for BLOCK_STATUS. */
    private readonly contextId: number | undefined,
    private readonly resolve: (r: ReplyResult) => void,
    /** An NBD error value from the server, or an Error when the request could not complete. */
    private readonly reject: (e: { errno: number; message: string } | Error) => void,
  ) {}

  /** The connection was lost before the reply came. */
  lost(err: Error): void {
    this.reject(err);
  }

  /** A simple reply: `payload` is the READ data when `error` is 0. */
  simple(error: number, payload: Buffer): void {
    if (error !== 0) this.reject({ errno: error, message: '' });
    else this.resolve(this.type === NbdCommand.Read ? { data: payload } : {});
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
        if (bs.contextId === this.contextId) this.descriptors = bs.descriptors;
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
    const at = offset - this.offset;
    // Chunks may not overlap (proto.md), so more bytes than requested means a bad server.
    if (at < 0 || at + length > this.length || this.covered + length > this.length) {
      throw new NbdProtocolError(
        'NBD_ERR_BAD_REPLY',
        `content chunk ${offset}+${length} outside or overlapping the read ${this.offset}+${this.length}`,
      );
    }
    this.covered += length;
    if (data && length === this.length) {
      this.data = data; // the usual case: one chunk, handed on without a copy
      return;
    }
    this.data ??= Buffer.alloc(this.length); // zero-filled, so holes need no writing
    if (data) data.copy(this.data, at);
  }

  private settle(): void {
    if (this.error) {
      this.reject({ errno: this.error.errno, message: this.error.message });
    } else if (this.type === NbdCommand.Read && this.covered !== this.length) {
      // proto.md: with no error the server MUST cover the whole region; treat a gap as EIO.
      this.reject({
        errno: NbdErrno.EIO,
        message: `reply covered ${this.covered} of ${this.length} bytes`,
      });
    } else if (this.type === NbdCommand.BlockStatus && !this.descriptors) {
      this.reject({ errno: NbdErrno.EIO, message: 'no block status for the negotiated context' });
    } else {
      this.resolve({ data: this.data, descriptors: this.descriptors });
    }
  }
}

const unexpected = (what: string, type: NbdCommand) =>
  new NbdProtocolError('NBD_ERR_BAD_REPLY', `${what} chunk in the reply to command ${type}`);

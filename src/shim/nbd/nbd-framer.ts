/**
 * Cuts an NBD byte stream into messages, in the manner of pg-protocol's parser: received chunks
 * are kept as a list, a loop hands out each whole message while one is present, a message lying
 * inside one chunk is a `subarray` view of it, and only a message (header or payload) that spans
 * chunks is copied. The framer knows sizes, not meanings: which kind of message comes next is set
 * by the session's state machine through `expect`, which may change inside the callback.
 */
import { NbdProtocolError } from './nbd-error.js';
import {
  CLIENT_FLAGS_SIZE,
  EXPORT_NAME_REPLY_SIZE,
  EXPORT_NAME_REPLY_ZEROES,
  GREETING_SIZE,
  NBD_OPTS_MAGIC,
  NBD_REP_MAGIC,
  NBD_REQUEST_MAGIC,
  NBD_SIMPLE_REPLY_MAGIC,
  NBD_STRUCTURED_REPLY_MAGIC,
  NbdCommand,
  OPTION_HEADER_SIZE,
  OPTION_LENGTH_OFFSET,
  OPTION_REPLY_HEADER_SIZE,
  OPTION_REPLY_LENGTH_OFFSET,
  REPLY_MAGIC_SIZE,
  REQUEST_HEADER_SIZE,
  REQUEST_LENGTH_OFFSET,
  REQUEST_TYPE_OFFSET,
  SIMPLE_REPLY_ERROR_OFFSET,
  SIMPLE_REPLY_HANDLE_OFFSET,
  SIMPLE_REPLY_SIZE,
  STRUCTURED_REPLY_HEADER_SIZE,
  STRUCTURED_REPLY_LENGTH_OFFSET,
} from './protocol.js';

/** What the next message on the stream is. */
export const enum FrameKind {
  /** Server side: the client's 32-bit flags after the greeting. */
  ClientFlags,
  /** Server side: an option request (IHAVEOPT header + data). */
  Option,
  /** Server side: a transmission request (+ WRITE data). */
  Request,
  /** Client side: NBDMAGIC + IHAVEOPT + handshake flags. */
  Greeting,
  /** Client side: an option reply (header + data). */
  OptionReply,
  /** Client side: the reply to NBD_OPT_EXPORT_NAME, with the 124 zero bytes. */
  ExportNameReply,
  /** Client side: the reply to NBD_OPT_EXPORT_NAME when NO_ZEROES was negotiated. */
  ExportNameReplyNoZeroes,
  /** Client side: a simple reply (+ READ data) or a structured reply chunk (+ payload). */
  Reply,
}

export interface Frame {
  kind: FrameKind;
  /** The fixed-size part, magic included. */
  header: Buffer;
  /** The variable part (option data, WRITE data, READ data, chunk payload); empty when none. */
  payload: Buffer;
}

export interface FramerOptions {
  /** Largest payload accepted at first; a larger one is a denial of service, ending the stream. */
  maxPayload: number;
  /**
   * Client side: the READ data length that follows a simple reply, which only the sender of the
   * request knows (proto.md "Simple reply message"): the read's length when `error` is 0 and the
   * handle is a pending READ without structured replies, else 0.
   */
  simpleReplyDataLength?: (handle: bigint, error: number) => number;
}

const EMPTY = Buffer.alloc(0);

export class NbdFramer {
  /** Kind of the next message; the state machine sets it (also from inside the callback). */
  expect: FrameKind;
  /** Largest payload accepted from now on (the state machine lowers it during negotiation). */
  maxPayload: number;
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  /** Header of a message whose payload has not fully arrived. */
  private header: Buffer | undefined;
  private headerKind: FrameKind = FrameKind.Option;
  private payloadLength = 0;

  constructor(
    expect: FrameKind,
    private readonly opts: FramerOptions,
  ) {
    this.expect = expect;
    this.maxPayload = opts.maxPayload;
  }

  /** Bytes received and not yet handed out. */
  get pending(): number {
    return this.buffered + (this.header ? this.header.length : 0);
  }

  /**
   * Adds a received chunk and calls `onFrame` for every whole message now present. Throws
   * `NbdProtocolError` on a bad magic or an oversized payload; the stream is then unusable.
   */
  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    if (chunk.length > 0) {
      const last = this.chunks.length - 1;
      if (last >= 0 && follows(this.chunks[last], chunk)) {
        // Read back to back into one slab (accepted-onread.ts): one view, so a message that
        // spans the two reads is handed out without a copy.
        const prev = this.chunks[last];
        this.chunks[last] = Buffer.from(prev.buffer, prev.byteOffset, prev.length + chunk.length);
      } else {
        this.chunks.push(chunk);
      }
      this.buffered += chunk.length;
    }
    while (true) {
      if (this.header === undefined) {
        const size = this.headerSize(this.expect);
        if (size === undefined || this.buffered < size) return;
        this.headerKind = this.expect;
        this.header = this.take(size);
        this.payloadLength = this.payloadLengthOf(this.headerKind, this.header);
        if (this.payloadLength > this.maxPayload) {
          throw new NbdProtocolError(
            'NBD_ERR_TOO_LARGE',
            `message payload of ${this.payloadLength} bytes exceeds the limit of ${this.maxPayload}`,
          );
        }
      }
      if (this.buffered < this.payloadLength) return;
      const frame: Frame = {
        kind: this.headerKind,
        header: this.header,
        payload: this.payloadLength > 0 ? this.take(this.payloadLength) : EMPTY,
      };
      this.header = undefined;
      onFrame(frame);
    }
  }

  /** Header size of `kind`, or undefined while the magic that decides it has not arrived. */
  private headerSize(kind: FrameKind): number | undefined {
    switch (kind) {
      case FrameKind.ClientFlags:
        return CLIENT_FLAGS_SIZE;
      case FrameKind.Option:
        return OPTION_HEADER_SIZE;
      case FrameKind.Request:
        return REQUEST_HEADER_SIZE;
      case FrameKind.Greeting:
        return GREETING_SIZE;
      case FrameKind.OptionReply:
        return OPTION_REPLY_HEADER_SIZE;
      case FrameKind.ExportNameReply:
        return EXPORT_NAME_REPLY_SIZE + EXPORT_NAME_REPLY_ZEROES;
      case FrameKind.ExportNameReplyNoZeroes:
        return EXPORT_NAME_REPLY_SIZE;
      case FrameKind.Reply: {
        if (this.buffered < REPLY_MAGIC_SIZE) return undefined;
        const magic = this.peekUInt32();
        if (magic === NBD_SIMPLE_REPLY_MAGIC) return SIMPLE_REPLY_SIZE;
        if (magic === NBD_STRUCTURED_REPLY_MAGIC) return STRUCTURED_REPLY_HEADER_SIZE;
        throw badMagic('reply', magic);
      }
    }
  }

  /** Payload length announced by a header; checks the header's magic on the way. */
  private payloadLengthOf(kind: FrameKind, header: Buffer): number {
    switch (kind) {
      case FrameKind.Option:
        if (header.readBigUInt64BE(0) !== NBD_OPTS_MAGIC) throw badMagic('option', header);
        return header.readUInt32BE(OPTION_LENGTH_OFFSET);
      case FrameKind.Request:
        if (header.readUInt32BE(0) !== NBD_REQUEST_MAGIC) throw badMagic('request', header);
        return header.readUInt16BE(REQUEST_TYPE_OFFSET) === NbdCommand.Write
          ? header.readUInt32BE(REQUEST_LENGTH_OFFSET)
          : 0;
      case FrameKind.OptionReply:
        if (header.readBigUInt64BE(0) !== NBD_REP_MAGIC) throw badMagic('option reply', header);
        return header.readUInt32BE(OPTION_REPLY_LENGTH_OFFSET);
      case FrameKind.Reply:
        if (header.length === STRUCTURED_REPLY_HEADER_SIZE)
          return header.readUInt32BE(STRUCTURED_REPLY_LENGTH_OFFSET);
        return (
          this.opts.simpleReplyDataLength?.(
            header.readBigUInt64BE(SIMPLE_REPLY_HANDLE_OFFSET),
            header.readUInt32BE(SIMPLE_REPLY_ERROR_OFFSET),
          ) ?? 0
        );
      default:
        return 0;
    }
  }

  /** The first 4 buffered bytes as a big-endian u32, whichever chunks hold them. */
  private peekUInt32(): number {
    const first = this.chunks[0];
    if (first.length >= REPLY_MAGIC_SIZE) return first.readUInt32BE(0);
    let value = 0;
    let need = REPLY_MAGIC_SIZE;
    for (const chunk of this.chunks) {
      for (let i = 0; i < chunk.length && need > 0; i++, need--) value = value * 256 + chunk[i];
      if (need === 0) break;
    }
    return value;
  }

  /** Removes `n` buffered bytes: a view when one chunk holds them, else one copy. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0];
      const used = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(used);
    }
    return out;
  }
}

/** True when `next` starts in memory right where `prev` ends (same ArrayBuffer). */
function follows(prev: Buffer, next: Buffer): boolean {
  return prev.buffer === next.buffer && prev.byteOffset + prev.length === next.byteOffset;
}

function badMagic(what: string, got: Buffer | number): NbdProtocolError {
  const hex =
    typeof got === 'number'
      ? `0x${got.toString(16)}`
      : `0x${got.subarray(0, Math.min(got.length, 8)).toString('hex')}`;
  return new NbdProtocolError('NBD_ERR_BAD_MAGIC', `bad ${what} magic ${hex}`);
}

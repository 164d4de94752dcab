/**
 * The client's side of the transmission phase: cuts replies out of received bytes and puts READ
 * data into the destination buffer of the request it answers. It also says where the next socket
 * read should land (`nextReadBuffer`, for Node's `onread`) so that a read takes one reply, not a
 * backlog of them: replies are taken one at a time, as fio's nbd engine takes them (one per
 * nbd_poll()). A small reply is read whole, header and data, and its data copied on; a large
 * body is read the way libnbd reads every body, straight into the caller's buffer after its
 * header. A reply costs no allocation. Bytes pushed from elsewhere are copied out, never kept: a header split across
 * reads is gathered in a scratch buffer, a non-data chunk payload in a buffer of its own.
 *
 * States (ws's receiver): Header → (Offset →) Data for READ data, Header → Payload for other chunks.
 * proto.md "Simple reply message", "Structured reply chunk message", "NBD_REPLY_TYPE_OFFSET_DATA".
 */
import { NbdProtocolError } from './nbd-error.js';
import type { PendingRequest } from './pending-request.js';
import {
  NBD_SIMPLE_REPLY_MAGIC,
  NBD_STRUCTURED_REPLY_MAGIC,
  NbdCommand,
  OFFSET_DATA_OFFSET_SIZE,
  REPLY_MAGIC_SIZE,
  ReplyFlag,
  ReplyType,
  SIMPLE_REPLY_ERROR_OFFSET,
  SIMPLE_REPLY_HANDLE_OFFSET,
  SIMPLE_REPLY_SIZE,
  STRUCTURED_REPLY_FLAGS_OFFSET,
  STRUCTURED_REPLY_HANDLE_OFFSET,
  STRUCTURED_REPLY_HEADER_SIZE,
  STRUCTURED_REPLY_LENGTH_OFFSET,
  STRUCTURED_REPLY_TYPE_OFFSET,
} from './protocol.js';

/** Where replies go: the client's table of requests in flight. */
export interface ReplyTarget {
  /** The request a reply names; throws NBD_ERR_UNEXPECTED_REPLY for an unknown handle. */
  pendingFor(handle: number): PendingRequest;
  /** The request with this handle has settled and leaves the table. */
  settled(handle: number): void;
}

const enum ReaderState {
  /** A simple reply or a structured chunk header (its magic tells which). */
  Header,
  /** The 8-byte offset that opens an OFFSET_DATA payload. */
  Offset,
  /** READ data, copied into the request's destination. */
  Data,
  /** Any other chunk payload, gathered whole. */
  Payload,
}

const TWO_32 = 0x1_0000_0000;
const EMPTY = Buffer.alloc(0);
/** The largest piece gathered in the scratch buffer: a chunk header, then an OFFSET_DATA offset. */
const SCRATCH_SIZE = STRUCTURED_REPLY_HEADER_SIZE;
/** A read between bodies takes a chunk header and an OFFSET_DATA offset… */
const HEADER_READ_SIZE = STRUCTURED_REPLY_HEADER_SIZE + OFFSET_DATA_OFFSET_SIZE;
/** …and the body too, when the last READ body was no larger than this (one read, one copy). */
const COPIED_BODY_LIMIT = 16 * 1024;

/**
 * A big-endian u64 as a number: handles (the client's own counters, below 2^53) and offsets
 * (a device offset beyond 2^53 cannot match a request and fails as one outside it).
 */
const readU64 = (b: Buffer, at: number): number =>
  b.readUInt32BE(at) * TWO_32 + b.readUInt32BE(at + 4);

export class ReplyReader {
  private state = ReaderState.Header;
  /** Gathers a header or an offset that arrives split across reads. */
  private readonly scratch = Buffer.alloc(SCRATCH_SIZE);
  private gathered = 0;
  /** The request whose reply is being read, its handle, and the current chunk's fields. */
  private request: PendingRequest | undefined;
  private handle = 0;
  private simple = false;
  private flags = 0;
  private type = 0;
  /** Bytes of the current data or payload still to come. */
  private remaining = 0;
  private dest: Buffer = EMPTY;
  private destAt = 0;
  /** Where reads between bodies land: `headerRead` is a view of `replyRead` sized for one reply. */
  private readonly replyRead = Buffer.alloc(HEADER_READ_SIZE + COPIED_BODY_LIMIT);
  private headerRead = this.replyRead.subarray(0, HEADER_READ_SIZE);
  /** The last body copied out of `replyRead` (see copyBody). */
  private bodyView: Buffer = EMPTY;
  /** The body view handed out for the next read, if any. */
  private inPlace: Buffer | undefined;

  constructor(
    private readonly target: ReplyTarget,
    /** Largest non-data chunk payload accepted; a larger one ends the session. */
    private readonly maxPayload: number,
  ) {}

  /**
   * Where the next socket read should go: the rest of the body in hand (READ data into its
   * destination) when there is one, else a buffer for the next reply (its header, and its body
   * when bodies are small).
   */
  nextReadBuffer(): Buffer {
    if (this.state !== ReaderState.Data && this.state !== ReaderState.Payload) {
      this.inPlace = undefined;
      return this.headerRead;
    }
    const whole = this.destAt === 0 && this.remaining === this.dest.length;
    this.inPlace = whole
      ? this.dest
      : this.dest.subarray(this.destAt, this.destAt + this.remaining);
    return this.inPlace;
  }

  /** `n` bytes were read into `buf`: a buffer `nextReadBuffer` gave, or any other. */
  received(buf: Buffer, n: number): void {
    if (buf !== this.inPlace) return this.push(buf, 0, n);
    this.inPlace = undefined;
    this.advance(n);
  }

  /** Consumes `buf[start, end)`, keeping no reference to `buf`. Throws NbdProtocolError. */
  push(buf: Buffer, start: number, end: number): void {
    let at = start;
    while (at < end) {
      switch (this.state) {
        case ReaderState.Header:
          at = this.readHeader(buf, at, end);
          break;
        case ReaderState.Offset:
          at = this.readOffset(buf, at, end);
          break;
        case ReaderState.Data:
        case ReaderState.Payload: {
          const n = Math.min(this.remaining, end - at);
          this.copyBody(buf, at, n);
          at += n;
          this.advance(n);
          break;
        }
      }
    }
  }

  /**
   * Copies `n` body bytes at `buf[at]` to the destination. A body that came in the buffer
   * `nextReadBuffer` handed out sits at the same place reply after reply, so its view is kept
   * and reused: Buffer#copy of part of a buffer allocates a view per call (one per reply).
   */
  private copyBody(buf: Buffer, at: number, n: number): void {
    if (buf !== this.headerRead) {
      buf.copy(this.dest, this.destAt, at, at + n);
      return;
    }
    const view = this.bodyView;
    if (view.byteOffset !== buf.byteOffset + at || view.length !== n) {
      this.bodyView = this.replyRead.subarray(at, at + n);
    }
    this.dest.set(this.bodyView, this.destAt);
  }

  private setState(state: ReaderState): void {
    this.state = state;
  }

  /** `n` more bytes of the body are in place. */
  private advance(n: number): void {
    this.destAt += n;
    this.remaining -= n;
    if (this.remaining === 0) this.bodyDone();
  }

  /** Reads a header in place when the read holds all of it, else gathers it; returns the new position. */
  private readHeader(buf: Buffer, at: number, end: number): number {
    if (this.gathered === 0 && end - at >= REPLY_MAGIC_SIZE) {
      const size = headerSize(buf.readUInt32BE(at));
      if (end - at >= size) {
        this.onHeader(buf, at, size);
        return at + size;
      }
    }
    const want =
      this.gathered < REPLY_MAGIC_SIZE
        ? REPLY_MAGIC_SIZE
        : headerSize(this.scratch.readUInt32BE(0));
    const n = this.gather(buf, at, Math.min(want - this.gathered, end - at));
    if (this.gathered === want && want !== REPLY_MAGIC_SIZE) {
      this.gathered = 0;
      this.onHeader(this.scratch, 0, want);
    }
    return at + n;
  }

  private onHeader(b: Buffer, at: number, size: number): void {
    if (size === SIMPLE_REPLY_SIZE) {
      const error = b.readUInt32BE(at + SIMPLE_REPLY_ERROR_OFFSET);
      this.handle = readU64(b, at + SIMPLE_REPLY_HANDLE_OFFSET);
      const p = this.target.pendingFor(this.handle);
      // proto.md: READ data follows a simple reply only on success.
      if (error === 0 && p.type === NbdCommand.Read && p.length > 0) {
        this.simple = true;
        this.startData(p, p.offset, p.length);
      } else {
        p.simple(error);
        this.target.settled(this.handle);
      }
      return;
    }
    this.flags = b.readUInt16BE(at + STRUCTURED_REPLY_FLAGS_OFFSET);
    this.type = b.readUInt16BE(at + STRUCTURED_REPLY_TYPE_OFFSET);
    this.handle = readU64(b, at + STRUCTURED_REPLY_HANDLE_OFFSET);
    const length = b.readUInt32BE(at + STRUCTURED_REPLY_LENGTH_OFFSET);
    const p = this.target.pendingFor(this.handle);
    this.request = p;
    this.simple = false;
    if (this.type === ReplyType.OffsetData) {
      // proto.md: "length MUST be at least 9"; the data must then fit the request (claimed below).
      if (length <= OFFSET_DATA_OFFSET_SIZE) {
        throw new NbdProtocolError(
          'NBD_ERR_BAD_REPLY',
          `OFFSET_DATA chunk with a payload of ${length} bytes`,
        );
      }
      this.remaining = length - OFFSET_DATA_OFFSET_SIZE;
      this.setState(ReaderState.Offset);
      return;
    }
    if (length > this.maxPayload) {
      throw new NbdProtocolError(
        'NBD_ERR_TOO_LARGE',
        `message payload of ${length} bytes exceeds the limit of ${this.maxPayload}`,
      );
    }
    if (length === 0) {
      this.chunkDone(p.chunk(this.chunkHeader(length), EMPTY, this.done()));
      return;
    }
    this.dest = Buffer.allocUnsafe(length);
    this.destAt = 0;
    this.remaining = length;
    this.setState(ReaderState.Payload);
  }

  private readOffset(buf: Buffer, at: number, end: number): number {
    const n = this.gather(buf, at, Math.min(OFFSET_DATA_OFFSET_SIZE - this.gathered, end - at));
    if (this.gathered === OFFSET_DATA_OFFSET_SIZE) {
      this.gathered = 0;
      const offset = readU64(this.scratch, 0);
      this.startData(this.request!, offset, this.remaining);
    }
    return at + n;
  }

  /** Appends `n` bytes to the scratch buffer, byte by byte: Buffer#copy would allocate a view. */
  private gather(buf: Buffer, at: number, n: number): number {
    const scratch = this.scratch;
    for (let i = 0; i < n; i++) scratch[this.gathered + i] = buf[at + i];
    this.gathered += n;
    return n;
  }

  /** Claims `length` bytes at device `offset` of the request and points the copy at them. */
  private startData(p: PendingRequest, offset: number, length: number): void {
    // Size reads between bodies for a reply like this one (the next is usually alike).
    const size = HEADER_READ_SIZE + (length <= COPIED_BODY_LIMIT ? length : 0);
    if (size !== this.headerRead.length) this.headerRead = this.replyRead.subarray(0, size);
    this.request = p;
    this.destAt = p.beginContent(offset, length);
    this.dest = p.destination();
    this.remaining = length;
    this.setState(ReaderState.Data);
  }

  private bodyDone(): void {
    const p = this.request!;
    const payload = this.dest;
    this.dest = EMPTY;
    this.setState(ReaderState.Header);
    if (this.simple) {
      this.simple = false;
      this.request = undefined;
      p.simple(0);
      this.target.settled(this.handle);
    } else if (this.type === ReplyType.OffsetData) {
      this.chunkDone(p.contentDone(this.done()));
    } else {
      this.chunkDone(p.chunk(this.chunkHeader(payload.length), payload, this.done()));
    }
  }

  private chunkDone(settled: boolean): void {
    this.setState(ReaderState.Header);
    this.request = undefined;
    if (settled) this.target.settled(this.handle);
  }

  private done(): boolean {
    return (this.flags & ReplyFlag.Done) !== 0;
  }

  private chunkHeader(length: number) {
    return { flags: this.flags, type: this.type, handle: this.handle, length };
  }
}

function headerSize(magic: number): number {
  if (magic === NBD_SIMPLE_REPLY_MAGIC) return SIMPLE_REPLY_SIZE;
  if (magic === NBD_STRUCTURED_REPLY_MAGIC) return STRUCTURED_REPLY_HEADER_SIZE;
  throw new NbdProtocolError('NBD_ERR_BAD_MAGIC', `bad reply magic 0x${magic.toString(16)}`);
}

/**
 * Encoders and decoders of NBD transmission messages, side by side (proto.md "Request message",
 * "Simple reply message", "Structured reply chunk message", "Structured reply types"). Headers
 * are encoded apart from payloads so that READ/WRITE data goes out as its own buffer (no copy).
 * A handle is an opaque 8 bytes: the server echoes the request's bytes (a Buffer view), the client
 * names its requests with bigints.
 */
import {
  BLOCK_DESCRIPTOR_SIZE,
  NbdCommand,
  BLOCK_STATUS_CONTEXT_SIZE,
  ERROR_CHUNK_FIXED_SIZE,
  ERROR_OFFSET_SIZE,
  NBD_REQUEST_MAGIC,
  NBD_SIMPLE_REPLY_MAGIC,
  NBD_STRUCTURED_REPLY_MAGIC,
  OFFSET_DATA_OFFSET_SIZE,
  OFFSET_HOLE_SIZE,
  REQUEST_FLAGS_OFFSET,
  REQUEST_HANDLE_OFFSET,
  REQUEST_HEADER_SIZE,
  REQUEST_LENGTH_OFFSET,
  REQUEST_OFFSET_OFFSET,
  REQUEST_TYPE_OFFSET,
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
import { NbdProtocolError } from './nbd-error.js';

const COMMAND_NAMES: Record<number, string> = {
  [NbdCommand.Read]: 'READ',
  [NbdCommand.Write]: 'WRITE',
  [NbdCommand.Disc]: 'DISC',
  [NbdCommand.Flush]: 'FLUSH',
  [NbdCommand.Trim]: 'TRIM',
  [NbdCommand.Cache]: 'CACHE',
  [NbdCommand.WriteZeroes]: 'WRITE_ZEROES',
  [NbdCommand.BlockStatus]: 'BLOCK_STATUS',
};

export const commandName = (type: number): string => COMMAND_NAMES[type] ?? `command ${type}`;

/** The server echoes a Buffer view; a client names requests with bigints or safe-integer numbers. */
export type Handle = Buffer | bigint | number;

const HANDLE_SIZE = 8;
const TWO_32 = 0x1_0000_0000;
const MAX_ERROR_MESSAGE = 4096; // proto.md: message length MUST NOT exceed the string limit

function writeHandle(b: Buffer, offset: number, handle: Handle): void {
  if (typeof handle === 'number') writeUInt64(b, offset, handle);
  else if (typeof handle === 'bigint') b.writeBigUInt64BE(handle, offset);
  // TypedArray.set stays in JIT code; Buffer.copy is a call into C++ for 8 bytes.
  else if (handle.length === HANDLE_SIZE) b.set(handle, offset);
  else handle.copy(b, offset, 0, HANDLE_SIZE);
}

/** A u64 as a number; values past 2^53 become unsafe integers that validation rejects. */
function readUInt64(b: Buffer, offset: number): number {
  return b.readUInt32BE(offset) * TWO_32 + b.readUInt32BE(offset + 4);
}

function writeUInt64(b: Buffer, offset: number, value: number): void {
  b.writeUInt32BE(Math.floor(value / TWO_32), offset);
  b.writeUInt32BE(value % TWO_32, offset + 4);
}

// ---- requests ----------------------------------------------------------------------------------

export interface RequestHeader {
  flags: number;
  type: number;
  handle: Handle;
  offset: number;
  length: number;
}

export function encodeRequestHeader(r: RequestHeader): Buffer {
  const b = Buffer.allocUnsafe(REQUEST_HEADER_SIZE);
  writeRequestHeader(b, r.flags, r.type, r.handle, r.offset, r.length);
  return b;
}

/**
 * A request header written into `b` (REQUEST_HEADER_SIZE bytes), from its fields as arguments:
 * a client that reuses one header buffer per request slot builds no object per request.
 */
export function writeRequestHeader(
  b: Buffer,
  flags: number,
  type: number,
  handle: Handle,
  offset: number,
  length: number,
): void {
  b.writeUInt32BE(NBD_REQUEST_MAGIC, 0);
  b.writeUInt16BE(flags, REQUEST_FLAGS_OFFSET);
  b.writeUInt16BE(type, REQUEST_TYPE_OFFSET);
  writeHandle(b, REQUEST_HANDLE_OFFSET, handle);
  writeUInt64(b, REQUEST_OFFSET_OFFSET, offset);
  b.writeUInt32BE(length, REQUEST_LENGTH_OFFSET);
}

const NO_DATA = Buffer.alloc(0);

/** The request header fields; `handle` is a view of the header's 8 handle bytes. */
export function decodeRequestHeader(h: Buffer): RequestHeader & { handle: Buffer } {
  const { data: _none, ...header } = decodeRequest(h, NO_DATA);
  return header;
}

/**
 * A request header and its WRITE data (empty for other commands) as one object: the server's
 * per-request record, built once rather than a header object spread into another.
 */
export function decodeRequest(
  h: Buffer,
  data: Buffer,
): RequestHeader & { handle: Buffer; data: Buffer } {
  return {
    flags: h.readUInt16BE(REQUEST_FLAGS_OFFSET),
    type: h.readUInt16BE(REQUEST_TYPE_OFFSET),
    handle: h.subarray(REQUEST_HANDLE_OFFSET, REQUEST_HANDLE_OFFSET + HANDLE_SIZE),
    offset: readUInt64(h, REQUEST_OFFSET_OFFSET),
    length: h.readUInt32BE(REQUEST_LENGTH_OFFSET),
    data,
  };
}

// ---- simple replies ----------------------------------------------------------------------------

export function encodeSimpleReply(handle: Handle, error: number): Buffer {
  const b = Buffer.allocUnsafe(SIMPLE_REPLY_SIZE);
  writeSimpleReply(b, 0, handle, error);
  return b;
}

/** A simple reply written into `b` at `at` (SIMPLE_REPLY_SIZE bytes, every one of them set). */
export function writeSimpleReply(b: Buffer, at: number, handle: Handle, error: number): void {
  b.writeUInt32BE(NBD_SIMPLE_REPLY_MAGIC, at);
  b.writeUInt32BE(error, at + SIMPLE_REPLY_ERROR_OFFSET);
  writeHandle(b, at + SIMPLE_REPLY_HANDLE_OFFSET, handle);
}

export const decodeSimpleReply = (h: Buffer): { error: number; handle: bigint } => ({
  error: h.readUInt32BE(SIMPLE_REPLY_ERROR_OFFSET),
  handle: h.readBigUInt64BE(SIMPLE_REPLY_HANDLE_OFFSET),
});

// ---- structured reply chunks -------------------------------------------------------------------

export interface ChunkHeader {
  flags: number;
  type: number;
  handle: Handle;
  length: number;
}

function writeChunkHeader(b: Buffer, c: ChunkHeader): void {
  b.writeUInt32BE(NBD_STRUCTURED_REPLY_MAGIC, 0);
  b.writeUInt16BE(c.flags, STRUCTURED_REPLY_FLAGS_OFFSET);
  b.writeUInt16BE(c.type, STRUCTURED_REPLY_TYPE_OFFSET);
  writeHandle(b, STRUCTURED_REPLY_HANDLE_OFFSET, c.handle);
  b.writeUInt32BE(c.length, STRUCTURED_REPLY_LENGTH_OFFSET);
}

export function decodeChunkHeader(h: Buffer): ChunkHeader & { handle: bigint } {
  return {
    flags: h.readUInt16BE(STRUCTURED_REPLY_FLAGS_OFFSET),
    type: h.readUInt16BE(STRUCTURED_REPLY_TYPE_OFFSET),
    handle: h.readBigUInt64BE(STRUCTURED_REPLY_HANDLE_OFFSET),
    length: h.readUInt32BE(STRUCTURED_REPLY_LENGTH_OFFSET),
  };
}

/** NBD_REPLY_TYPE_NONE with DONE: success of a request that returns nothing. */
export function encodeNoneChunk(handle: Handle): Buffer {
  const b = Buffer.allocUnsafe(STRUCTURED_REPLY_HEADER_SIZE);
  writeChunkHeader(b, { flags: ReplyFlag.Done, type: ReplyType.None, handle, length: 0 });
  return b;
}

/**
 * Chunk header + offset of an NBD_REPLY_TYPE_OFFSET_DATA chunk carrying `dataLength` bytes; the
 * data itself is written after it as a separate buffer.
 */
export function encodeOffsetDataHeader(
  handle: Handle,
  flags: number,
  offset: number,
  dataLength: number,
): Buffer {
  const b = Buffer.allocUnsafe(OFFSET_DATA_HEADER_SIZE);
  writeOffsetDataHeader(b, 0, handle, flags, offset, dataLength);
  return b;
}

/** Bytes of an OFFSET_DATA chunk before its data: the chunk header and the offset. */
export const OFFSET_DATA_HEADER_SIZE = STRUCTURED_REPLY_HEADER_SIZE + OFFSET_DATA_OFFSET_SIZE;

/** encodeOffsetDataHeader() written into `b` at `at` (OFFSET_DATA_HEADER_SIZE bytes, all set). */
export function writeOffsetDataHeader(
  b: Buffer,
  at: number,
  handle: Handle,
  flags: number,
  offset: number,
  dataLength: number,
): void {
  b.writeUInt32BE(NBD_STRUCTURED_REPLY_MAGIC, at);
  b.writeUInt16BE(flags, at + STRUCTURED_REPLY_FLAGS_OFFSET);
  b.writeUInt16BE(ReplyType.OffsetData, at + STRUCTURED_REPLY_TYPE_OFFSET);
  writeHandle(b, at + STRUCTURED_REPLY_HANDLE_OFFSET, handle);
  b.writeUInt32BE(OFFSET_DATA_OFFSET_SIZE + dataLength, at + STRUCTURED_REPLY_LENGTH_OFFSET);
  writeUInt64(b, at + STRUCTURED_REPLY_HEADER_SIZE, offset);
}

/** NBD_REPLY_TYPE_ERROR: `errno` and a message for a person (truncated to the string limit). */
export function encodeErrorChunk(handle: Handle, errno: number, message: string): Buffer {
  let msg = Buffer.from(message, 'utf8');
  if (msg.length > MAX_ERROR_MESSAGE) msg = msg.subarray(0, MAX_ERROR_MESSAGE);
  const b = Buffer.allocUnsafe(STRUCTURED_REPLY_HEADER_SIZE + ERROR_CHUNK_FIXED_SIZE + msg.length);
  writeChunkHeader(b, {
    flags: ReplyFlag.Done,
    type: ReplyType.Error,
    handle,
    length: ERROR_CHUNK_FIXED_SIZE + msg.length,
  });
  b.writeUInt32BE(errno, STRUCTURED_REPLY_HEADER_SIZE);
  b.writeUInt16BE(msg.length, STRUCTURED_REPLY_HEADER_SIZE + 4);
  msg.copy(b, STRUCTURED_REPLY_HEADER_SIZE + ERROR_CHUNK_FIXED_SIZE);
  return b;
}

export interface BlockDescriptor {
  /** Extent length in bytes. */
  length: number;
  /** Status flags of the metadata context (base:allocation: AllocationState bits). */
  flags: number;
}

/** NBD_REPLY_TYPE_BLOCK_STATUS with DONE: one context's extents. */
export function encodeBlockStatusChunk(
  handle: Handle,
  contextId: number,
  descriptors: readonly BlockDescriptor[],
): Buffer {
  const length = BLOCK_STATUS_CONTEXT_SIZE + BLOCK_DESCRIPTOR_SIZE * descriptors.length;
  const b = Buffer.allocUnsafe(STRUCTURED_REPLY_HEADER_SIZE + length);
  writeChunkHeader(b, { flags: ReplyFlag.Done, type: ReplyType.BlockStatus, handle, length });
  let o = b.writeUInt32BE(contextId, STRUCTURED_REPLY_HEADER_SIZE);
  for (const d of descriptors) {
    o = b.writeUInt32BE(d.length, o);
    o = b.writeUInt32BE(d.flags, o);
  }
  return b;
}

// ---- chunk payload decoders (client side) ------------------------------------------------------

const badChunk = (what: string, length: number) =>
  new NbdProtocolError('NBD_ERR_BAD_REPLY', `${what} chunk with a payload of ${length} bytes`);

export function decodeOffsetData(payload: Buffer): { offset: number; data: Buffer } {
  // proto.md: "length MUST be at least 9".
  if (payload.length <= OFFSET_DATA_OFFSET_SIZE) throw badChunk('OFFSET_DATA', payload.length);
  return {
    offset: readUInt64(payload, 0),
    data: payload.subarray(OFFSET_DATA_OFFSET_SIZE),
  };
}

export function decodeOffsetHole(payload: Buffer): { offset: number; length: number } {
  if (payload.length !== OFFSET_HOLE_SIZE) throw badChunk('OFFSET_HOLE', payload.length);
  const length = payload.readUInt32BE(OFFSET_DATA_OFFSET_SIZE);
  if (length === 0) throw badChunk('OFFSET_HOLE (zero hole size)', payload.length);
  return { offset: readUInt64(payload, 0), length };
}

export interface ErrorChunk {
  errno: number;
  message: string;
  /** Present for NBD_REPLY_TYPE_ERROR_OFFSET. */
  offset?: number;
}

/** Any error chunk (type bit 15): the common error + message fields, and the offset if known. */
export function decodeErrorChunk(type: number, payload: Buffer): ErrorChunk {
  if (payload.length < ERROR_CHUNK_FIXED_SIZE) throw badChunk('error', payload.length);
  const errno = payload.readUInt32BE(0);
  const msgLength = payload.readUInt16BE(4);
  if (msgLength > payload.length - ERROR_CHUNK_FIXED_SIZE) throw badChunk('error', payload.length);
  const message = payload.toString(
    'utf8',
    ERROR_CHUNK_FIXED_SIZE,
    ERROR_CHUNK_FIXED_SIZE + msgLength,
  );
  if (type === ReplyType.ErrorOffset) {
    const at = ERROR_CHUNK_FIXED_SIZE + msgLength;
    if (payload.length !== at + ERROR_OFFSET_SIZE) throw badChunk('ERROR_OFFSET', payload.length);
    return { errno, message, offset: readUInt64(payload, at) };
  }
  return { errno, message };
}

export function decodeBlockStatus(payload: Buffer): {
  contextId: number;
  descriptors: BlockDescriptor[];
} {
  // proto.md: "length MUST be 4 + (a positive integer multiple of 8)".
  const body = payload.length - BLOCK_STATUS_CONTEXT_SIZE;
  if (body <= 0 || body % BLOCK_DESCRIPTOR_SIZE !== 0) {
    throw badChunk('BLOCK_STATUS', payload.length);
  }
  const descriptors: BlockDescriptor[] = [];
  for (let o = BLOCK_STATUS_CONTEXT_SIZE; o < payload.length; o += BLOCK_DESCRIPTOR_SIZE) {
    descriptors.push({ length: payload.readUInt32BE(o), flags: payload.readUInt32BE(o + 4) });
  }
  return { contextId: payload.readUInt32BE(0), descriptors };
}

/**
 * Encoders and decoders of the NBD handshake messages, side by side (proto.md "Fixed newstyle
 * negotiation", "Option types", "Option reply types"). Pure functions over Buffers, no I/O.
 * A decoder of option data returns a value or throws `NbdOptionError` naming the reply the server
 * must send (NBD_REP_ERR_INVALID for syntax), so the session answers and the connection lives.
 */
import {
  EXPORT_NAME_REPLY_SIZE,
  EXPORT_NAME_REPLY_ZEROES,
  GO_NAME_LENGTH_SIZE,
  GO_REQUEST_COUNT_SIZE,
  GO_REQUEST_SIZE,
  GREETING_HANDSHAKE_FLAGS_OFFSET,
  GREETING_SIZE,
  INFO_BLOCK_SIZE_SIZE,
  INFO_EXPORT_SIZE,
  INFO_TYPE_SIZE,
  MAX_STRING_LENGTH,
  META_CONTEXT_ID_SIZE,
  META_NAME_LENGTH_SIZE,
  META_QUERY_COUNT_SIZE,
  META_QUERY_LENGTH_SIZE,
  NBD_MAGIC,
  NBD_OPTS_MAGIC,
  NBD_REP_MAGIC,
  NbdInfo,
  NbdReply,
  OPTION_CODE_OFFSET,
  OPTION_HEADER_SIZE,
  OPTION_LENGTH_OFFSET,
  OPTION_REPLY_HEADER_SIZE,
  OPTION_REPLY_LENGTH_OFFSET,
  OPTION_REPLY_OPTION_OFFSET,
  OPTION_REPLY_TYPE_OFFSET,
  REP_SERVER_NAME_LENGTH_SIZE,
} from './protocol.js';
import { NbdProtocolError } from './nbd-error.js';

/** Option data the server cannot accept; `reply` is the error reply type to send. */
export class NbdOptionError extends Error {
  readonly code = 'NBD_ERR_OPTION';
  constructor(
    readonly reply: NbdReply,
    message: string,
  ) {
    super(message);
    this.name = 'NbdOptionError';
  }
}

const invalid = (message: string) => new NbdOptionError(NbdReply.ErrInvalid, message);

// ---- greeting and flags -----------------------------------------------------------------------

export function encodeGreeting(handshakeFlags: number): Buffer {
  const b = Buffer.alloc(GREETING_SIZE);
  b.writeBigUInt64BE(NBD_MAGIC, 0);
  b.writeBigUInt64BE(NBD_OPTS_MAGIC, 8);
  b.writeUInt16BE(handshakeFlags, GREETING_HANDSHAKE_FLAGS_OFFSET);
  return b;
}

/** The server's handshake flags; throws unless the greeting is fixed-newstyle NBD. */
export function decodeGreeting(b: Buffer): number {
  if (b.readBigUInt64BE(0) !== NBD_MAGIC || b.readBigUInt64BE(8) !== NBD_OPTS_MAGIC) {
    throw new NbdProtocolError(
      'NBD_ERR_BAD_MAGIC',
      `not an NBD newstyle server (greeting 0x${b.subarray(0, 16).toString('hex')})`,
    );
  }
  return b.readUInt16BE(GREETING_HANDSHAKE_FLAGS_OFFSET);
}

export function encodeClientFlags(flags: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(flags >>> 0, 0);
  return b;
}

// ---- option requests ---------------------------------------------------------------------------

export function encodeOption(option: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(OPTION_HEADER_SIZE + data.length);
  b.writeBigUInt64BE(NBD_OPTS_MAGIC, 0);
  b.writeUInt32BE(option, OPTION_CODE_OFFSET);
  b.writeUInt32BE(data.length, OPTION_LENGTH_OFFSET);
  data.copy(b, OPTION_HEADER_SIZE);
  return b;
}

export const decodeOptionCode = (header: Buffer): number => header.readUInt32BE(OPTION_CODE_OFFSET);

export interface GoRequest {
  name: string;
  /** NBD_INFO_* types requested, in order. */
  requests: number[];
}

/** Data of NBD_OPT_INFO / NBD_OPT_GO. */
export function encodeGoData(req: GoRequest): Buffer {
  const name = Buffer.from(req.name, 'utf8');
  const b = Buffer.alloc(
    GO_NAME_LENGTH_SIZE +
      name.length +
      GO_REQUEST_COUNT_SIZE +
      GO_REQUEST_SIZE * req.requests.length,
  );
  let o = b.writeUInt32BE(name.length, 0);
  o += name.copy(b, o);
  o = b.writeUInt16BE(req.requests.length, o);
  for (const r of req.requests) o = b.writeUInt16BE(r, o);
  return b;
}

export function decodeGoData(data: Buffer): GoRequest {
  if (data.length < GO_NAME_LENGTH_SIZE + GO_REQUEST_COUNT_SIZE) {
    throw invalid(`INFO/GO data of ${data.length} bytes is too short`);
  }
  const nameLength = data.readUInt32BE(0);
  // proto.md: the name length "MUST be no larger than the option data length - 6".
  if (nameLength > data.length - GO_NAME_LENGTH_SIZE - GO_REQUEST_COUNT_SIZE) {
    throw invalid(`export name length ${nameLength} overruns the option data`);
  }
  const name = decodeString(data, GO_NAME_LENGTH_SIZE, nameLength);
  let o = GO_NAME_LENGTH_SIZE + nameLength;
  const count = data.readUInt16BE(o);
  o += GO_REQUEST_COUNT_SIZE;
  if (data.length !== o + count * GO_REQUEST_SIZE) {
    throw invalid(`${count} information requests do not match the option length ${data.length}`);
  }
  const requests: number[] = [];
  for (let i = 0; i < count; i++, o += GO_REQUEST_SIZE) requests.push(data.readUInt16BE(o));
  return { name, requests };
}

export interface MetaContextRequest {
  name: string;
  queries: string[];
}

/** Data of NBD_OPT_LIST_META_CONTEXT / NBD_OPT_SET_META_CONTEXT. */
export function encodeMetaContextData(req: MetaContextRequest): Buffer {
  const name = Buffer.from(req.name, 'utf8');
  const queries = req.queries.map((q) => Buffer.from(q, 'utf8'));
  const size =
    META_NAME_LENGTH_SIZE +
    name.length +
    META_QUERY_COUNT_SIZE +
    queries.reduce((n, q) => n + META_QUERY_LENGTH_SIZE + q.length, 0);
  const b = Buffer.alloc(size);
  let o = b.writeUInt32BE(name.length, 0);
  o += name.copy(b, o);
  o = b.writeUInt32BE(queries.length, o);
  for (const q of queries) {
    o = b.writeUInt32BE(q.length, o);
    o += q.copy(b, o);
  }
  return b;
}

export function decodeMetaContextData(data: Buffer): MetaContextRequest {
  let o = 0;
  const need = (n: number, what: string) => {
    if (n > data.length - o) throw invalid(`${what} overruns the meta context option data`);
  };
  need(META_NAME_LENGTH_SIZE, 'export name length');
  const nameLength = data.readUInt32BE(o);
  o += META_NAME_LENGTH_SIZE;
  need(nameLength, 'export name');
  const name = decodeString(data, o, nameLength);
  o += nameLength;
  need(META_QUERY_COUNT_SIZE, 'query count');
  const count = data.readUInt32BE(o);
  o += META_QUERY_COUNT_SIZE;
  const queries: string[] = [];
  for (let i = 0; i < count; i++) {
    need(META_QUERY_LENGTH_SIZE, `query ${i} length`);
    const len = data.readUInt32BE(o);
    o += META_QUERY_LENGTH_SIZE;
    need(len, `query ${i}`);
    queries.push(decodeString(data, o, len));
    o += len;
  }
  if (o !== data.length) throw invalid(`${data.length - o} trailing bytes after the queries`);
  return { name, queries };
}

function decodeString(data: Buffer, offset: number, length: number): string {
  if (length > MAX_STRING_LENGTH) {
    throw new NbdOptionError(
      NbdReply.ErrTooBig,
      `string of ${length} bytes exceeds ${MAX_STRING_LENGTH}`,
    );
  }
  return data.toString('utf8', offset, offset + length);
}

// ---- option replies ----------------------------------------------------------------------------

export function encodeOptionReply(
  option: number,
  reply: number,
  data: Buffer = Buffer.alloc(0),
): Buffer {
  const b = Buffer.alloc(OPTION_REPLY_HEADER_SIZE + data.length);
  b.writeBigUInt64BE(NBD_REP_MAGIC, 0);
  b.writeUInt32BE(option, OPTION_REPLY_OPTION_OFFSET);
  b.writeUInt32BE(reply >>> 0, OPTION_REPLY_TYPE_OFFSET);
  b.writeUInt32BE(data.length, OPTION_REPLY_LENGTH_OFFSET);
  data.copy(b, OPTION_REPLY_HEADER_SIZE);
  return b;
}

export interface OptionReplyHeader {
  option: number;
  reply: number;
}

export const decodeOptionReplyHeader = (h: Buffer): OptionReplyHeader => ({
  option: h.readUInt32BE(OPTION_REPLY_OPTION_OFFSET),
  reply: h.readUInt32BE(OPTION_REPLY_TYPE_OFFSET),
});

/** NBD_REP_SERVER data: name length, name, then a human-readable description. */
export function encodeRepServer(name: string, description = ''): Buffer {
  const n = Buffer.from(name, 'utf8');
  const d = Buffer.from(description, 'utf8');
  const b = Buffer.alloc(REP_SERVER_NAME_LENGTH_SIZE + n.length + d.length);
  b.writeUInt32BE(n.length, 0);
  n.copy(b, REP_SERVER_NAME_LENGTH_SIZE);
  d.copy(b, REP_SERVER_NAME_LENGTH_SIZE + n.length);
  return b;
}

export function decodeRepServer(data: Buffer): { name: string; description: string } {
  const len = data.readUInt32BE(0);
  if (len > data.length - REP_SERVER_NAME_LENGTH_SIZE) {
    throw new NbdProtocolError('NBD_ERR_BAD_REPLY', `NBD_REP_SERVER name length ${len} overruns`);
  }
  const end = REP_SERVER_NAME_LENGTH_SIZE + len;
  return {
    name: data.toString('utf8', REP_SERVER_NAME_LENGTH_SIZE, end),
    description: data.toString('utf8', end),
  };
}

/** NBD_REP_META_CONTEXT data: context id, then the context name. */
export function encodeRepMetaContext(id: number, name: string): Buffer {
  const n = Buffer.from(name, 'utf8');
  const b = Buffer.alloc(META_CONTEXT_ID_SIZE + n.length);
  b.writeUInt32BE(id, 0);
  n.copy(b, META_CONTEXT_ID_SIZE);
  return b;
}

export const decodeRepMetaContext = (data: Buffer): { id: number; name: string } => ({
  id: data.readUInt32BE(0),
  name: data.toString('utf8', META_CONTEXT_ID_SIZE),
});

// ---- NBD_REP_INFO payloads ---------------------------------------------------------------------

export interface BlockSizeConstraints {
  minimum: number;
  preferred: number;
  maximum: number;
}

export function encodeInfoExport(size: number, transmissionFlags: number): Buffer {
  const b = Buffer.alloc(INFO_EXPORT_SIZE);
  b.writeUInt16BE(NbdInfo.Export, 0);
  b.writeBigUInt64BE(BigInt(size), INFO_TYPE_SIZE);
  b.writeUInt16BE(transmissionFlags, INFO_TYPE_SIZE + 8);
  return b;
}

export function encodeInfoString(type: NbdInfo.Name | NbdInfo.Description, text: string): Buffer {
  const t = Buffer.from(text, 'utf8');
  const b = Buffer.alloc(INFO_TYPE_SIZE + t.length);
  b.writeUInt16BE(type, 0);
  t.copy(b, INFO_TYPE_SIZE);
  return b;
}

export function encodeInfoBlockSize(c: BlockSizeConstraints): Buffer {
  const b = Buffer.alloc(INFO_BLOCK_SIZE_SIZE);
  b.writeUInt16BE(NbdInfo.BlockSize, 0);
  b.writeUInt32BE(c.minimum, 2);
  b.writeUInt32BE(c.preferred, 6);
  b.writeUInt32BE(c.maximum, 10);
  return b;
}

export type InfoReply =
  | { type: NbdInfo.Export; size: number; transmissionFlags: number }
  | { type: NbdInfo.Name | NbdInfo.Description; text: string }
  | ({ type: NbdInfo.BlockSize } & BlockSizeConstraints)
  | { type: 'unknown'; code: number };

/** An NBD_REP_INFO payload; an unknown type is returned as such (proto.md: clients ignore it). */
export function decodeInfo(data: Buffer): InfoReply {
  const bad = () =>
    new NbdProtocolError('NBD_ERR_BAD_REPLY', `NBD_REP_INFO of ${data.length} bytes is malformed`);
  if (data.length < INFO_TYPE_SIZE) throw bad();
  const type = data.readUInt16BE(0);
  switch (type) {
    case NbdInfo.Export: {
      if (data.length !== INFO_EXPORT_SIZE) throw bad();
      const size = data.readBigUInt64BE(INFO_TYPE_SIZE);
      if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw bad();
      return { type, size: Number(size), transmissionFlags: data.readUInt16BE(INFO_TYPE_SIZE + 8) };
    }
    case NbdInfo.Name:
    case NbdInfo.Description:
      return { type, text: data.toString('utf8', INFO_TYPE_SIZE) };
    case NbdInfo.BlockSize:
      if (data.length !== INFO_BLOCK_SIZE_SIZE) throw bad();
      return {
        type,
        minimum: data.readUInt32BE(2),
        preferred: data.readUInt32BE(6),
        maximum: data.readUInt32BE(10),
      };
    default:
      return { type: 'unknown', code: type };
  }
}

// ---- NBD_OPT_EXPORT_NAME reply -----------------------------------------------------------------

export function encodeExportNameReply(
  size: number,
  transmissionFlags: number,
  noZeroes: boolean,
): Buffer {
  const b = Buffer.alloc(EXPORT_NAME_REPLY_SIZE + (noZeroes ? 0 : EXPORT_NAME_REPLY_ZEROES));
  b.writeBigUInt64BE(BigInt(size), 0);
  b.writeUInt16BE(transmissionFlags, 8);
  return b;
}

export function decodeExportNameReply(b: Buffer): { size: number; transmissionFlags: number } {
  return { size: Number(b.readBigUInt64BE(0)), transmissionFlags: b.readUInt16BE(8) };
}

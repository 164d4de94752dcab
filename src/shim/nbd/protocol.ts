/**
 * The NBD protocol as data: magics, message sizes and field offsets, flags, option, reply, info,
 * command and error codes. Source: the NBD project's doc/proto.md (NetworkBlockDevice/nbd), the
 * section named beside each group. Every number on the wire is big-endian ("network byte order").
 * Nothing else lives here.
 */

// ---- Handshake (proto.md "Fixed newstyle negotiation") ----------------------------------------

/** ASCII 'NBDMAGIC', the first 8 bytes a server sends (also called INIT_PASSWD). */
export const NBD_MAGIC = 0x4e42444d41474943n;
/** ASCII 'IHAVEOPT': second 8 bytes of the greeting, and the magic of every option request. */
export const NBD_OPTS_MAGIC = 0x49484156454f5054n;
/** Magic of every option reply. */
export const NBD_REP_MAGIC = 0x3e889045565a9n;

/** Server greeting: NBDMAGIC (8) + IHAVEOPT (8) + handshake flags (2). */
export const GREETING_SIZE = 18;
export const GREETING_HANDSHAKE_FLAGS_OFFSET = 16;
/** Client flags: one u32 sent after the greeting. */
export const CLIENT_FLAGS_SIZE = 4;

/** Option request header: IHAVEOPT (8) + option (4) + data length (4). */
export const OPTION_HEADER_SIZE = 16;
export const OPTION_CODE_OFFSET = 8;
export const OPTION_LENGTH_OFFSET = 12;

/** Option reply header: magic (8) + option (4) + reply type (4) + data length (4). */
export const OPTION_REPLY_HEADER_SIZE = 20;
export const OPTION_REPLY_OPTION_OFFSET = 8;
export const OPTION_REPLY_TYPE_OFFSET = 12;
export const OPTION_REPLY_LENGTH_OFFSET = 16;

/** Reply to NBD_OPT_EXPORT_NAME: export size (8) + transmission flags (2) [+ 124 zeroes]. */
export const EXPORT_NAME_REPLY_SIZE = 10;
export const EXPORT_NAME_REPLY_ZEROES = 124;

/** Handshake flags, u16 (proto.md "Handshake flags"). */
export const enum HandshakeFlag {
  FixedNewstyle = 1 << 0,
  NoZeroes = 1 << 1,
}

/** Client flags, u32 (proto.md "Client flags"). */
export const enum ClientFlag {
  FixedNewstyle = 1 << 0,
  NoZeroes = 1 << 1,
}

/** Transmission flags, u16 (proto.md "Transmission flags"). */
export const enum TransmissionFlag {
  HasFlags = 1 << 0,
  ReadOnly = 1 << 1,
  SendFlush = 1 << 2,
  SendFua = 1 << 3,
  Rotational = 1 << 4,
  SendTrim = 1 << 5,
  SendWriteZeroes = 1 << 6,
  SendDf = 1 << 7,
  CanMultiConn = 1 << 8,
  SendResize = 1 << 9,
  SendCache = 1 << 10,
  SendFastZero = 1 << 11,
}

/** Option codes (proto.md "Option types"). */
export const enum NbdOption {
  ExportName = 1,
  Abort = 2,
  List = 3,
  PeekExport = 4,
  StartTls = 5,
  Info = 6,
  Go = 7,
  StructuredReply = 8,
  ListMetaContext = 9,
  SetMetaContext = 10,
}

/** Bit 31 marks an error reply (proto.md "Option reply types"). */
export const REP_ERROR_BIT = 0x80000000;

/** Option reply types (proto.md "Option reply types"). */
export const enum NbdReply {
  Ack = 1,
  Server = 2,
  Info = 3,
  MetaContext = 4,
  ErrUnsup = 0x80000001,
  ErrPolicy = 0x80000002,
  ErrInvalid = 0x80000003,
  ErrPlatform = 0x80000004,
  ErrTlsReqd = 0x80000005,
  ErrUnknown = 0x80000006,
  ErrShutdown = 0x80000007,
  ErrBlockSizeReqd = 0x80000008,
  ErrTooBig = 0x80000009,
}

/** NBD_REP_INFO information types (proto.md "NBD_REP_INFO"). */
export const enum NbdInfo {
  Export = 0,
  Name = 1,
  Description = 2,
  BlockSize = 3,
}

/** Sizes of NBD_REP_INFO payloads, including the 2-byte type. */
export const INFO_TYPE_SIZE = 2;
export const INFO_EXPORT_SIZE = 12; // type (2) + size (8) + transmission flags (2)
export const INFO_BLOCK_SIZE_SIZE = 14; // type (2) + minimum (4) + preferred (4) + maximum (4)

/** NBD_OPT_INFO / NBD_OPT_GO data: name length (4), name, request count (2), requests (2 each). */
export const GO_NAME_LENGTH_SIZE = 4;
export const GO_REQUEST_COUNT_SIZE = 2;
export const GO_REQUEST_SIZE = 2;

/** NBD_REP_SERVER data starts with the name length (4). */
export const REP_SERVER_NAME_LENGTH_SIZE = 4;
/** NBD_REP_META_CONTEXT data starts with the context id (4). */
export const META_CONTEXT_ID_SIZE = 4;
/** NBD_OPT_{LIST,SET}_META_CONTEXT: export name length (4), name, query count (4), queries. */
export const META_NAME_LENGTH_SIZE = 4;
export const META_QUERY_COUNT_SIZE = 4;
export const META_QUERY_LENGTH_SIZE = 4;

/** proto.md "Conventions": a string MUST be no longer than 4096 bytes. */
export const MAX_STRING_LENGTH = 4096;

/** proto.md "The base: metadata namespace". */
export const META_NAMESPACE_BASE = 'base:';
export const META_CONTEXT_BASE_ALLOCATION = 'base:allocation';

// ---- Transmission (proto.md "Transmission") ---------------------------------------------------

export const NBD_REQUEST_MAGIC = 0x25609513;
export const NBD_SIMPLE_REPLY_MAGIC = 0x67446698;
export const NBD_STRUCTURED_REPLY_MAGIC = 0x668e33ef;

/** Request: magic (4) flags (2) type (2) handle (8) offset (8) length (4), then WRITE data. */
export const REQUEST_HEADER_SIZE = 28;
export const REQUEST_FLAGS_OFFSET = 4;
export const REQUEST_TYPE_OFFSET = 6;
export const REQUEST_HANDLE_OFFSET = 8;
export const REQUEST_OFFSET_OFFSET = 16;
export const REQUEST_LENGTH_OFFSET = 24;

/** Simple reply: magic (4) error (4) handle (8), then READ data on success. */
export const SIMPLE_REPLY_SIZE = 16;
export const SIMPLE_REPLY_ERROR_OFFSET = 4;
export const SIMPLE_REPLY_HANDLE_OFFSET = 8;

/** Structured reply chunk: magic (4) flags (2) type (2) handle (8) length (4), then payload. */
export const STRUCTURED_REPLY_HEADER_SIZE = 20;
export const STRUCTURED_REPLY_FLAGS_OFFSET = 4;
export const STRUCTURED_REPLY_TYPE_OFFSET = 6;
export const STRUCTURED_REPLY_HANDLE_OFFSET = 8;
export const STRUCTURED_REPLY_LENGTH_OFFSET = 16;

/** Both reply kinds start with a 4-byte magic that tells them apart. */
export const REPLY_MAGIC_SIZE = 4;

/** NBD_REPLY_TYPE_OFFSET_DATA payload: offset (8) then data. */
export const OFFSET_DATA_OFFSET_SIZE = 8;
/** NBD_REPLY_TYPE_OFFSET_HOLE payload: offset (8) + hole size (4). */
export const OFFSET_HOLE_SIZE = 12;
/** Error chunk payload: error (4) + message length (2) + message [+ offset (8) for ERROR_OFFSET]. */
export const ERROR_CHUNK_FIXED_SIZE = 6;
export const ERROR_OFFSET_SIZE = 8;
/** NBD_REPLY_TYPE_BLOCK_STATUS payload: context id (4) then descriptors of length (4) + flags (4). */
export const BLOCK_STATUS_CONTEXT_SIZE = 4;
export const BLOCK_DESCRIPTOR_SIZE = 8;

/** Request types (proto.md "Request types"). */
export const enum NbdCommand {
  Read = 0,
  Write = 1,
  Disc = 2,
  Flush = 3,
  Trim = 4,
  Cache = 5,
  WriteZeroes = 6,
  BlockStatus = 7,
}

/** Command flags, u16 (proto.md "Command flags"). */
export const enum CommandFlag {
  Fua = 1 << 0,
  NoHole = 1 << 1,
  Df = 1 << 2,
  ReqOne = 1 << 3,
  FastZero = 1 << 4,
}

/** Structured reply flags (proto.md "Structured reply flags"). */
export const enum ReplyFlag {
  Done = 1 << 0,
}

/** Bit 15 marks an error chunk (proto.md "Structured reply types"). */
export const REPLY_TYPE_ERROR_BIT = 0x8000;

/** Structured reply types (proto.md "Structured reply types"). */
export const enum ReplyType {
  None = 0,
  OffsetData = 1,
  OffsetHole = 2,
  BlockStatus = 5,
  Error = 0x8001,
  ErrorOffset = 0x8002,
}

/** base:allocation status flags (proto.md "base:allocation metadata context"). */
export const enum AllocationState {
  Hole = 1 << 0,
  Zero = 1 << 1,
}

/** Error values (proto.md "Error values"); these, and only these, go on the wire. */
export const enum NbdErrno {
  Ok = 0,
  EPERM = 1,
  EIO = 5,
  ENOMEM = 12,
  EINVAL = 22,
  ENOSPC = 28,
  EOVERFLOW = 75,
  ENOTSUP = 95,
  ESHUTDOWN = 108,
}

// ---- Block size constraints (proto.md "Block size constraints") -------------------------------

/** Defaults a server without NBD_INFO_BLOCK_SIZE is assumed to have. */
export const DEFAULT_MINIMUM_BLOCK_SIZE = 1;
export const DEFAULT_PREFERRED_BLOCK_SIZE = 4096;
/** What a client "desiring maximum interoperability" limits READ/WRITE to: 2^25. */
export const INTEROPERABLE_MAXIMUM_BLOCK_SIZE = 32 * 1024 * 1024;
/** Largest minimum block size the protocol allows: 2^16. */
export const MAX_MINIMUM_BLOCK_SIZE = 65536;
/** The smallest preferred block size allowed: 2^9. */
export const MIN_PREFERRED_BLOCK_SIZE = 512;

/** IANA-reserved NBD port (proto.md "Newstyle negotiation"). */
export const NBD_DEFAULT_PORT = 10809;

/**
 * Fabrics commands (NVMe-oF 1.1, 3): Connect (3.3), Property Get/Set (3.4, 3.5) and Disconnect
 * (3.6, NVMe-oF 1.1 / TP 8017). All share the Fabrics SQE layout: opcode 7Fh, FCTYPE at byte 4,
 * SGL1 at 24, command-specific bytes from 40 (Figure 9).
 */
import { FABRICS_OPCODE, FabricsType } from './opcodes.js';
import { SQE_CID, SQE_SIZE, encodeSqe, decodeSqe } from './sqe.js';
import type { SglDescriptor } from './sgl.js';
import { type FieldSpec, decodeLayout, encodeLayout, need } from './codec.js';

// ---- Connect command (Figure 19) ----------------------------------------------------------------
export const CONNECT_RECFMT = 40; // u16 Record Format, 0 for this version
export const CONNECT_QID = 42; // u16 Queue ID, 0 = admin queue
export const CONNECT_SQSIZE = 44; // u16 Submission Queue Size, 0-based
export const CONNECT_CATTR = 46; // u8  Connect Attributes
export const CONNECT_KATO = 48; // u32 Keep Alive Timeout in ms (admin queue), 0 = disabled

export const CONNECT_RECFMT_1_0 = 0;
/** CATTR bit 2: the host asks the controller to disable SQ flow control (SQHD not reported). */
export const CATTR_DISABLE_SQ_FLOW_CONTROL = 1 << 2;

// ---- Connect data (Figure 20), 1024 bytes, sent as in-capsule data -----------------------------
export const CONNECT_DATA_SIZE = 1024;
export const CONNECT_DATA_HOSTID = 0; // 16 B Host Identifier
export const CONNECT_DATA_CNTLID = 16; // u16 Controller ID, 0xFFFF = dynamic controller model
export const CONNECT_DATA_SUBNQN = 256; // 256 B NUL-padded
export const CONNECT_DATA_HOSTNQN = 512; // 256 B NUL-padded
export const HOSTID_SIZE = 16;
export const NQN_FIELD_SIZE = 256;

/** CNTLID in Connect data: "any controller" in the dynamic model (NVMe-oF 1.1, 3.3). */
export const CNTLID_DYNAMIC = 0xffff;
/** CNTLID 0xFFFE: any controller, static model (NVMe-oF 1.1, 3.3). */
export const CNTLID_STATIC_ANY = 0xfffe;
/** Controller IDs FFF0h..FFFFh are reserved (NVMe Base 2.0, 3.1.2). */
export const CNTLID_MAX = 0xffef;
export const CNTLID_MIN = 0x0001;

export interface ConnectCommand {
  cid: number;
  recfmt: number;
  qid: number;
  /** 0-based: the queue has `sqsize + 1` entries. */
  sqsize: number;
  cattr: number;
  /** Keep Alive Timeout in milliseconds; 0 disables keep-alive. */
  kato: number;
  sgl: SglDescriptor;
}

export type ConnectCommandInit = Partial<ConnectCommand> & Pick<ConnectCommand, 'qid' | 'sqsize'>;

export function encodeConnectCommand(
  init: ConnectCommandInit,
  out: Buffer = Buffer.alloc(SQE_SIZE),
  offset = 0,
): Buffer {
  encodeSqe(
    { opcode: FABRICS_OPCODE, fctype: FabricsType.Connect, cid: init.cid ?? 0, sgl: init.sgl },
    out,
    offset,
  );
  out.writeUInt16LE(init.recfmt ?? CONNECT_RECFMT_1_0, offset + CONNECT_RECFMT);
  out.writeUInt16LE(init.qid, offset + CONNECT_QID);
  out.writeUInt16LE(init.sqsize, offset + CONNECT_SQSIZE);
  out.writeUInt8(init.cattr ?? 0, offset + CONNECT_CATTR);
  out.writeUInt32LE(init.kato ?? 0, offset + CONNECT_KATO);
  return out;
}

export function decodeConnectCommand(sqe: Buffer, offset = 0): ConnectCommand {
  const s = decodeSqe(sqe, offset);
  return {
    cid: s.cid,
    recfmt: sqe.readUInt16LE(offset + CONNECT_RECFMT),
    qid: sqe.readUInt16LE(offset + CONNECT_QID),
    sqsize: sqe.readUInt16LE(offset + CONNECT_SQSIZE),
    cattr: sqe[offset + CONNECT_CATTR],
    kato: sqe.readUInt32LE(offset + CONNECT_KATO),
    sgl: s.sgl,
  };
}

export interface ConnectData {
  /** 16-byte Host Identifier (the host's UUID in RFC 4122 byte order, as Linux sends it). */
  hostid: Buffer;
  cntlid: number;
  subnqn: string;
  hostnqn: string;
}

const CONNECT_DATA_LAYOUT: readonly FieldSpec<keyof ConnectData>[] = [
  { key: 'hostid', offset: CONNECT_DATA_HOSTID, kind: 'bytes', size: HOSTID_SIZE },
  { key: 'cntlid', offset: CONNECT_DATA_CNTLID, kind: 'u16' },
  { key: 'subnqn', offset: CONNECT_DATA_SUBNQN, kind: 'string', size: NQN_FIELD_SIZE },
  { key: 'hostnqn', offset: CONNECT_DATA_HOSTNQN, kind: 'string', size: NQN_FIELD_SIZE },
];

export function encodeConnectData(
  data: Partial<ConnectData> & Pick<ConnectData, 'subnqn' | 'hostnqn'>,
  out: Buffer = Buffer.alloc(CONNECT_DATA_SIZE),
  offset = 0,
): Buffer {
  return encodeLayout(
    CONNECT_DATA_LAYOUT,
    CONNECT_DATA_SIZE,
    { cntlid: CNTLID_DYNAMIC, ...data },
    out,
    offset,
    'Connect data',
  );
}

export function decodeConnectData(buf: Buffer, offset = 0): ConnectData {
  return decodeLayout(
    CONNECT_DATA_LAYOUT,
    CONNECT_DATA_SIZE,
    buf,
    offset,
    'Connect data',
  ) as unknown as ConnectData;
}

// ---- Connect response (Figure 21) ---------------------------------------------------------------
/**
 * Success: DW0 bits 15:0 CNTLID, bits 31:16 AUTHREQ (bit 16 ATR authentication required,
 * bit 17 ASCR secure channel concatenation required; NVMe Base 2.0 6.3 / TP 8006).
 */
export const AUTHREQ_ATR = 0x1;
export const AUTHREQ_ASCR = 0x2;

export const encodeConnectResponseDw0 = (cntlid: number, authreq = 0): number =>
  ((cntlid & 0xffff) | ((authreq & 0xffff) << 16)) >>> 0;

export const decodeConnectResponseDw0 = (dw0: number): { cntlid: number; authreq: number } => ({
  cntlid: dw0 & 0xffff,
  authreq: dw0 >>> 16,
});

/**
 * On status Connect Invalid Parameters (SCT 1, SC 82h), DW0 bits 15:0 IPO (byte offset of the
 * bad parameter) and bits 23:16 IATTR: bit 0 set when the offset is in the Connect data, clear
 * when it is in the SQE (NVMe-oF 1.1, Figure 21).
 */
export const IATTR_IN_CONNECT_DATA = 0x1;

export interface ConnectInvalidParameter {
  /** True: `ipo` is an offset into the Connect data; false: into the SQE. */
  inData: boolean;
  ipo: number;
}

export const encodeConnectInvalidParamDw0 = (p: ConnectInvalidParameter): number =>
  ((p.ipo & 0xffff) | ((p.inData ? IATTR_IN_CONNECT_DATA : 0) << 16)) >>> 0;

export const decodeConnectInvalidParamDw0 = (dw0: number): ConnectInvalidParameter => ({
  inData: ((dw0 >>> 16) & IATTR_IN_CONNECT_DATA) !== 0,
  ipo: dw0 & 0xffff,
});

// ---- Property Get / Property Set (Figures 22-25) ------------------------------------------------
export const PROPERTY_ATTRIB = 40; // u8 bits 2:0 size: 0 = 4 bytes, 1 = 8 bytes
export const PROPERTY_OFST = 44; // u32 property offset
export const PROPERTY_VALUE = 48; // u64 value (Property Set only)

export const PROPERTY_ATTRIB_SIZE_MASK = 0x7;
export const PROPERTY_ATTRIB_4_BYTES = 0;
export const PROPERTY_ATTRIB_8_BYTES = 1;

export type PropertySize = 4 | 8;

export interface PropertyGetCommand {
  cid: number;
  /** Raw ATTRIB bits 2:0. */
  attrib: number;
  /** 4 or 8 from ATTRIB; 0 when ATTRIB holds a reserved value (answer Invalid Field). */
  size: PropertySize | 0;
  offset: number;
}

export interface PropertySetCommand extends PropertyGetCommand {
  /** The 8-byte VALUE field; a 4-byte property uses its low 32 bits. */
  value: bigint;
}

const attribOf = (size: PropertySize): number =>
  size === 8 ? PROPERTY_ATTRIB_8_BYTES : PROPERTY_ATTRIB_4_BYTES;

function sizeOf(attrib: number): PropertySize | 0 {
  const a = attrib & PROPERTY_ATTRIB_SIZE_MASK;
  return a === PROPERTY_ATTRIB_4_BYTES ? 4 : a === PROPERTY_ATTRIB_8_BYTES ? 8 : 0;
}

export function encodePropertyGet(
  init: { cid?: number; offset: number; size: PropertySize },
  out: Buffer = Buffer.alloc(SQE_SIZE),
  at = 0,
): Buffer {
  encodeSqe(
    { opcode: FABRICS_OPCODE, fctype: FabricsType.PropertyGet, cid: init.cid ?? 0 },
    out,
    at,
  );
  out[at + PROPERTY_ATTRIB] = attribOf(init.size);
  out.writeUInt32LE(init.offset, at + PROPERTY_OFST);
  return out;
}

export function decodePropertyGet(sqe: Buffer, at = 0): PropertyGetCommand {
  need(sqe, at, SQE_SIZE, 'Property Get');
  const attrib = sqe[at + PROPERTY_ATTRIB];
  return {
    cid: sqe.readUInt16LE(at + SQE_CID),
    attrib,
    size: sizeOf(attrib),
    offset: sqe.readUInt32LE(at + PROPERTY_OFST),
  };
}

export function encodePropertySet(
  init: { cid?: number; offset: number; size: PropertySize; value: number | bigint },
  out: Buffer = Buffer.alloc(SQE_SIZE),
  at = 0,
): Buffer {
  encodeSqe(
    { opcode: FABRICS_OPCODE, fctype: FabricsType.PropertySet, cid: init.cid ?? 0 },
    out,
    at,
  );
  out[at + PROPERTY_ATTRIB] = attribOf(init.size);
  out.writeUInt32LE(init.offset, at + PROPERTY_OFST);
  out.writeBigUInt64LE(BigInt(init.value), at + PROPERTY_VALUE);
  return out;
}

export function decodePropertySet(sqe: Buffer, at = 0): PropertySetCommand {
  return { ...decodePropertyGet(sqe, at), value: sqe.readBigUInt64LE(at + PROPERTY_VALUE) };
}

/** Property Get response: the value in CQE DW0 (low) and DW1 (high) (Figure 23). */
export function encodePropertyGetResponse(value: number | bigint): { dw0: number; dw1: number } {
  const v = BigInt(value);
  return { dw0: Number(v & 0xffffffffn), dw1: Number((v >> 32n) & 0xffffffffn) };
}

export const decodePropertyGetResponse = (dw0: number, dw1: number): bigint =>
  (BigInt(dw1 >>> 0) << 32n) | BigInt(dw0 >>> 0);

// ---- Disconnect (NVMe-oF 1.1, 3.6): RECFMT u16 at 40, must be 0 --------------------------------
export const DISCONNECT_RECFMT = 40;

export function encodeDisconnect(
  init: { cid?: number; recfmt?: number } = {},
  out: Buffer = Buffer.alloc(SQE_SIZE),
  at = 0,
): Buffer {
  encodeSqe(
    { opcode: FABRICS_OPCODE, fctype: FabricsType.Disconnect, cid: init.cid ?? 0 },
    out,
    at,
  );
  out.writeUInt16LE(init.recfmt ?? 0, at + DISCONNECT_RECFMT);
  return out;
}

export function decodeDisconnect(sqe: Buffer, at = 0): { cid: number; recfmt: number } {
  need(sqe, at, SQE_SIZE, 'Disconnect');
  return { cid: sqe.readUInt16LE(at + SQE_CID), recfmt: sqe.readUInt16LE(at + DISCONNECT_RECFMT) };
}

// ---- Authentication Send / Receive (NVMe Base 2.0, 6.3 / 6.4): field offsets only -------------
export const AUTH_SPSP0 = 41; // u8 Security Protocol Specific 0
export const AUTH_SPSP1 = 42; // u8 Security Protocol Specific 1
export const AUTH_SECP = 43; // u8 Security Protocol (E9h = NVMe in-band authentication)
export const AUTH_LENGTH = 44; // u32 TL (Send: transfer length) or AL (Receive: allocation length)
export const AUTH_SECP_NVME = 0xe9;

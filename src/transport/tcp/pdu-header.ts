/**
 * The NVMe/TCP common header and the rules every received PDU header must follow
 * (NVMe/TCP 1.0, 3.6.2.1 common header and the per-PDU sections 3.6.2.2-3.6.2.10). Each PDU type
 * has a fixed HLEN, a fixed set of allowed FLAGS, and either no data (PDO 0, PLEN = header)
 * or data at PDO, aligned to the receiver's PDA. Violations are fatal: FES 01h with the byte
 * offset of the lowest field in error as FEI (checked in field order, as FreeBSD nvmf_tcp.h does).
 */
import { DIGEST_SIZE, headerDigest } from './digest.js';
import { TcpTransportError, TermReqFes } from './errors.js';

export const CH_SIZE = 8;
export const CH_TYPE = 0; // u8  PDU-Type
export const CH_FLAGS = 1; // u8  FLAGS
export const CH_HLEN = 2; // u8  Header Length (without the header digest)
export const CH_PDO = 3; // u8  PDU Data Offset (0 when there is no data)
export const CH_PLEN = 4; // u32 PDU Length: header, digests, padding and data

/** PDU-Type (NVMe/TCP 1.0, 3.6.2.1). Bit 0 is the direction: 0 host→controller, 1 controller→host. */
export const enum PduType {
  IcReq = 0x00,
  IcResp = 0x01,
  H2CTermReq = 0x02,
  C2HTermReq = 0x03,
  CapsuleCmd = 0x04,
  CapsuleResp = 0x05,
  H2CData = 0x06,
  C2HData = 0x07,
  R2T = 0x09,
}

/** FLAGS bits (NVMe/TCP 1.0, 3.6.2.1, 3.6.2.8, 3.6.2.9). */
export const enum PduFlag {
  HeaderDigest = 0x01, // HDGSTF
  DataDigest = 0x02, // DDGSTF
  LastPdu = 0x04, // H2CData / C2HData LAST_PDU
  Success = 0x08, // C2HData SUCCESS: no CapsuleResp follows
}

const DIRECTION_BIT = 0x01;

export const IC_PDU_SIZE = 128; // ICReq and ICResp: HLEN = PLEN = 128
export const TERM_REQ_HLEN = 24;
/** TermReq PLEN: the header plus at most 128 bytes of the offending PDU header. */
export const TERM_REQ_MAX_DATA = 128;
export const TERM_REQ_MAX_PLEN = TERM_REQ_HLEN + TERM_REQ_MAX_DATA;
export const CAPSULE_CMD_HLEN = 72; // CH + 64-byte SQE
export const CAPSULE_RESP_HLEN = 24; // CH + 16-byte CQE
export const DATA_PDU_HLEN = 24; // H2CData and C2HData
export const R2T_HLEN = 24;

/** The largest PDO (a u8 field). */
const MAX_PDO = 0xff;

interface TypeRule {
  hlen: number;
  flags: number;
  /** May carry data at PDO (digestible data). */
  data: boolean;
  /** Carries digests when negotiated (everything but IC and TermReq PDUs). */
  digests: boolean;
}

const DIGEST_FLAGS = PduFlag.HeaderDigest | PduFlag.DataDigest;

const RULES: Partial<Record<number, TypeRule>> = {
  [PduType.IcReq]: { hlen: IC_PDU_SIZE, flags: 0, data: false, digests: false },
  [PduType.IcResp]: { hlen: IC_PDU_SIZE, flags: 0, data: false, digests: false },
  [PduType.H2CTermReq]: { hlen: TERM_REQ_HLEN, flags: 0, data: false, digests: false },
  [PduType.C2HTermReq]: { hlen: TERM_REQ_HLEN, flags: 0, data: false, digests: false },
  [PduType.CapsuleCmd]: { hlen: CAPSULE_CMD_HLEN, flags: DIGEST_FLAGS, data: true, digests: true },
  [PduType.CapsuleResp]: {
    hlen: CAPSULE_RESP_HLEN,
    flags: PduFlag.HeaderDigest,
    data: false,
    digests: true,
  },
  [PduType.H2CData]: {
    hlen: DATA_PDU_HLEN,
    flags: DIGEST_FLAGS | PduFlag.LastPdu,
    data: true,
    digests: true,
  },
  [PduType.C2HData]: {
    hlen: DATA_PDU_HLEN,
    flags: DIGEST_FLAGS | PduFlag.LastPdu | PduFlag.Success,
    data: true,
    digests: true,
  },
  [PduType.R2T]: { hlen: R2T_HLEN, flags: PduFlag.HeaderDigest, data: false, digests: true },
};

/** The PDU types a controller receives have direction bit 0; a host receives bit 1. */
export const isKnownPduType = (type: number): boolean => RULES[type] !== undefined;

/** What a receiver knows when it checks a header: its role and what was negotiated. */
export interface HeaderRules {
  /** true on the controller (receives host→controller PDUs), false on the host. */
  controller: boolean;
  hdgst: boolean;
  ddgst: boolean;
  /** Alignment in bytes the receiver asked for: (HPDA+1)*4 on the host, (CPDA+1)*4 on the controller. */
  pdoAlignment: number;
}

/** What the sender negotiated for the PDUs it sends. */
export interface TxRules {
  hdgst: boolean;
  ddgst: boolean;
  /** Alignment in bytes of PDO the peer asked for. */
  pdoAlignment: number;
}

/** Rules before ICReq/ICResp: no digests, dword alignment. */
export const INITIAL_PDO_ALIGNMENT = 4;

/** PDA (0's based dwords, 0..31) to a byte alignment (NVMe/TCP 1.0, 3.6.2.2 / 3.6.2.3). */
export const pdaAlignment = (pda: number): number => (pda + 1) * 4;

const fail = (fei: number, message: string): TcpTransportError =>
  new TcpTransportError(TermReqFes.InvalidHeaderField, fei, message);

/**
 * Checks the common header at `at` (8 bytes must be present) against `rules` and returns the
 * length of the PDU's data section without digest or padding (the echoed header for a TermReq).
 * Throws TcpTransportError on the lowest field in error.
 */
export function checkCommonHeader(buf: Buffer, at: number, rules: HeaderRules): number {
  const type = buf[at + CH_TYPE];
  const flags = buf[at + CH_FLAGS];
  const hlen = buf[at + CH_HLEN];
  const pdo = buf[at + CH_PDO];
  const plen = buf.readUInt32LE(at + CH_PLEN);
  const rule = RULES[type];
  if (!rule || ((type & DIRECTION_BIT) === 0) !== rules.controller) {
    throw fail(CH_TYPE, `PDU type 0x${type.toString(16)} is not one this end receives`);
  }
  if ((flags & ~rule.flags) !== 0) {
    throw fail(
      CH_FLAGS,
      `flags 0x${flags.toString(16)} not valid for PDU type 0x${type.toString(16)}`,
    );
  }
  if (rule.digests) {
    if (((flags & PduFlag.HeaderDigest) !== 0) !== rules.hdgst) {
      throw fail(
        CH_FLAGS,
        `HDGSTF ${rules.hdgst ? 'missing' : 'set'} but header digests are ${rules.hdgst ? 'on' : 'off'}`,
      );
    }
    if ((flags & PduFlag.DataDigest) !== 0 && !rules.ddgst) {
      throw fail(CH_FLAGS, 'DDGSTF set but data digests are off');
    }
  }
  // NVMe/TCP 1.0, 3.6.2.9: SUCCESS is only valid together with LAST_PDU.
  if ((flags & (PduFlag.Success | PduFlag.LastPdu)) === PduFlag.Success) {
    throw fail(CH_FLAGS, 'C2HData SUCCESS flag without LAST_PDU');
  }
  if (hlen !== rule.hlen) {
    throw fail(CH_HLEN, `HLEN ${hlen} for PDU type 0x${type.toString(16)}, expected ${rule.hlen}`);
  }
  if (type === PduType.H2CTermReq || type === PduType.C2HTermReq) {
    // NVMe/TCP 1.0, 3.6.2.4: a TermReq with an invalid length closes the connection unreported.
    if (plen < TERM_REQ_HLEN || plen > TERM_REQ_MAX_PLEN) {
      throw new TcpTransportError(
        TermReqFes.InvalidHeaderField,
        CH_PLEN,
        `TermReq PLEN ${plen} outside ${TERM_REQ_HLEN}..${TERM_REQ_MAX_PLEN}`,
        false,
      );
    }
    if (pdo !== 0) throw fail(CH_PDO, `PDO ${pdo} in a TermReq`);
    return plen - hlen;
  }
  const fullHlen = hlen + ((flags & PduFlag.HeaderDigest) !== 0 ? DIGEST_SIZE : 0);
  if (!rule.data) {
    if (pdo !== 0) throw fail(CH_PDO, `PDO ${pdo} in a PDU without data`);
    if (plen !== fullHlen) throw fail(CH_PLEN, `PLEN ${plen}, expected ${fullHlen}`);
    return 0;
  }
  // A PLEN shorter than the header is reported as such, before the PDO that depends on it.
  if (plen < fullHlen) throw fail(CH_PLEN, `PLEN ${plen} shorter than the header (${fullHlen})`);
  const noData = plen === fullHlen;
  if (!(noData && pdo === 0)) {
    if (pdo < fullHlen || pdo > plen || pdo % rules.pdoAlignment !== 0) {
      throw fail(
        CH_PDO,
        `PDO ${pdo} with header of ${fullHlen} bytes and alignment ${rules.pdoAlignment}`,
      );
    }
  }
  let dataLength = noData ? 0 : plen - pdo;
  if ((flags & PduFlag.DataDigest) !== 0) {
    if (dataLength <= DIGEST_SIZE)
      throw fail(CH_PLEN, `PLEN ${plen} leaves no data before the data digest`);
    dataLength -= DIGEST_SIZE;
  } else if (rules.ddgst && dataLength > 0) {
    throw fail(CH_FLAGS, 'DDGSTF missing on a PDU with data while data digests are on');
  }
  return dataLength;
}

/** Layout of a PDU this end is about to send: where the data starts and how long it all is. */
export interface TxLayout {
  /** Bytes before the data: header, header digest and padding (= PDO, or the whole PDU). */
  headerSize: number;
  pdo: number;
  plen: number;
  flags: number;
}

/** Computes PDO/PLEN for a PDU with `hlen` header bytes and `dataLength` data bytes. */
export function txLayout(
  hlen: number,
  dataLength: number,
  flags: number,
  tx: TxRules,
  digests = true,
): TxLayout {
  const hd = digests && tx.hdgst ? DIGEST_SIZE : 0;
  const dd = digests && tx.ddgst && dataLength > 0 ? DIGEST_SIZE : 0;
  const full = hlen + hd;
  const pdo = dataLength > 0 ? Math.ceil(full / tx.pdoAlignment) * tx.pdoAlignment : 0;
  if (pdo > MAX_PDO) throw new RangeError(`PDO ${pdo} does not fit in a byte`);
  const headerSize = dataLength > 0 ? pdo : full;
  return {
    headerSize,
    pdo,
    plen: headerSize + dataLength + dd,
    flags: flags | (hd ? PduFlag.HeaderDigest : 0) | (dd ? PduFlag.DataDigest : 0),
  };
}

/**
 * Allocates a zeroed header of `layout.headerSize` bytes with the common header written; the
 * caller fills the type-specific fields and calls sealHeader().
 */
export function allocHeader(type: PduType, hlen: number, layout: TxLayout): Buffer {
  const buf = Buffer.alloc(layout.headerSize);
  buf[CH_TYPE] = type;
  buf[CH_FLAGS] = layout.flags;
  buf[CH_HLEN] = hlen;
  buf[CH_PDO] = layout.pdo;
  buf.writeUInt32LE(layout.plen, CH_PLEN);
  return buf;
}

/**
 * Bytes before the data of a digest-carrying PDU this end sends: the header, its digest and the
 * padding up to PDO (the same numbers as txLayout().headerSize, without building a layout).
 */
export function pduHeaderSize(hlen: number, dataLength: number, tx: TxRules): number {
  const full = hlen + (tx.hdgst ? DIGEST_SIZE : 0);
  if (dataLength === 0) return full;
  const pdo = Math.ceil(full / tx.pdoAlignment) * tx.pdoAlignment;
  if (pdo > MAX_PDO) throw new RangeError(`PDO ${pdo} does not fit in a byte`);
  return pdo;
}

/**
 * Writes the common header of a digest-carrying PDU at `buf[at]` whose `pduHeaderSize()` bytes
 * are zero (a TxBatch arena): the data path's allocation-free twin of txLayout + allocHeader.
 * The caller fills the type-specific fields and calls sealHeader(buf, at).
 */
export function writeCommonHeader(
  buf: Buffer,
  at: number,
  type: PduType,
  hlen: number,
  dataLength: number,
  flags: number,
  tx: TxRules,
): void {
  const headerSize = pduHeaderSize(hlen, dataLength, tx);
  let plen = headerSize;
  if (tx.hdgst) flags |= PduFlag.HeaderDigest;
  if (dataLength > 0) {
    plen += dataLength;
    if (tx.ddgst) {
      flags |= PduFlag.DataDigest;
      plen += DIGEST_SIZE;
    }
  }
  buf[at + CH_TYPE] = type;
  buf[at + CH_FLAGS] = flags;
  buf[at + CH_HLEN] = hlen;
  buf[at + CH_PDO] = dataLength > 0 ? headerSize : 0;
  buf.writeUInt32LE(plen, at + CH_PLEN);
}

/** Writes the header digest of the header at `buf[at]` when HDGSTF is set (the padding after it is already zero). */
export function sealHeader(buf: Buffer, at = 0): Buffer {
  if ((buf[at + CH_FLAGS] & PduFlag.HeaderDigest) !== 0) {
    const hlen = buf[at + CH_HLEN];
    buf.writeUInt32LE(headerDigest(buf.subarray(at, at + hlen), hlen), at + hlen);
  }
  return buf;
}

/**
 * Test-only NVMe/TCP PDU builder, written from the NVMe/TCP 1.0 figures and independent of
 * src/transport/tcp (its own CRC32C, its own offsets as literals), so that a bug shared by our
 * encoder and decoder cannot hide behind a round trip.
 */

const CRC32C_POLY_REFLECTED = 0x82f63b78;
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CRC32C_POLY_REFLECTED : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** Table-driven CRC32C (Castagnoli), reflected, init and final XOR 0xFFFFFFFF. */
export function crc32c(...parts: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const p of parts) for (const byte of p) c = TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface Wire {
  hdgst?: boolean;
  ddgst?: boolean;
  /** PDO alignment in bytes for data PDUs (default 4). */
  align?: number;
}

const le32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};

/**
 * A PDU from its type, flags, type-specific header bytes (after the 8-byte common header)
 * and data: computes HLEN, PDO (with zero padding), PLEN and both digests.
 */
export function pdu(
  type: number,
  flags: number,
  specific: Buffer,
  data?: Buffer,
  w: Wire = {},
  digestible = true,
): Buffer {
  const hlen = 8 + specific.length;
  const hd = digestible && w.hdgst ? 4 : 0;
  const hasData = data !== undefined && data.length > 0;
  const dd = digestible && w.ddgst && hasData ? 4 : 0;
  const align = w.align ?? 4;
  const pdo = hasData ? Math.ceil((hlen + hd) / align) * align : 0;
  const headerSize = hasData ? pdo : hlen + hd;
  const plen = headerSize + (hasData ? data.length : 0) + dd;
  const ch = Buffer.from([type, flags | (hd ? 1 : 0) | (dd ? 2 : 0), hlen, pdo, 0, 0, 0, 0]);
  ch.writeUInt32LE(plen, 4);
  const header = Buffer.concat([ch, specific]);
  const parts: Buffer[] = [header];
  if (hd) parts.push(le32(crc32c(header)));
  if (hasData) {
    parts.push(Buffer.alloc(pdo - hlen - hd));
    parts.push(data);
    if (dd) parts.push(le32(crc32c(data)));
  }
  return Buffer.concat(parts);
}

export function icReq(
  o: { pfv?: number; hpda?: number; dgst?: number; maxr2t?: number } = {},
): Buffer {
  const s = Buffer.alloc(120);
  s.writeUInt16LE(o.pfv ?? 0, 0);
  s[2] = o.hpda ?? 0;
  s[3] = o.dgst ?? 0;
  s.writeUInt32LE(o.maxr2t ?? 0, 4);
  return pdu(0x00, 0, s, undefined, {}, false);
}

export function icResp(
  o: { pfv?: number; cpda?: number; dgst?: number; maxh2cdata?: number } = {},
): Buffer {
  const s = Buffer.alloc(120);
  s.writeUInt16LE(o.pfv ?? 0, 0);
  s[2] = o.cpda ?? 0;
  s[3] = o.dgst ?? 0;
  s.writeUInt32LE(o.maxh2cdata ?? 131072, 4);
  return pdu(0x01, 0, s, undefined, {}, false);
}

export function termReq(
  type: 0x02 | 0x03,
  fes: number,
  fei: number,
  echo: Buffer = Buffer.alloc(0),
): Buffer {
  const s = Buffer.alloc(16);
  s.writeUInt16LE(fes, 0);
  s.writeUInt32LE(fei, 2);
  const ch = Buffer.from([type, 0, 24, 0, 0, 0, 0, 0]);
  ch.writeUInt32LE(24 + echo.length, 4);
  return Buffer.concat([ch, s, echo]);
}

/** A 64-byte SQE: opcode, CID, NSID, SGL1 (identifier byte, length), CDW10-12. */
export function sqe(o: {
  opcode: number;
  cid?: number;
  nsid?: number;
  sglId?: number;
  sglLength?: number;
  cdw10?: number;
  cdw11?: number;
  cdw12?: number;
  fctype?: number;
}): Buffer {
  const b = Buffer.alloc(64);
  b[0] = o.opcode;
  b[1] = 0x40; // PSDT 01b: SGL
  b.writeUInt16LE(o.cid ?? 0, 2);
  if (o.fctype !== undefined) b[4] = o.fctype;
  else b.writeUInt32LE(o.nsid ?? 1, 4);
  b.writeUInt32LE(o.sglLength ?? 0, 24 + 8);
  b[24 + 15] = o.sglId ?? 0x5a;
  b.writeUInt32LE(o.cdw10 ?? 0, 40);
  b.writeUInt32LE(o.cdw11 ?? 0, 44);
  b.writeUInt32LE(o.cdw12 ?? 0, 48);
  return b;
}

export const capsuleCmd = (sqeBytes: Buffer, data?: Buffer, w: Wire = {}): Buffer =>
  pdu(0x04, 0, sqeBytes, data, w);

export function capsuleResp(
  o: { cid: number; status?: number; sqhd?: number; sqid?: number; dw0?: number; dw1?: number },
  w: Wire = {},
): Buffer {
  const c = Buffer.alloc(16);
  c.writeUInt32LE(o.dw0 ?? 0, 0);
  c.writeUInt32LE(o.dw1 ?? 0, 4);
  c.writeUInt16LE(o.sqhd ?? 0, 8);
  c.writeUInt16LE(o.sqid ?? 0, 10);
  c.writeUInt16LE(o.cid, 12);
  c.writeUInt16LE(o.status ?? 0, 14);
  return pdu(0x05, 0, c, undefined, w);
}

function dataSpecific(cccid: number, ttag: number, offset: number, length: number): Buffer {
  const s = Buffer.alloc(16);
  s.writeUInt16LE(cccid, 0);
  s.writeUInt16LE(ttag, 2);
  s.writeUInt32LE(offset, 4);
  s.writeUInt32LE(length, 8);
  return s;
}

export const h2cData = (
  o: { cccid: number; ttag: number; datao: number; data: Buffer; last?: boolean; datal?: number },
  w: Wire = {},
): Buffer =>
  pdu(
    0x06,
    o.last ? 0x04 : 0,
    dataSpecific(o.cccid, o.ttag, o.datao, o.datal ?? o.data.length),
    o.data,
    w,
  );

export const c2hData = (
  o: { cccid: number; datao: number; data: Buffer; last?: boolean; success?: boolean },
  w: Wire = {},
): Buffer =>
  pdu(
    0x07,
    (o.last ? 0x04 : 0) | (o.success ? 0x08 : 0),
    dataSpecific(o.cccid, 0, o.datao, o.data.length),
    o.data,
    w,
  );

export const r2t = (
  o: { cccid: number; ttag: number; r2to: number; r2tl: number },
  w: Wire = {},
): Buffer => pdu(0x09, 0, dataSpecific(o.cccid, o.ttag, o.r2to, o.r2tl), undefined, w);

/** Splits a byte stream into PDUs by PLEN (for reading what a peer sent). */
export function splitPdus(stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (stream.length - at >= 8) {
    const plen = stream.readUInt32LE(at + 4);
    if (plen < 8 || stream.length - at < plen) break;
    out.push(stream.subarray(at, at + plen));
    at += plen;
  }
  return out;
}

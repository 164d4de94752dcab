/**
 * A raw NVMe/TCP host for the malformed-PDU tests: every PDU is laid down from the byte offsets of
 * the NVMe/TCP 1.0 figures (3.6.2) and NVMe-oF 1.1 (Connect), never with our own encoders, so a
 * misread field cannot hide behind an encoder that shares it. Digests are CRC32C from
 * @node-rs/crc32, stored little-endian after the header / data.
 */
import net from 'node:net';
import { crc32c } from '@node-rs/crc32';
import { buildStruct } from '../../../unit/nvme/support/spec-struct.js';

export const PDU = {
  IC_REQ: 0x00,
  IC_RESP: 0x01,
  H2C_TERM_REQ: 0x02,
  C2H_TERM_REQ: 0x03,
  CAPSULE_CMD: 0x04,
  CAPSULE_RESP: 0x05,
  H2C_DATA: 0x06,
  C2H_DATA: 0x07,
  R2T: 0x09,
} as const;
export const FLAG = { HDGSTF: 0x01, DDGSTF: 0x02, LAST_PDU: 0x04, SUCCESS: 0x08 } as const;

const CH = 8; // common header: PDU-Type 0, FLAGS 1, HLEN 2, PDO 3, PLEN 4..7
const IC_LEN = 128;
const CAPSULE_CMD_HLEN = 72;
const DATA_HLEN = 24;
const DIGEST = 4;

export interface Digests {
  hdgst?: boolean;
  ddgst?: boolean;
}

const le32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0, 0);
  return b;
};

/** ICReq (Figure 26): PFV 0, HPDA, DGST bit 0 HDGST_ENABLE / bit 1 DDGST_ENABLE, MAXR2T. */
export const icReq = (d: Digests = {}, hpda = 0, maxr2t = 0): Buffer =>
  buildStruct(IC_LEN, [
    [0, 'u8', PDU.IC_REQ],
    [2, 'u8', IC_LEN],
    [4, 'u32', IC_LEN],
    [8, 'u16', 0],
    [10, 'u8', hpda],
    [11, 'u8', (d.hdgst ? 1 : 0) | (d.ddgst ? 2 : 0)],
    [12, 'u32', maxr2t],
  ]);

/**
 * A PDU with header `hdr` (its first 8 bytes are filled in here), optional data right after the
 * header (and header digest; PDO = that length, no padding with CPDA 0), digests as negotiated.
 */
export function pdu(
  type: number,
  flags: number,
  hdr: Buffer,
  data: Buffer | undefined,
  d: Digests,
): Buffer {
  const hlen = hdr.length;
  const hd = d.hdgst ? DIGEST : 0;
  const dd = d.ddgst && data && data.length > 0 ? DIGEST : 0;
  const pdo = data && data.length > 0 ? hlen + hd : 0;
  const plen = hlen + hd + (data?.length ?? 0) + dd;
  hdr[0] = type;
  hdr[1] = flags | (hd ? FLAG.HDGSTF : 0) | (dd ? FLAG.DDGSTF : 0);
  hdr[2] = hlen;
  hdr[3] = pdo;
  hdr.writeUInt32LE(plen, 4);
  const parts = [hdr];
  if (hd) parts.push(le32(crc32c(hdr)));
  if (data && data.length > 0) parts.push(data);
  if (dd) parts.push(le32(crc32c(data!)));
  return Buffer.concat(parts);
}

/** CapsuleCmd (Figure 29): the 64-byte SQE after the common header, in-capsule data at PDO. */
export function capsuleCmd(sqe: Buffer, data: Buffer | undefined, d: Digests): Buffer {
  const hdr = Buffer.alloc(CAPSULE_CMD_HLEN);
  sqe.copy(hdr, CH);
  return pdu(PDU.CAPSULE_CMD, 0, hdr, data, d);
}

/** H2CData (Figure 31): CCCID 8, TTAG 10, DATAO 12, DATAL 16. */
export function h2cData(
  o: { cccid: number; ttag: number; datao: number; data: Buffer; last: boolean; datal?: number },
  d: Digests,
): Buffer {
  const hdr = buildStruct(DATA_HLEN, [
    [8, 'u16', o.cccid],
    [10, 'u16', o.ttag],
    [12, 'u32', o.datao],
    [16, 'u32', o.datal ?? o.data.length],
  ]);
  return pdu(PDU.H2C_DATA, o.last ? FLAG.LAST_PDU : 0, hdr, o.data, d);
}

/** SQE with SGL1 in-capsule (Data Block, Offset subtype) or transport (5Ah) of `length`. */
export function sqe(
  fields: Parameters<typeof buildStruct>[1],
  sgl: { id: number; length: number },
): Buffer {
  return buildStruct(64, [[1, 'u8', 0x40], ...fields, [32, 'u32', sgl.length], [39, 'u8', sgl.id]]);
}
export const SGL_IN_CAPSULE = 0x01;
export const SGL_TRANSPORT = 0x5a;

/** Connect SQE (NVMe-oF Figure 19) and its 1024 bytes of data (Figure 20), in-capsule. */
export function connect(o: {
  cid: number;
  qid: number;
  sqsize: number;
  kato?: number;
  cntlid?: number;
  subnqn: string;
  hostnqn: string;
}): { sqe: Buffer; data: Buffer } {
  return {
    sqe: sqe(
      [
        [0, 'u8', 0x7f],
        [2, 'u16', o.cid],
        [4, 'u8', 0x01],
        [42, 'u16', o.qid],
        [44, 'u16', o.sqsize],
        [48, 'u32', o.kato ?? 0],
      ],
      { id: SGL_IN_CAPSULE, length: 1024 },
    ),
    data: buildStruct(1024, [
      [0, 'bytes', Buffer.alloc(16, 0x5a)],
      [16, 'u16', o.cntlid ?? 0xffff],
      [256, 'nul', o.subnqn],
      [512, 'nul', o.hostnqn],
    ]),
  };
}

/** A received PDU: the whole bytes, with the common header fields read out. */
export interface RawPdu {
  type: number;
  flags: number;
  hlen: number;
  pdo: number;
  plen: number;
  bytes: Buffer;
}

/** The status field of a CapsuleResp CQE (bytes 8 + 14): SCT and SC. */
export const cqeStatus = (p: RawPdu): { cid: number; sct: number; sc: number; dw0: number } => {
  const status = p.bytes.readUInt16LE(CH + 14);
  return {
    cid: p.bytes.readUInt16LE(CH + 12),
    sct: (status >>> 9) & 0x7,
    sc: (status >>> 1) & 0xff,
    dw0: p.bytes.readUInt32LE(CH),
  };
};

/** C2HTermReq (Figure 28): FES u16 at 8, FEI u32 at 10. */
export const termReq = (p: RawPdu): { fes: number; fei: number } => ({
  fes: p.bytes.readUInt16LE(8),
  fei: p.bytes.readUInt32LE(10),
});

export class RawHost {
  private buf = Buffer.alloc(0);
  private readonly queue: RawPdu[] = [];
  private waiter: (() => void) | undefined;
  closed = false;
  readonly closedPromise: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      while (this.buf.length >= CH) {
        const plen = this.buf.readUInt32LE(4);
        if (plen < CH || this.buf.length < plen) break;
        const bytes = this.buf.subarray(0, plen);
        this.buf = this.buf.subarray(plen);
        this.queue.push({
          type: bytes[0],
          flags: bytes[1],
          hlen: bytes[2],
          pdo: bytes[3],
          plen,
          bytes,
        });
      }
      this.wake();
    });
    socket.on('error', () => {});
    this.closedPromise = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        this.wake();
        resolve();
      }),
    );
  }

  /** Opens a TCP connection; nothing is sent yet. */
  static async open(port: number, host = '127.0.0.1'): Promise<RawHost> {
    const socket = net.connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    return new RawHost(socket);
  }

  /** Opens and completes the ICReq/ICResp exchange with the digests asked for. */
  static async connect(port: number, d: Digests = {}): Promise<{ host: RawHost; icResp: RawPdu }> {
    const host = await RawHost.open(port);
    host.send(icReq(d));
    const icResp = await host.next();
    if (icResp.type !== PDU.IC_RESP)
      throw new Error(`expected ICResp, got PDU type ${icResp.type}`);
    return { host, icResp };
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next PDU; rejects when the connection closes first. */
  async next(): Promise<RawPdu> {
    for (;;) {
      const p = this.queue.shift();
      if (p) return p;
      if (this.closed) throw new Error('connection closed with no further PDU');
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /** Connects the admin queue (in-capsule Connect) and returns the Connect response status. */
  async connectAdmin(subnqn: string, hostnqn: string, d: Digests = {}, kato = 0) {
    const c = connect({ cid: 1, qid: 0, sqsize: 31, kato, subnqn, hostnqn });
    this.send(capsuleCmd(c.sqe, c.data, d));
    const resp = await this.next();
    if (resp.type !== PDU.CAPSULE_RESP) throw new Error(`expected CapsuleResp, got ${resp.type}`);
    return cqeStatus(resp);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Property Set CC (NVMe-oF Figure 24): ATTRIB 0 (4 bytes) at 40, OFST 14h at 44, VALUE at 48. */
export const propertySetCc = (cid: number, value: number): Buffer =>
  sqe(
    [
      [0, 'u8', 0x7f],
      [2, 'u16', cid],
      [4, 'u8', 0x00],
      [40, 'u8', 0],
      [44, 'u32', 0x14],
      [48, 'u32', value],
    ],
    { id: 0, length: 0 },
  );

/** Property Get CSTS (Figure 22): ATTRIB 0, OFST 1Ch. */
export const propertyGetCsts = (cid: number): Buffer =>
  sqe(
    [
      [0, 'u8', 0x7f],
      [2, 'u16', cid],
      [4, 'u8', 0x04],
      [44, 'u32', 0x1c],
    ],
    { id: 0, length: 0 },
  );

/** CC.EN=1, NVM command set, 4 KiB pages, IOSQES 6, IOCQES 4 (NVMe Base 2.0, Figure 41). */
export const CC_ENABLE = 0x00460001;

/**
 * A raw admin queue (connected and enabled) and one raw I/O queue (qid 1) of the same controller,
 * for the tests that need a queue in the I/O state.
 */
export async function rawIoQueue(
  port: number,
  subnqn: string,
  hostnqn: string,
  d: Digests = {},
): Promise<{ admin: RawHost; io: RawHost; icResp: RawPdu; cntlid: number }> {
  const { host: admin } = await RawHost.connect(port, d);
  const connected = await admin.connectAdmin(subnqn, hostnqn, d);
  if (connected.sct !== 0 || connected.sc !== 0) throw new Error('admin Connect failed');
  const cntlid = connected.dw0 & 0xffff;
  admin.send(capsuleCmd(propertySetCc(2, CC_ENABLE), undefined, d));
  await admin.next();
  for (let cid = 3; ; cid++) {
    admin.send(capsuleCmd(propertyGetCsts(cid), undefined, d));
    const csts = cqeStatus(await admin.next()).dw0;
    if (csts & 1) break;
  }
  const { host: io, icResp } = await RawHost.connect(port, d);
  const c = connect({ cid: 1, qid: 1, sqsize: 127, cntlid, subnqn, hostnqn });
  io.send(capsuleCmd(c.sqe, c.data, d));
  const resp = cqeStatus(await io.next());
  if (resp.sct !== 0 || resp.sc !== 0)
    throw new Error(`I/O Connect failed: ${resp.sct}/${resp.sc}`);
  return { admin, io, icResp, cntlid };
}

/** A Write of `blocks` blocks at `slba` on NSID 1 with SGL1 as given (NVM CS Figure 64). */
export const writeSqe = (
  cid: number,
  slba: number,
  blocks: number,
  sgl: { id: number; length: number },
) =>
  sqe(
    [
      [0, 'u8', 0x01],
      [2, 'u16', cid],
      [4, 'u32', 1],
      [40, 'u64', BigInt(slba)],
      [48, 'u32', blocks - 1],
    ],
    sgl,
  );

/**
 * Test-only builders for target unit tests: SQEs and Connect data written byte by byte at the
 * spec's offsets (NVMe Base 2.0 Figure 88, NVMe-oF 1.1 Figures 19-25), independent of
 * src/nvme's encoders, and a queue link that records what the target did to it.
 */
import { EventEmitter } from 'node:events';
import pino from 'pino';
import { QueuePair } from '../../../../src/target/queue-pair.js';
import type { NvmfTarget } from '../../../../src/target/nvmf-target.js';
import type { CommandResponse } from '../../../../src/target/to-nvme-status.js';

export const silent = pino({ level: 'silent' });

export const HOST_A = 'nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555';
export const HOST_B = 'nqn.2014-08.org.nvmexpress:uuid:66666666-7777-8888-9999-aaaaaaaaaaaa';
export const HOSTID_A = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');

/** A transport queue as the target sees it. */
export class LinkDouble extends EventEmitter {
  qid = 0;
  sqSize = 0;
  inCapsule = -1;
  closedWith: string | undefined;
  setInCapsuleDataSize(n: number): void {
    this.inCapsule = n;
  }
  close(reason = 'closed'): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = reason;
    this.emit('close');
  }
}

export interface SqeFields {
  opcode: number;
  cid?: number;
  nsid?: number;
  fuse?: number;
  cdw10?: number;
  cdw11?: number;
  cdw12?: number;
  cdw13?: number;
  cdw14?: number;
  /** SGL1 length; the descriptor is a Transport SGL Data Block (5Ah) as NVMe/TCP uses. */
  sglLength?: number;
}

/** A 64-byte SQE, PSDT = 01b (SGL), placed field by field. */
export function sqe(f: SqeFields): Buffer {
  const b = Buffer.alloc(64);
  b[0] = f.opcode;
  b[1] = 0x40 | (f.fuse ?? 0);
  b.writeUInt16LE(f.cid ?? 1, 2);
  b.writeUInt32LE(f.nsid ?? 0, 4);
  b.writeUInt32LE(f.sglLength ?? 0, 32);
  b[39] = 0x5a;
  b.writeUInt32LE((f.cdw10 ?? 0) >>> 0, 40);
  b.writeUInt32LE((f.cdw11 ?? 0) >>> 0, 44);
  b.writeUInt32LE((f.cdw12 ?? 0) >>> 0, 48);
  b.writeUInt32LE((f.cdw13 ?? 0) >>> 0, 52);
  b.writeUInt32LE((f.cdw14 ?? 0) >>> 0, 56);
  return b;
}

/** Read/Write/Compare/Write Zeroes: SLBA in CDW10-11, NLB (0-based) in CDW12 bits 15:0. */
export function ioSqe(o: {
  opcode: number;
  nsid: number;
  lba: number;
  blocks: number;
  blockSize?: number;
  fua?: boolean;
  sglLength?: number;
}): Buffer {
  const b = sqe({
    opcode: o.opcode,
    nsid: o.nsid,
    cdw12: ((o.blocks - 1) & 0xffff) | (o.fua ? 1 << 30 : 0),
    sglLength: o.sglLength ?? (o.blockSize ? o.blocks * o.blockSize : 0),
  });
  b.writeBigUInt64LE(BigInt(o.lba), 40);
  return b;
}

/** Fabrics command: opcode 7Fh, FCTYPE at byte 4. */
export function fabricsSqe(fctype: number, fill?: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(64);
  b[0] = 0x7f;
  b[1] = 0x40;
  b.writeUInt16LE(1, 2);
  b[4] = fctype;
  b[39] = 0x01; // Data Block, Offset (in-capsule)
  fill?.(b);
  return b;
}

export const connectSqe = (o: { qid: number; sqsize: number; kato?: number; recfmt?: number }) =>
  fabricsSqe(0x01, (b) => {
    b.writeUInt32LE(1024, 32);
    b.writeUInt16LE(o.recfmt ?? 0, 40);
    b.writeUInt16LE(o.qid, 42);
    b.writeUInt16LE(o.sqsize, 44);
    b.writeUInt32LE(o.kato ?? 0, 48);
  });

export function connectData(o: {
  cntlid: number;
  subnqn: string;
  hostnqn: string;
  hostid?: Buffer;
}): Buffer {
  const b = Buffer.alloc(1024);
  (o.hostid ?? HOSTID_A).copy(b, 0);
  b.writeUInt16LE(o.cntlid, 16);
  b.write(o.subnqn, 256, 'utf8');
  b.write(o.hostnqn, 512, 'utf8');
  return b;
}

/** Property Get: ATTRIB (size) at 40, OFST at 44. */
export const propertyGetSqe = (offset: number, size: 4 | 8) =>
  fabricsSqe(0x04, (b) => {
    b[40] = size === 8 ? 1 : 0;
    b.writeUInt32LE(offset, 44);
  });

/** Property Set: ATTRIB at 40, OFST at 44, VALUE at 48. */
export const propertySetSqe = (offset: number, value: number) =>
  fabricsSqe(0x00, (b) => {
    b.writeUInt32LE(offset, 44);
    b.writeBigUInt64LE(BigInt(value), 48);
  });

/** CC with EN=1, IOSQES=6 (64 B), IOCQES=4 (16 B): the value Linux writes (0x00460001). */
export const CC_ENABLE = 0x00460001;
export const PROPERTY_CC = 0x14;
export const PROPERTY_CSTS = 0x1c;

/** SCT, SC and DNR of a response's status field (CQE DW3 bits 31:17 as bits 15:1). */
export function statusOf(r: CommandResponse): { sct: number; sc: number; dnr: boolean } {
  return {
    sct: (r.status >>> 9) & 0x7,
    sc: (r.status >>> 1) & 0xff,
    dnr: (r.status & 0x8000) !== 0,
  };
}

export function dataOf(r: CommandResponse): Buffer {
  if (!r.data || !Buffer.isBuffer(r.data)) throw new Error('response has no single data buffer');
  return r.data;
}

/** Connects an admin queue for `hostnqn` to `subnqn`, optionally enabling the controller. */
export async function adminQueue(
  target: NvmfTarget,
  subnqn: string,
  o: { hostnqn?: string; kato?: number; enable?: boolean } = {},
) {
  const link = new LinkDouble();
  const qp = new QueuePair(link, target, silent);
  const r = await qp.handle(
    connectSqe({ qid: 0, sqsize: 31, kato: o.kato }),
    connectData({ cntlid: 0xffff, subnqn, hostnqn: o.hostnqn ?? HOST_A }),
  );
  if (r.status !== 0) throw new Error(`admin Connect failed: ${JSON.stringify(statusOf(r))}`);
  const cntlid = (r.dw0 ?? 0) & 0xffff;
  if (o.enable !== false) {
    const e = await qp.handle(propertySetSqe(PROPERTY_CC, CC_ENABLE), undefined);
    if (e.status !== 0) throw new Error('enable failed');
  }
  return { link, qp, cntlid, ctrl: qp.controller! };
}

/** Connects I/O queue `qid` of controller `cntlid`. */
export async function ioQueue(
  target: NvmfTarget,
  subnqn: string,
  cntlid: number,
  qid = 1,
  hostnqn = HOST_A,
) {
  const link = new LinkDouble();
  const qp = new QueuePair(link, target, silent);
  const r = await qp.handle(
    connectSqe({ qid, sqsize: 127 }),
    connectData({ cntlid, subnqn, hostnqn }),
  );
  return { link, qp, response: r };
}

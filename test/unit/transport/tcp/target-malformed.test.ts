/**
 * Crafted PDUs from a raw socket against createTcpListener: every fatal error gets a
 * C2HTermReq with the FES/FEI of NVMe/TCP 1.0 (3.6.2.5) and the offending header echoed, then
 * the connection closes; data digest errors fail only the command; and after each, a second
 * connection is served as if nothing happened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HostQueue,
  createTcpListener,
  type TcpListener,
} from '../../../../src/transport/tcp/index.js';
import { BLOCK, blockStore, pattern, rwSqe } from './support/block-handler.js';
import * as B from './support/pdu-builder.js';
import { rawClient, termReqOf } from './support/raw-peer.js';

const IN_CAPSULE = 8192;
const MAXH2CDATA = 4096;
const TRANSIENT_TRANSPORT_ERROR = 0x22 << 1;
const HDGST = 0x1;
const DDGST = 0x2;

let listener: TcpListener;
let port: number;

beforeAll(async () => {
  listener = await createTcpListener(
    {
      host: '127.0.0.1',
      port: 0,
      queue: { maxH2CData: MAXH2CDATA, inCapsuleDataSize: IN_CAPSULE, maxDataTransfer: 1 << 20 },
    },
    () => blockStore().handler,
  );
  port = listener.address().port;
});
afterAll(() => listener.close());

/** Sends `bytes` (after an ICReq when `dgst` is given) and returns the C2HTermReq received. */
async function terminatedBy(bytes: Buffer, dgst?: number) {
  const c = await rawClient(port);
  if (dgst !== undefined) {
    c.socket.write(B.icReq({ dgst }));
    await c.pdus(1);
  }
  c.socket.write(bytes);
  const all = B.splitPdus(await c.closed);
  const last = all[all.length - 1];
  expect(last[0]).toBe(0x03); // C2HTermReq
  expect(last.readUInt32LE(4)).toBe(last.length);
  return termReqOf(last);
}

/** A second connection still works: write then read 4 KiB. */
async function stillServing() {
  const q = await HostQueue.connect({ host: '127.0.0.1', port, connectTimeoutMs: 5000 });
  try {
    const data = pattern(8 * BLOCK, 99);
    await q.submit(rwSqe(0x01, 0, 8), { data });
    const r = await q.submit(rwSqe(0x02, 0, 8), { readLength: data.length });
    expect(r.data).toEqual(data);
  } finally {
    q.close();
  }
}

const writeSqe = (cid: number, length: number, sglId = 0x5a) =>
  B.sqe({ opcode: 0x01, cid, sglId, sglLength: length, cdw12: Math.max(1, length / BLOCK) - 1 });

describe('target: fatal errors get C2HTermReq', () => {
  it('CapsuleCmd before ICReq: FES 02h PDU sequence error, FEI 0', async () => {
    const bad = B.capsuleCmd(writeSqe(1, 0));
    const t = await terminatedBy(bad);
    expect([t.fes, t.fei]).toEqual([0x02, 0]);
    expect(t.echo).toEqual(bad.subarray(0, 8));
    await stillServing();
  });

  it('a second ICReq: FES 02h', async () => {
    const t = await terminatedBy(B.icReq(), 0);
    expect([t.fes, t.fei]).toEqual([0x02, 0]);
    await stillServing();
  });

  it('ICReq PFV 1: FES 01h at the PFV field (8)', async () => {
    const bad = B.icReq({ pfv: 1 });
    const t = await terminatedBy(bad);
    expect([t.fes, t.fei]).toEqual([0x01, 8]);
    expect(t.echo).toEqual(bad); // the whole 128-byte header is echoed
    await stillServing();
  });

  it('ICReq HPDA 32: FES 01h at the HPDA field (10)', async () => {
    const t = await terminatedBy(B.icReq({ hpda: 32 }));
    expect([t.fes, t.fei]).toEqual([0x01, 10]);
  });

  it('CapsuleCmd with HLEN 70: FES 01h at HLEN (2)', async () => {
    const bad = B.capsuleCmd(writeSqe(1, 0));
    bad[2] = 70;
    const t = await terminatedBy(bad, 0);
    expect([t.fes, t.fei]).toEqual([0x01, 2]);
    await stillServing();
  });

  it('a controller→host PDU type from the host: FES 01h at PDU-Type (0)', async () => {
    const t = await terminatedBy(B.c2hData({ cccid: 1, datao: 0, data: Buffer.alloc(8) }), 0);
    expect([t.fes, t.fei]).toEqual([0x01, 0]);
  });

  it('PDO not a multiple of the CPDA alignment: FES 01h at PDO (3)', async () => {
    const bad = B.capsuleCmd(writeSqe(1, 512, 0x01), Buffer.alloc(512), { align: 8 }); // PDO 72 → 72 is 8-aligned
    bad[3] = 74;
    const t = await terminatedBy(bad, 0);
    expect([t.fes, t.fei]).toEqual([0x01, 3]);
  });

  it('header digest mismatch: FES 03h', async () => {
    const bad = B.capsuleCmd(writeSqe(1, 0), undefined, { hdgst: true });
    bad[72] ^= 0xff;
    const t = await terminatedBy(bad, HDGST);
    expect(t.fes).toBe(0x03);
    expect(t.echo).toEqual(bad.subarray(0, 72));
    await stillServing();
  });

  it('HDGSTF missing while header digests are on: FES 01h at FLAGS (1)', async () => {
    const t = await terminatedBy(B.capsuleCmd(writeSqe(1, 0)), HDGST);
    expect([t.fes, t.fei]).toEqual([0x01, 1]);
  });

  it('in-capsule data beyond the in-capsule data size: FES 05h', async () => {
    const n = IN_CAPSULE + BLOCK;
    const t = await terminatedBy(B.capsuleCmd(writeSqe(1, n, 0x01), Buffer.alloc(n)), 0);
    expect(t.fes).toBe(0x05);
    await stillServing();
  });

  describe('H2CData', () => {
    /** ICReq, then a write of `length` bytes by R2T; returns the client and the R2T. */
    async function afterR2T(length: number, dgst = 0) {
      const c = await rawClient(port);
      c.socket.write(B.icReq({ dgst, maxr2t: 0 }));
      c.socket.write(B.capsuleCmd(writeSqe(7, length), undefined, { hdgst: (dgst & HDGST) !== 0 }));
      const [, r2t] = await c.pdus(2);
      expect(r2t[0]).toBe(0x09);
      return {
        c,
        ttag: r2t.readUInt16LE(10),
        r2to: r2t.readUInt32LE(12),
        r2tl: r2t.readUInt32LE(16),
      };
    }

    async function termOf(c: Awaited<ReturnType<typeof afterR2T>>['c'], bytes: Buffer) {
      c.socket.write(bytes);
      const all = B.splitPdus(await c.closed);
      return termReqOf(all[all.length - 1]);
    }

    it('asks with one R2T at a time (MAXR2T 0), each no longer than MAXH2CDATA', async () => {
      const { c, ttag, r2to, r2tl } = await afterR2T(16 * BLOCK);
      expect([r2to, r2tl]).toEqual([0, MAXH2CDATA]);
      c.socket.write(
        B.h2cData({ cccid: 7, ttag, datao: 0, data: pattern(MAXH2CDATA, 1), last: true }),
      );
      const [, , second] = await c.pdus(3);
      expect(second).toEqual(
        B.r2t({ cccid: 7, ttag, r2to: MAXH2CDATA, r2tl: 16 * BLOCK - MAXH2CDATA }),
      );
      c.socket.destroy();
    });

    it('unknown TTAG: FES 01h at TTAG (10)', async () => {
      const { c, ttag } = await afterR2T(2 * BLOCK);
      const t = await termOf(
        c,
        B.h2cData({
          cccid: 7,
          ttag: ttag + 1,
          datao: 0,
          data: Buffer.alloc(2 * BLOCK),
          last: true,
        }),
      );
      expect([t.fes, t.fei]).toEqual([0x01, 10]);
      await stillServing();
    });

    it('CCCID not the command of the TTAG: FES 01h at CCCID (8)', async () => {
      const { c, ttag } = await afterR2T(2 * BLOCK);
      const t = await termOf(
        c,
        B.h2cData({ cccid: 8, ttag, datao: 0, data: Buffer.alloc(2 * BLOCK), last: true }),
      );
      expect([t.fes, t.fei]).toEqual([0x01, 8]);
    });

    it('data beyond the R2T: FES 04h data transfer out of range', async () => {
      const { c, ttag } = await afterR2T(2 * BLOCK);
      const t = await termOf(
        c,
        B.h2cData({ cccid: 7, ttag, datao: 2 * BLOCK - 8, data: Buffer.alloc(64), last: true }),
      );
      expect(t.fes).toBe(0x04);
      await stillServing();
    });

    it('more than MAXH2CDATA in one PDU: FES 05h', async () => {
      const { c, ttag } = await afterR2T(16 * BLOCK);
      const t = await termOf(
        c,
        B.h2cData({ cccid: 7, ttag, datao: 0, data: Buffer.alloc(MAXH2CDATA + BLOCK) }),
      );
      expect(t.fes).toBe(0x05);
    });

    it('DATAL not the PDU data length: FES 01h at DATAL (16)', async () => {
      const { c, ttag } = await afterR2T(2 * BLOCK);
      const t = await termOf(
        c,
        B.h2cData({ cccid: 7, ttag, datao: 0, data: Buffer.alloc(BLOCK), datal: 2 * BLOCK }),
      );
      expect([t.fes, t.fei]).toEqual([0x01, 16]);
    });

    it('data digest error: the command fails with Transient Transport Error, the connection lives', async () => {
      const { c, ttag } = await afterR2T(2 * BLOCK, DDGST);
      const bad = B.h2cData(
        { cccid: 7, ttag, datao: 0, data: pattern(2 * BLOCK, 1), last: true },
        { ddgst: true },
      );
      bad[bad.length - 1] ^= 0x01;
      c.socket.write(bad);
      const [, , resp] = await c.pdus(3);
      expect(resp[0]).toBe(0x05);
      expect(resp.readUInt16LE(8 + 12)).toBe(7);
      expect(resp.readUInt16LE(8 + 14)).toBe(TRANSIENT_TRANSPORT_ERROR);
      // Still connected: a no-data command completes.
      c.socket.write(B.capsuleCmd(B.sqe({ opcode: 0x00, cid: 9, sglLength: 0 })));
      const [, , , next] = await c.pdus(4);
      expect([next[0], next.readUInt16LE(8 + 12), next.readUInt16LE(8 + 14)]).toEqual([0x05, 9, 0]);
      c.socket.destroy();
    });
  });

  it('in-capsule data digest error: Transient Transport Error for that command only', async () => {
    const c = await rawClient(port);
    c.socket.write(B.icReq({ dgst: DDGST }));
    const bad = B.capsuleCmd(writeSqe(3, BLOCK, 0x01), pattern(BLOCK, 2), { ddgst: true });
    bad[bad.length - 2] ^= 0x10;
    c.socket.write(bad);
    const [, resp] = await c.pdus(2);
    expect(resp.readUInt16LE(8 + 14)).toBe(TRANSIENT_TRANSPORT_ERROR);
    c.socket.destroy();
  });

  it('a TermReq with an invalid PLEN closes the connection without a TermReq back', async () => {
    const c = await rawClient(port);
    c.socket.write(B.icReq());
    const bad = B.termReq(0x02, 1, 0);
    bad.writeUInt32LE(20, 4);
    c.socket.write(bad);
    const all = B.splitPdus(await c.closed);
    expect(all.map((p) => p[0])).toEqual([0x01]); // the ICResp only
    await stillServing();
  });

  it('an H2CTermReq from the host closes the connection without a reply', async () => {
    const c = await rawClient(port);
    c.socket.write(B.icReq());
    c.socket.write(B.termReq(0x02, 0x02, 0));
    const all = B.splitPdus(await c.closed);
    expect(all.map((p) => p[0])).toEqual([0x01]);
  });

  it('an SGL of an unknown type gets SGL Descriptor Type Invalid, DNR', async () => {
    const c = await rawClient(port);
    c.socket.write(B.icReq());
    c.socket.write(B.capsuleCmd(B.sqe({ opcode: 0x02, cid: 4, sglId: 0x40, sglLength: BLOCK })));
    const [, resp] = await c.pdus(2);
    expect(resp.readUInt16LE(8 + 14)).toBe((1 << 15) | (0x11 << 1));
    c.socket.destroy();
  });

  it('ICResp grants the digests asked for, CPDA 0 and MAXH2CDATA', async () => {
    const c = await rawClient(port);
    c.socket.write(B.icReq({ dgst: HDGST | DDGST, hpda: 3 }));
    const [resp] = await c.pdus(1);
    expect(resp).toEqual(B.icResp({ dgst: HDGST | DDGST, cpda: 0, maxh2cdata: MAXH2CDATA }));
    c.socket.destroy();
  });
});

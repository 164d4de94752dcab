/**
 * HostQueue against a crafted controller (a raw server speaking bytes from the test builder):
 * ICResp checks, C2HData SUCCESS, data digest errors, R2T/C2HData/CapsuleResp violations
 * answered with H2CTermReq, a controller's C2HTermReq, and the connect timeout.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  HostQueue,
  TcpPeerTerminatedError,
  TcpTransportError,
} from '../../../../src/transport/tcp/index.js';
import { BLOCK, pattern, rwSqe } from './support/block-handler.js';
import * as B from './support/pdu-builder.js';
import { type RawClient, type RawServer, rawServer, termReqOf } from './support/raw-peer.js';

let server: RawServer;
beforeEach(async () => {
  server = await rawServer();
});
afterEach(() => server.close());

/** Connects a HostQueue; the crafted controller answers ICReq with `resp`. */
async function connect(resp = B.icResp(), opts: { hdgst?: boolean; ddgst?: boolean } = {}) {
  const queue = HostQueue.connect({
    host: '127.0.0.1',
    port: server.port,
    connectTimeoutMs: 5000,
    ...opts,
  });
  const peer = await server.accept();
  const [icReq] = await peer.pdus(1);
  peer.socket.write(resp);
  return { queue, peer, icReq };
}

async function lastTermReq(peer: RawClient) {
  const all = B.splitPdus(await peer.closed);
  const t = all[all.length - 1];
  expect(t[0]).toBe(0x02); // H2CTermReq
  return termReqOf(t);
}

it('sends the ICReq of the spec', async () => {
  const { queue, icReq } = await connect(B.icResp({ dgst: 3 }), { hdgst: true, ddgst: true });
  expect(icReq).toEqual(B.icReq({ dgst: 3, hpda: 0, maxr2t: 0 }));
  (await queue).close();
});

it.each([
  ['PFV 1', B.icResp({ pfv: 1 }), 8],
  ['CPDA 32', B.icResp({ cpda: 32 }), 10],
  ['a digest not asked for', B.icResp({ dgst: 1 }), 11],
  ['MAXH2CDATA 1024', B.icResp({ maxh2cdata: 1024 }), 12],
])('rejects an ICResp with %s: H2CTermReq FES 01h', async (_, resp, fei) => {
  const { queue, peer } = await connect(resp);
  await expect(queue).rejects.toMatchObject({ fes: 1, fei, code: 'NVME_TCP_INVALID_HEADER_FIELD' });
  const t = await lastTermReq(peer);
  expect([t.fes, t.fei]).toEqual([1, fei]);
});

it('times out when no ICResp comes', async () => {
  const queue = HostQueue.connect({ host: '127.0.0.1', port: server.port, connectTimeoutMs: 100 });
  await server.accept();
  await expect(queue).rejects.toMatchObject({ code: 'NVME_TCP_CONNECT_TIMEOUT' });
});

it('sets CID and SGL1: in-capsule Data Block Offset, then Transport SGL Data Block', async () => {
  const { queue, peer } = await connect();
  const q = await queue;
  const data = pattern(BLOCK, 1);
  const w = q.submit(rwSqe(0x01, 0, 1), { data });
  const r = q.submit(rwSqe(0x02, 0, 4), { readLength: 4 * BLOCK });
  const [, cmd1, cmd2] = await peer.pdus(3);
  const sqe1 = rwSqe(0x01, 0, 1);
  sqe1.writeUInt16LE(0, 2);
  sqe1.writeUInt32LE(BLOCK, 32);
  sqe1[39] = 0x01;
  expect(cmd1).toEqual(B.capsuleCmd(sqe1, data));
  const sqe2 = rwSqe(0x02, 0, 4);
  sqe2.writeUInt16LE(1, 2);
  sqe2.writeUInt32LE(4 * BLOCK, 32);
  sqe2[39] = 0x5a;
  expect(cmd2).toEqual(B.capsuleCmd(sqe2));
  peer.socket.write(B.capsuleResp({ cid: 0 }));
  peer.socket.write(
    B.c2hData({ cccid: 1, datao: 0, data: pattern(4 * BLOCK, 9), last: true, success: true }),
  );
  expect((await w).cqe.readUInt16LE(12)).toBe(0);
  const read = await r;
  expect(read.data).toEqual(pattern(4 * BLOCK, 9));
  expect(read.cqe.readUInt16LE(12)).toBe(1);
  expect(read.cqe.readUInt16LE(14)).toBe(0);
  q.close();
});

it('answers an R2T with H2CData PDUs of at most MAXH2CDATA, LAST_PDU on the last', async () => {
  const { queue, peer } = await connect(B.icResp({ maxh2cdata: 4096 }));
  const q = await queue;
  q.inCapsuleDataSize = 0;
  const data = pattern(10_000, 4);
  const w = q.submit(rwSqe(0x01, 0, 20), { data: [data.subarray(0, 5000), data.subarray(5000)] });
  await peer.pdus(2);
  peer.socket.write(B.r2t({ cccid: 0, ttag: 0x1234, r2to: 0, r2tl: 10_000 }));
  const pdus = await peer.pdus(5);
  expect(pdus.slice(2)).toEqual([
    B.h2cData({ cccid: 0, ttag: 0x1234, datao: 0, data: data.subarray(0, 4096) }),
    B.h2cData({ cccid: 0, ttag: 0x1234, datao: 4096, data: data.subarray(4096, 8192) }),
    B.h2cData({ cccid: 0, ttag: 0x1234, datao: 8192, data: data.subarray(8192), last: true }),
  ]);
  peer.socket.write(B.capsuleResp({ cid: 0 }));
  expect((await w).cqe.readUInt16LE(14)).toBe(0);
  q.close();
});

it('fails a read whose C2HData digest is wrong with Transient Transport Error, keeps the connection', async () => {
  const { queue, peer } = await connect(B.icResp({ dgst: 3 }), { hdgst: true, ddgst: true });
  const q = await queue;
  const r = q.submit(rwSqe(0x02, 0, 1), { readLength: BLOCK });
  await peer.pdus(2);
  const bad = B.c2hData(
    { cccid: 0, datao: 0, data: pattern(BLOCK, 1), last: true },
    { hdgst: true, ddgst: true },
  );
  bad[bad.length - 1] ^= 1;
  peer.socket.write(bad);
  peer.socket.write(B.capsuleResp({ cid: 0 }, { hdgst: true }));
  expect((await r).cqe.readUInt16LE(14)).toBe(0x22 << 1);
  const next = q.submit(rwSqe(0x02, 0, 1), { readLength: BLOCK });
  await peer.pdus(3);
  peer.socket.write(
    B.c2hData(
      { cccid: 0, datao: 0, data: pattern(BLOCK, 2), last: true, success: true },
      { hdgst: true, ddgst: true },
    ),
  );
  expect((await next).data).toEqual(pattern(BLOCK, 2));
  q.close();
});

it.each([
  ['a CapsuleResp for an unknown CID', () => B.capsuleResp({ cid: 77 }), [1, 20]],
  ['an R2T beyond the data', () => B.r2t({ cccid: 0, ttag: 1, r2to: 0, r2tl: 2 * BLOCK }), [1, 16]],
  [
    'C2HData beyond the read length',
    () => B.c2hData({ cccid: 1, datao: 0, data: Buffer.alloc(2 * BLOCK) }),
    [4, 0],
  ],
  ['C2HData for a write', () => B.c2hData({ cccid: 0, datao: 0, data: Buffer.alloc(8) }), [1, 8]],
  ['an ICResp once connected', () => B.icResp(), [2, 0]],
  [
    'SUCCESS without LAST_PDU',
    () => B.c2hData({ cccid: 1, datao: 0, data: Buffer.alloc(8), success: true }),
    [1, 1],
  ],
])('answers %s with H2CTermReq and fails the outstanding commands', async (_, bad, [fes, fei]) => {
  const { queue, peer } = await connect();
  const q = await queue;
  q.inCapsuleDataSize = 0;
  const closed = new Promise<Error | undefined>((r) => q.on('close', r));
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (err: unknown) => err,
    );
  const w = failure(q.submit(rwSqe(0x01, 0, 1), { data: Buffer.alloc(BLOCK) }));
  const r = failure(q.submit(rwSqe(0x02, 0, 1), { readLength: BLOCK }));
  await peer.pdus(3);
  peer.socket.write(bad());
  const t = await lastTermReq(peer);
  expect([t.fes, t.fei]).toEqual([fes, fei]);
  expect(await w).toBeInstanceOf(TcpTransportError);
  expect(await r).toMatchObject({ fes });
  expect(await closed).toBeInstanceOf(TcpTransportError);
});

it('answers a header digest error with FES 03h', async () => {
  const { queue, peer } = await connect(B.icResp({ dgst: 1 }), { hdgst: true });
  const q = await queue;
  const r = q.submit(rwSqe(0x02, 0, 1), { readLength: BLOCK });
  const rejected = expect(r).rejects.toMatchObject({ code: 'NVME_TCP_HEADER_DIGEST_ERROR' });
  await peer.pdus(2);
  const bad = B.capsuleResp({ cid: 0 }, { hdgst: true });
  bad[25] ^= 0x80;
  peer.socket.write(bad);
  expect((await lastTermReq(peer)).fes).toBe(3);
  await rejected;
});

it('closes with the controller error on a C2HTermReq', async () => {
  const { queue, peer } = await connect();
  const q = await queue;
  const r = expect(q.submit(rwSqe(0x02, 0, 1), { readLength: BLOCK })).rejects.toBeInstanceOf(
    TcpPeerTerminatedError,
  );
  const closed = new Promise<Error | undefined>((res) => q.on('close', res));
  await peer.pdus(2);
  peer.socket.write(B.termReq(0x03, 0x04, 0));
  await r;
  expect((await closed)?.message).toMatch(/data transfer out of range/);
  // No H2CTermReq in answer to a TermReq.
  expect(B.splitPdus(await peer.closed).map((p) => p[0])).toEqual([0x00, 0x04]);
});

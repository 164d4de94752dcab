/**
 * createTcpListener and TargetQueue behaviour seen from a HostQueue: handler errors become
 * Internal Error, async handlers, terminate(), listener close, and a refused connection.
 */
import net from 'node:net';
import { afterEach, expect, it } from 'vitest';
import {
  HostQueue,
  TcpPeerTerminatedError,
  TermReqFes,
  createTcpListener,
  type CommandHandler,
  type TargetQueue,
  type TcpListener,
} from '../../../../src/transport/tcp/index.js';
import { BLOCK, pattern, rwSqe } from './support/block-handler.js';

const INTERNAL_ERROR = 0x06 << 1;
const opts = { maxH2CData: 8192, inCapsuleDataSize: 8192, maxDataTransfer: 1 << 20 };
const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function serve(handler: CommandHandler, onQueue?: (q: TargetQueue) => void) {
  const listener: TcpListener = await createTcpListener(
    { host: '127.0.0.1', port: 0, queue: opts },
    (q) => {
      onQueue?.(q);
      return handler;
    },
  );
  open.push(listener);
  const q = await HostQueue.connect({ host: '127.0.0.1', port: listener.address().port });
  open.push(q);
  return { listener, q };
}

it('answers a throwing or rejecting handler with Internal Error and keeps the queue', async () => {
  let n = 0;
  const { q } = await serve((sqe) => {
    n++;
    if (sqe[0] === 0x7e) throw new Error('bug');
    if (sqe[0] === 0x7d) return Promise.reject(new Error('async bug'));
    return { status: 0 };
  });
  const cmd = (opc: number) => {
    const b = Buffer.alloc(64);
    b[0] = opc;
    return b;
  };
  expect((await q.submit(cmd(0x7e))).cqe.readUInt16LE(14)).toBe(INTERNAL_ERROR);
  expect((await q.submit(cmd(0x7d))).cqe.readUInt16LE(14)).toBe(INTERNAL_ERROR);
  expect((await q.submit(cmd(0x00))).cqe.readUInt16LE(14)).toBe(0);
  expect(n).toBe(3);
});

it('completes async handlers out of order, each with its own CID and data', async () => {
  const { q } = await serve(async (sqe) => {
    const lba = sqe.readUInt32LE(40);
    await new Promise((r) => setTimeout(r, (8 - lba) * 3));
    return { status: 0, data: pattern(BLOCK, lba) };
  });
  const reads = Array.from({ length: 8 }, (_, i) =>
    q.submit(rwSqe(0x02, i, 1), { readLength: BLOCK }),
  );
  const done = await Promise.all(reads);
  done.forEach((r, i) => expect(r.data).toEqual(pattern(BLOCK, i)));
});

it('sends no more C2HData than the SGL asked for', async () => {
  const { q } = await serve(() => ({ status: 0, data: pattern(4 * BLOCK, 1) }));
  const r = await q.submit(rwSqe(0x02, 0, 1), { readLength: BLOCK });
  expect(r.data).toEqual(pattern(4 * BLOCK, 1).subarray(0, BLOCK));
});

it('terminate() sends a C2HTermReq the host reports', async () => {
  let target: TargetQueue | undefined;
  const { q } = await serve(
    () => ({ status: 0 }),
    (tq) => (target = tq),
  );
  const closed = new Promise<Error | undefined>((r) => q.on('close', r));
  target!.terminate(TermReqFes.UnsupportedParameter, 0);
  const err = await closed;
  expect(err).toBeInstanceOf(TcpPeerTerminatedError);
  expect(err).toMatchObject({ fes: 6, fei: 0, code: 'NVME_TCP_TERMINATED_BY_PEER' });
});

it('closing the listener closes its queues', async () => {
  const { listener, q } = await serve(() => ({ status: 0 }));
  const closed = new Promise<Error | undefined>((r) => q.on('close', r));
  expect(listener.queues.size).toBe(1);
  await listener.close();
  await closed;
  await expect(q.submit(rwSqe(0x02, 0, 1), { readLength: BLOCK })).rejects.toMatchObject({
    code: 'NVME_TCP_CONNECTION_CLOSED',
  });
});

it('rejects connect with a clear error when nothing listens', async () => {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((r) => probe.close(r));
  await expect(HostQueue.connect({ host: '127.0.0.1', port })).rejects.toMatchObject({
    code: 'NVME_TCP_CONNECTION_CLOSED',
    message: expect.stringMatching(/ECONNREFUSED/),
  });
});

it('reads into reused memory, yet data an unsettled command holds survives later reads', async () => {
  const held: { data: Buffer; release(): void }[] = [];
  const syncBuffers = new Set<ArrayBufferLike>();
  const { q } = await serve((sqe, data) => {
    if (sqe.readUInt32LE(40) === 0) {
      // Holds its in-capsule data (a view of the receive buffer) until released.
      return new Promise((resolve) => {
        held.push({ data: data!, release: () => resolve({ status: 0 }) });
      });
    }
    syncBuffers.add(data!.buffer);
    return { status: 0 };
  });
  const first = q.submit(rwSqe(0x01, 0, 8), { data: pattern(8 * BLOCK, 1) });
  await new Promise((r) => setTimeout(r, 20));
  for (let i = 1; i <= 64; i++) {
    const r = await q.submit(rwSqe(0x01, i, 8), { data: pattern(8 * BLOCK, 100 + i) });
    expect(r.cqe.readUInt16LE(14)).toBe(0);
  }
  expect(held).toHaveLength(1);
  expect(held[0].data).toEqual(pattern(8 * BLOCK, 1));
  // One command at a time, each answered at once: every read went into the same memory.
  expect(syncBuffers.size).toBe(1);
  held[0].release();
  expect((await first).cqe.readUInt16LE(14)).toBe(0);
});

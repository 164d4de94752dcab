/**
 * HostQueue against createTcpListener over loopback: in-capsule writes, R2T-driven writes split
 * by a small MAXH2CDATA, reads assembled from several C2HData PDUs, many commands in flight,
 * with every digest combination.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  HostQueue,
  createTcpListener,
  type TcpListener,
  type TargetQueueOptions,
} from '../../../../src/transport/tcp/index.js';
import { BLOCK, blockStore, pattern, rwSqe } from './support/block-handler.js';

const MiB = 1024 * 1024;
const statusOf = (cqe: Buffer) => cqe.readUInt16LE(14) & 0xfffe;

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function setup(
  queue: Partial<TargetQueueOptions>,
  host: { hdgst: boolean; ddgst: boolean; maxR2T?: number; hpda?: number },
) {
  const store = blockStore();
  const listener: TcpListener = await createTcpListener(
    {
      host: '127.0.0.1',
      port: 0,
      queue: { maxH2CData: 8192, inCapsuleDataSize: 8192, maxDataTransfer: 2 * MiB, ...queue },
    },
    () => store.handler,
  );
  open.push(listener);
  const q = await HostQueue.connect({
    host: '127.0.0.1',
    port: listener.address().port,
    connectTimeoutMs: 5000,
    ...host,
  });
  open.push(q);
  return { q, store, listener };
}

describe.each([
  { hdgst: false, ddgst: false },
  { hdgst: true, ddgst: false },
  { hdgst: false, ddgst: true },
  { hdgst: true, ddgst: true },
])('loopback hdgst=$hdgst ddgst=$ddgst', (digests) => {
  it('negotiates the digests asked for', async () => {
    const { q } = await setup({}, digests);
    expect(q.digests).toEqual(digests);
    expect(q.maxH2CData).toBe(8192);
  });

  it('writes in-capsule and reads back', async () => {
    const { q, store } = await setup({}, digests);
    const data = pattern(8 * BLOCK, 7);
    const w = await q.submit(rwSqe(0x01, 10, 8), { data });
    expect(statusOf(w.cqe)).toBe(0);
    expect(store.blocks.size).toBe(8);
    const r = await q.submit(rwSqe(0x02, 10, 8), { readLength: data.length });
    expect(statusOf(r.cqe)).toBe(0);
    expect(r.data).toEqual(data);
  });

  it('writes 1 MiB through R2T/H2CData with MAXH2CDATA 8 KiB, reads it from 64 KiB C2HData PDUs', async () => {
    const { q } = await setup({ maxC2HData: 65536 }, digests);
    const data = pattern(MiB, 3);
    // Two buffers, so H2CData PDUs gather slices across a buffer boundary.
    const w = await q.submit(rwSqe(0x01, 0, MiB / BLOCK), {
      data: [data.subarray(0, 300_000), data.subarray(300_000)],
    });
    expect(statusOf(w.cqe)).toBe(0);
    const r = await q.submit(rwSqe(0x02, 0, MiB / BLOCK), { readLength: MiB });
    expect(r.data?.length).toBe(MiB);
    expect(r.data!.equals(data)).toBe(true);
  });

  it('keeps several R2Ts outstanding when MAXR2T allows', async () => {
    const { q } = await setup({ maxR2tLength: 65536 }, { ...digests, maxR2T: 3 });
    const data = pattern(512 * 1024, 11);
    const w = await q.submit(rwSqe(0x01, 100, data.length / BLOCK), { data });
    expect(statusOf(w.cqe)).toBe(0);
    const r = await q.submit(rwSqe(0x02, 100, data.length / BLOCK), { readLength: data.length });
    expect(r.data!.equals(data)).toBe(true);
  });

  it('runs 64 commands in flight with mixed sizes', async () => {
    const { q } = await setup({}, digests);
    const sizes = Array.from({ length: 64 }, (_, i) => ((i * 37) % 64) + 1);
    const writes = sizes.map((n, i) =>
      q.submit(rwSqe(0x01, i * 64, n), { data: pattern(n * BLOCK, i) }),
    );
    for (const w of await Promise.all(writes)) expect(statusOf(w.cqe)).toBe(0);
    const reads = sizes.map((n, i) => q.submit(rwSqe(0x02, i * 64, n), { readLength: n * BLOCK }));
    const done = await Promise.all(reads);
    done.forEach((r, i) => expect(r.data!.equals(pattern(sizes[i] * BLOCK, i))).toBe(true));
  });
});

describe('loopback statuses and alignment', () => {
  it('answers an SGL longer than MDTS with Data SGL Length Invalid and DNR', async () => {
    const { q } = await setup({ maxDataTransfer: 64 * 1024 }, { hdgst: false, ddgst: false });
    const r = await q.submit(rwSqe(0x02, 0, 256), { readLength: 128 * 1024 });
    expect(r.cqe.readUInt16LE(14)).toBe((1 << 15) | (0x0f << 1));
    expect(r.data).toBeUndefined();
  });

  it('returns DW0 of a no-data command and the SQ head and SQID', async () => {
    const { q, listener } = await setup({}, { hdgst: false, ddgst: false });
    const [tq] = [...listener.queues];
    tq.qid = 3;
    tq.sqSize = 2;
    const flush = () => {
      const b = Buffer.alloc(64);
      b[1] = 0x40;
      return b;
    };
    const a = await q.submit(flush());
    expect(a.cqe.readUInt32LE(0)).toBe(0x1234);
    expect(a.cqe.readUInt16LE(10)).toBe(3);
    expect(a.cqe.readUInt16LE(8)).toBe(1);
    const b = await q.submit(flush());
    expect(b.cqe.readUInt16LE(8)).toBe(0); // wrapped at sqSize
  });

  it('honours HPDA and CPDA padding', async () => {
    const { q } = await setup({ cpda: 7 }, { hdgst: true, ddgst: true, hpda: 15 });
    const data = pattern(64 * BLOCK, 5);
    expect(statusOf((await q.submit(rwSqe(0x01, 0, 64), { data })).cqe)).toBe(0);
    expect(
      (await q.submit(rwSqe(0x02, 0, 64), { readLength: data.length })).data!.equals(data),
    ).toBe(true);
  });

  it('fails outstanding commands when the queue closes', async () => {
    const { q } = await setup({}, { hdgst: false, ddgst: false });
    const closed = new Promise((r) => q.on('close', r));
    const p = q.submit(rwSqe(0x02, 0, 1), { readLength: BLOCK });
    q.close();
    await expect(p).rejects.toMatchObject({ code: 'NVME_TCP_CONNECTION_CLOSED' });
    await closed;
    await expect(q.submit(rwSqe(0x02, 0, 1), { readLength: BLOCK })).rejects.toThrow(
      /not connected/,
    );
  });
});

/**
 * Seeded random input into the decoder, the framer and a live listener: the only exception
 * ever raised is TcpTransportError, and the listener keeps serving (undici test/fuzzing style).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  HostQueue,
  PduReader,
  TcpTransportError,
  checkCommonHeader,
  createTcpListener,
  decodePdu,
  type HeaderRules,
  type TcpListener,
} from '../../../../src/transport/tcp/index.js';
import { BLOCK, blockStore, pattern, rwSqe } from './support/block-handler.js';
import * as B from './support/pdu-builder.js';
import { prng } from './support/prng.js';
import { rawClient } from './support/raw-peer.js';

const SEEDS = [1, 2, 3, 0xc0ffee, 20240518];
const MAX_DATA = 1 << 16;

function allRules(r: ReturnType<typeof prng>): HeaderRules {
  return {
    controller: r.int(2) === 0,
    hdgst: r.int(2) === 0,
    ddgst: r.int(2) === 0,
    pdoAlignment: (r.int(4) + 1) * 4,
  };
}

const onlyTransportErrors = (f: () => void): 'ok' | 'rejected' => {
  try {
    f();
    return 'ok';
  } catch (err) {
    if (!(err instanceof TcpTransportError)) throw err;
    return 'rejected';
  }
};

/** Valid PDUs of every type, for mutation. */
function corpus(): Buffer[] {
  const w = { hdgst: true, ddgst: true };
  return [
    B.icReq(),
    B.icResp(),
    B.termReq(0x02, 1, 2, Buffer.alloc(30)),
    B.termReq(0x03, 4, 0),
    B.capsuleCmd(B.sqe({ opcode: 1, sglId: 1, sglLength: 64 }), pattern(64, 1), w),
    B.capsuleResp({ cid: 3 }, w),
    B.h2cData({ cccid: 1, ttag: 1, datao: 0, data: pattern(40, 2), last: true }, w),
    B.c2hData({ cccid: 1, datao: 0, data: pattern(40, 3), last: true, success: true }, w),
    B.r2t({ cccid: 1, ttag: 1, r2to: 0, r2tl: 512 }, w),
  ];
}

describe.each(SEEDS)('fuzz seed %i', (seed) => {
  it('decodePdu throws nothing but TcpTransportError on random bytes', () => {
    const r = prng(seed);
    for (let i = 0; i < 3000; i++) {
      const len = r.int(200);
      const b = r.bytes(len);
      if (len >= 8 && r.int(2) === 0) b.writeUInt32LE(len, 4); // a consistent PLEN gets further
      if (len >= 3 && r.int(2) === 0) b[0] = r.int(10);
      onlyTransportErrors(() => decodePdu(b, allRules(r)));
    }
  });

  it('decodePdu throws nothing but TcpTransportError on mutated valid PDUs', () => {
    const r = prng(seed);
    const base = corpus();
    let rejected = 0;
    for (let i = 0; i < 5000; i++) {
      const b = Buffer.from(base[r.int(base.length)]);
      for (let k = r.int(3) + 1; k > 0; k--) b[r.int(b.length)] = r.int(256);
      if (
        onlyTransportErrors(() => decodePdu(b, { ...allRules(r), hdgst: true, ddgst: true })) ===
        'rejected'
      )
        rejected++;
    }
    expect(rejected).toBeGreaterThan(0);
  });

  it('the framer plus decoder throw nothing but TcpTransportError on random streams', () => {
    const r = prng(seed);
    for (let i = 0; i < 300; i++) {
      const rules = allRules(r);
      const reader = new PduReader({
        onHeader: (buf, at) => {
          if (checkCommonHeader(buf, at, rules) > MAX_DATA)
            throw new TcpTransportError(5, 0, 'limit');
        },
        onPdu: (pdu) => {
          decodePdu(pdu, rules);
        },
      });
      const stream = Buffer.concat([...corpus().filter(() => r.int(2) === 0), r.bytes(r.int(300))]);
      onlyTransportErrors(() => {
        for (let at = 0; at < stream.length;) {
          const n = r.int(64) + 1;
          reader.push(stream.subarray(at, at + n));
          at += n;
        }
      });
    }
  });
});

describe('fuzz a live listener', () => {
  let listener: TcpListener;
  beforeAll(async () => {
    listener = await createTcpListener(
      {
        host: '127.0.0.1',
        port: 0,
        queue: { maxH2CData: 8192, inCapsuleDataSize: 8192, maxDataTransfer: 1 << 20 },
      },
      () => blockStore().handler,
    );
  });
  afterAll(() => listener.close());

  it('closes each garbage connection and keeps serving good ones', async () => {
    const r = prng(77);
    const port = listener.address().port;
    for (let i = 0; i < 40; i++) {
      const c = await rawClient(port);
      if (r.int(2) === 0) c.socket.write(B.icReq({ dgst: r.int(4) }));
      const base = corpus();
      const bytes = Buffer.concat([base[r.int(base.length)], r.bytes(r.int(256))]);
      bytes[r.int(bytes.length)] ^= 1 << r.int(8);
      c.socket.end(bytes);
      await c.closed;
    }
    await vi.waitFor(() => expect(listener.queues.size).toBe(0));
    const q = await HostQueue.connect({ host: '127.0.0.1', port, ddgst: true, hdgst: true });
    const data = pattern(4 * BLOCK, 5);
    await q.submit(rwSqe(0x01, 0, 4), { data });
    expect((await q.submit(rwSqe(0x02, 0, 4), { readLength: data.length })).data).toEqual(data);
    q.close();
  });
});

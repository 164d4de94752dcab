/**
 * The PDU framer: a stream of PDUs (built by the test builder) cut at every byte boundary, fed
 * a byte at a time, and in one chunk; whole PDUs come out unchanged, as views of the chunk when
 * they fit in it; a rejected header stops the stream before its data is buffered.
 */
import { describe, expect, it } from 'vitest';
import { PduReader } from '../../../../src/transport/tcp/pdu-reader.js';
import { TcpTransportError, TermReqFes } from '../../../../src/transport/tcp/errors.js';
import * as B from './support/pdu-builder.js';
import { pattern } from './support/block-handler.js';

const STREAM = [
  B.icReq({ dgst: 3 }),
  B.capsuleCmd(B.sqe({ opcode: 1, cid: 1, sglId: 0x01, sglLength: 300 }), pattern(300, 1), {
    hdgst: true,
    ddgst: true,
  }),
  B.capsuleCmd(B.sqe({ opcode: 2, cid: 2, sglLength: 4096 }), undefined, { hdgst: true }),
  B.h2cData(
    { cccid: 3, ttag: 1, datao: 0, data: pattern(1000, 2), last: true },
    { hdgst: true, ddgst: true, align: 32 },
  ),
  B.termReq(0x02, 2, 0, Buffer.alloc(8, 9)),
];
const WHOLE = Buffer.concat(STREAM);

/** True when `out` holds exactly the PDUs of STREAM (plain byte compares: this runs ~10^5 times). */
const same = (out: Buffer[]): boolean =>
  out.length === STREAM.length && out.every((p, i) => p.equals(STREAM[i]));

function collect(): { reader: PduReader; out: Buffer[]; headers: number } {
  const out: Buffer[] = [];
  const state = { headers: 0 };
  const reader = new PduReader({
    onHeader: () => {
      state.headers++;
    },
    onPdu: (pdu) => out.push(Buffer.from(pdu)),
  });
  return {
    reader,
    out,
    get headers() {
      return state.headers;
    },
  };
}

describe('PduReader', () => {
  it('cuts a stream given in one chunk, handing out views of it', () => {
    const views: Buffer[] = [];
    const reader = new PduReader({ onHeader: () => {}, onPdu: (p) => views.push(p) });
    reader.push(WHOLE);
    expect(views).toEqual(STREAM);
    for (const v of views) expect(v.buffer).toBe(WHOLE.buffer); // zero copy
    expect(reader.idle).toBe(true);
  });

  it('gives the same PDUs when the stream is split at every byte boundary', () => {
    for (let cut = 1; cut < WHOLE.length; cut++) {
      const c = collect();
      c.reader.push(WHOLE.subarray(0, cut));
      c.reader.push(WHOLE.subarray(cut));
      expect(same(c.out) && c.headers === STREAM.length && c.reader.idle, `cut at ${cut}`).toBe(
        true,
      );
    }
  });

  it('gives the same PDUs when split at every pair of boundaries of the first 300 bytes', () => {
    for (let i = 1; i < 300; i++) {
      for (let j = i; j < 300; j++) {
        const c = collect();
        c.reader.push(WHOLE.subarray(0, i));
        c.reader.push(WHOLE.subarray(i, j));
        c.reader.push(WHOLE.subarray(j));
        if (!same(c.out)) expect.fail(`cuts at ${i} and ${j}`);
      }
    }
  });

  it('gives the same PDUs fed one byte at a time', () => {
    const c = collect();
    for (let i = 0; i < WHOLE.length; i++) c.reader.push(WHOLE.subarray(i, i + 1));
    expect(same(c.out)).toBe(true);
  });

  it('checks each header before buffering the PDU, and stops on a rejection', () => {
    const seen: number[] = [];
    const reader = new PduReader({
      onHeader: (buf, at) => {
        const plen = buf.readUInt32LE(at + 4);
        if (plen > 1 << 20)
          throw new TcpTransportError(TermReqFes.DataTransferLimitExceeded, 0, 'too big');
      },
      onPdu: (p) => seen.push(p[0]),
    });
    const huge = B.capsuleResp({ cid: 1 });
    huge.writeUInt32LE(0xfffffff0, 4);
    // Header split in two chunks, so the check runs on the assembled copy.
    expect(() => {
      reader.push(Buffer.concat([B.icResp(), huge.subarray(0, 5)]));
      reader.push(huge.subarray(5));
    }).toThrow(TcpTransportError);
    expect(seen).toEqual([0x01]);
  });

  it('rejects a PLEN shorter than the common header even if the check let it pass', () => {
    const reader = new PduReader({ onHeader: () => {}, onPdu: () => {} });
    expect(() => reader.push(Buffer.from([4, 0, 72, 0, 3, 0, 0, 0]))).toThrow(
      expect.objectContaining({ fes: 1, fei: 4 }),
    );
  });

  it('assembles a spanning PDU from bytes read straight into assemblyTarget(), in place', () => {
    const big = B.c2hData({ cccid: 7, datao: 0, data: pattern(100_000, 3), last: true });
    const out: Buffer[] = [];
    const reader = new PduReader({ onHeader: () => {}, onPdu: (p) => out.push(p) });
    reader.push(big.subarray(0, 4096)); // the header and the first data, as a socket read gives them
    let fed = 4096;
    let assembly: ArrayBufferLike | undefined;
    while (fed < big.length) {
      const target = reader.assemblyTarget(1);
      expect(target).toBeDefined();
      assembly ??= target!.buffer;
      expect(target!.buffer).toBe(assembly); // one assembly buffer, filled where it is
      // A socket filling the view: at most what is left of this PDU, here 30000 bytes at a time.
      const n = Math.min(30_000, target!.length, big.length - fed);
      big.copy(target!, 0, fed, fed + n);
      reader.push(target!.subarray(0, n));
      fed += n;
    }
    expect(out).toHaveLength(1);
    expect(out[0].equals(big)).toBe(true);
    expect(out[0].buffer).toBe(assembly);
    expect(reader.idle).toBe(true);
    expect(reader.lastPduLength).toBe(big.length);
    expect(reader.assemblyTarget(1)).toBeUndefined();
  });

  it('offers no assembly target at a PDU boundary or for a short remainder', () => {
    const reader = new PduReader({ onHeader: () => {}, onPdu: () => {} });
    expect(reader.assemblyTarget(1)).toBeUndefined();
    const pdu = B.c2hData({ cccid: 1, datao: 0, data: pattern(5000, 4), last: true });
    reader.push(pdu.subarray(0, pdu.length - 100));
    expect(reader.assemblyTarget(101)).toBeUndefined();
    expect(reader.assemblyTarget(100)).toHaveLength(100);
  });
});

/**
 * ReusableRxBuffer with the PDU reader, reads simulated by writing bytes into the buffers it
 * hands out: a PDU split across two reads into the same (reused) memory is still whole, a view
 * kept with keep() is never read into again, and unkept memory is reused.
 */
import { describe, expect, it } from 'vitest';
import { PduReader } from '../../../../src/transport/tcp/pdu-reader.js';
import { ReusableRxBuffer } from '../../../../src/transport/tcp/reusable-rx-buffer.js';

const CH_SIZE = 8;

/** A PDU per NVMe/TCP 1.0 3.6.1 common header: type, flags, HLEN, PDO, PLEN (LE), then payload. */
function pdu(type: number, payloadLength: number, seed: number): Buffer {
  const b = Buffer.alloc(CH_SIZE + payloadLength);
  b[0] = type;
  b[2] = CH_SIZE;
  b.writeUInt32LE(b.length, 4);
  for (let i = CH_SIZE; i < b.length; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

/** Reader + buffer; every PDU is recorded as a copy taken when delivered and as the view itself. */
function setup(keepPdu?: (p: Buffer) => boolean) {
  const copies: Buffer[] = [];
  const views: Buffer[] = [];
  const holder: { rx?: ReusableRxBuffer } = {};
  const reader = new PduReader({
    onHeader: () => undefined,
    onPdu: (p) => {
      copies.push(Buffer.from(p));
      views.push(p);
      if (keepPdu?.(p)) holder.rx?.keep();
    },
  });
  const rx = new ReusableRxBuffer(reader);
  holder.rx = rx;
  /** One socket read of `bytes`: into the buffer next() offers, then filled(). */
  const read = (bytes: Buffer): Buffer => {
    const into = rx.next();
    expect(bytes.length).toBeLessThanOrEqual(into.length);
    bytes.copy(into);
    rx.filled(into, bytes.length, (chunk) => reader.push(chunk));
    return into;
  };
  return { copies, views, read };
}

describe('ReusableRxBuffer', () => {
  it('decodes a stream split at every byte boundary across two reads into reused memory', () => {
    const stream = Buffer.concat([pdu(4, 72, 1), pdu(6, 100, 2), pdu(4, 3, 3)]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const { copies, read } = setup();
      const first = read(stream.subarray(0, cut));
      const second = read(stream.subarray(cut));
      // Nothing kept: the second read went into the very bytes the first one used.
      expect(second.buffer).toBe(first.buffer);
      expect(second.byteOffset).toBe(first.byteOffset);
      expect(Buffer.concat(copies)).toEqual(stream);
    }
  });

  it('never reads into bytes a kept view still refers to', () => {
    const kept = pdu(4, 4096 + 64, 9);
    const { copies, views, read } = setup((p) => p[0] === 4);
    read(kept);
    for (let i = 0; i < 200; i++) read(pdu(6, 4096, i));
    expect(views[0]).toEqual(kept);
    expect(copies).toHaveLength(201);
    expect(copies[200]).toEqual(pdu(6, 4096, 199));
  });

  it('reuses memory again once reads are no longer kept', () => {
    let keepNext = true;
    const { read } = setup(() => {
      const k = keepNext;
      keepNext = false;
      return k;
    });
    const a = read(pdu(4, 100, 1));
    const b = read(pdu(4, 100, 2));
    const c = read(pdu(4, 100, 3));
    expect(b.byteOffset).toBeGreaterThanOrEqual(a.byteOffset + 108);
    expect(c.buffer).toBe(b.buffer);
    expect(c.byteOffset).toBe(b.byteOffset);
  });
});

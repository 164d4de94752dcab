import { describe, expect, it } from 'vitest';
import { NbdProtocolError } from '../../../../src/shim/nbd/nbd-error.js';
import { PendingRequest, type ReplyResult } from '../../../../src/shim/nbd/pending-request.js';
import { ReplyReader } from '../../../../src/shim/nbd/reply-reader.js';
import { bytes, chunk, simpleReply } from './nbd-bytes.js';

// proto.md values, typed in rather than imported from src.
const CMD_READ = 0;
const CMD_WRITE = 1;
const CMD_BLOCK_STATUS = 7;
const FLAG_DONE = 1;
const TYPE_NONE = 0;
const TYPE_OFFSET_DATA = 1;
const TYPE_OFFSET_HOLE = 2;
const TYPE_BLOCK_STATUS = 5;
const TYPE_ERROR = 0x8001;
const CONTEXT_ID = 7;

const hex = (n: number) => n.toString(16).padStart(16, '0');

interface Outcome {
  ok?: ReplyResult;
  err?: unknown;
}

/** Requests in flight as a client holds them, and what each one settled with, in order. */
function table(
  requests: { handle: number; type: number; offset: number; length: number; into?: Buffer }[],
) {
  const pending = new Map<number, PendingRequest>();
  const outcomes = new Map<number, Outcome>();
  const order: number[] = [];
  for (const r of requests) {
    const out: Outcome = {};
    outcomes.set(r.handle, out);
    pending.set(
      r.handle,
      new PendingRequest(
        r.type,
        r.offset,
        r.length,
        CONTEXT_ID,
        (ok) => (out.ok = ok),
        (err) => (out.err = err),
        r.into,
      ),
    );
  }
  const target = {
    pendingFor(handle: number) {
      const p = pending.get(handle);
      if (!p) throw new NbdProtocolError('NBD_ERR_UNEXPECTED_REPLY', `handle ${handle}`);
      return p;
    },
    settled(handle: number) {
      pending.delete(handle);
      order.push(handle);
    },
  };
  return { target, outcomes, order, pending };
}

/**
 * Pushes `stream` cut at `cuts` the way the client's socket delivers it: every piece lands in one
 * reused receive buffer, which is scribbled over after each push, so a reader that kept a view of
 * it would hand on garbage.
 */
function feed(reader: ReplyReader, stream: Buffer, cuts: number[]): void {
  const receive = Buffer.alloc(stream.length + 16);
  let at = 0;
  for (const cut of [...cuts, stream.length]) {
    const n = cut - at;
    const start = 5; // not at the buffer's start, as a read need not be
    stream.copy(receive, start, at, cut);
    reader.push(receive, start, start + n);
    receive.fill(0xee);
    at = cut;
  }
}

const dataA = Buffer.from('0123456789abcdef');
const dataB = Buffer.from('ABCDEFGH');
/** Replies to six requests: simple and structured, whole and in pieces, errors, block status. */
const stream = Buffer.concat([
  // 1: READ 16 bytes at 4096, a simple reply with data.
  simpleReply(hex(1), 0, dataA),
  // 2: WRITE, a simple reply without data.
  simpleReply(hex(2), 0),
  // 3: READ 12 bytes at 100, in three chunks out of order, then NONE with DONE.
  chunk(0, TYPE_OFFSET_DATA, hex(3), bytes().u64(108).ascii('WXYZ').build()),
  chunk(0, TYPE_OFFSET_HOLE, hex(3), bytes().u64(104).u32(4).build()),
  chunk(0, TYPE_OFFSET_DATA, hex(3), bytes().u64(100).ascii('abcd').build()),
  chunk(FLAG_DONE, TYPE_NONE, hex(3), Buffer.alloc(0)),
  // 4: READ 8 bytes at 0, one OFFSET_DATA chunk with DONE, into the caller's buffer.
  chunk(FLAG_DONE, TYPE_OFFSET_DATA, hex(4), bytes().u64(0).raw(dataB).build()),
  // 5: READ that fails: an error chunk (EIO, "bad").
  chunk(FLAG_DONE, TYPE_ERROR, hex(5), bytes().u32(5).u16(3).ascii('bad').build()),
  // 6: BLOCK_STATUS, one descriptor of the negotiated context.
  chunk(FLAG_DONE, TYPE_BLOCK_STATUS, hex(6), bytes().u32(CONTEXT_ID).u32(512).u32(3).build()),
  // 7: READ, a simple reply with an error and so without data.
  simpleReply(hex(7), 22),
]);

function run(cuts: number[]) {
  const into = Buffer.alloc(8);
  const t = table([
    { handle: 1, type: CMD_READ, offset: 4096, length: 16 },
    { handle: 2, type: CMD_WRITE, offset: 0, length: 4 },
    { handle: 3, type: CMD_READ, offset: 100, length: 12 },
    { handle: 4, type: CMD_READ, offset: 0, length: 8, into },
    { handle: 5, type: CMD_READ, offset: 0, length: 8 },
    { handle: 6, type: CMD_BLOCK_STATUS, offset: 0, length: 512 },
    { handle: 7, type: CMD_READ, offset: 0, length: 512 },
  ]);
  feed(new ReplyReader(t.target, 1 << 20), stream, cuts);
  return { ...t, into };
}

function expectAllSettled({ outcomes, order, pending, into }: ReturnType<typeof run>): void {
  expect(order).toEqual([1, 2, 3, 4, 5, 6, 7]);
  expect(pending.size).toBe(0);
  expect(outcomes.get(1)!.ok!.data!.equals(dataA)).toBe(true);
  expect(outcomes.get(2)!.ok!.data).toBeUndefined();
  expect(outcomes.get(2)!.ok!.descriptors).toBeUndefined();
  expect(outcomes.get(3)!.ok!.data!.toString('latin1')).toBe('abcd\0\0\0\0WXYZ');
  expect(outcomes.get(4)!.ok!.data).toBe(into);
  expect(into.equals(dataB)).toBe(true);
  expect(outcomes.get(5)!.err).toEqual({ errno: 5, message: 'bad' });
  expect(outcomes.get(6)!.ok!.descriptors).toEqual([{ length: 512, flags: 3 }]);
  expect(outcomes.get(7)!.err).toEqual({ errno: 22, message: '' });
}

describe('ReplyReader', () => {
  it('reads simple and structured replies pushed whole', () => {
    expectAllSettled(run([]));
  });

  it('reads the same replies split at every byte boundary, keeping nothing of the receive buffer', () => {
    for (let cut = 1; cut < stream.length; cut++) expectAllSettled(run([cut]));
  });

  it('reads them one byte at a time', () => {
    expectAllSettled(run(Array.from({ length: stream.length - 1 }, (_, i) => i + 1)));
  });

  it('says where each socket read goes: one reply at a time, a body into its destination', () => {
    // Node's onread with a buffer generator: every read lands in the buffer asked for, taking at
    // most its length; here with the stream's bytes as they come, in reads of up to `cap` bytes.
    for (const cap of [1, 7, 28, 4096]) {
      const into = Buffer.alloc(8);
      const u = table([
        { handle: 1, type: CMD_READ, offset: 4096, length: 16 },
        { handle: 2, type: CMD_WRITE, offset: 0, length: 4 },
        { handle: 3, type: CMD_READ, offset: 100, length: 12 },
        { handle: 4, type: CMD_READ, offset: 0, length: 8, into },
        { handle: 5, type: CMD_READ, offset: 0, length: 8 },
        { handle: 6, type: CMD_BLOCK_STATUS, offset: 0, length: 512 },
        { handle: 7, type: CMD_READ, offset: 0, length: 512 },
      ]);
      const reader = new ReplyReader(u.target, 1 << 20);
      const sizes: number[] = [];
      for (let at = 0; at < stream.length;) {
        const buf = reader.nextReadBuffer();
        sizes.push(buf.length);
        const n = Math.min(buf.length, cap, stream.length - at);
        stream.copy(buf, 0, at, at + n);
        reader.received(buf, n);
        at += n;
      }
      expectAllSettled({ ...u, into });
      // Between bodies a read is sized for one reply: a header, an offset and a body like the last.
      expect(Math.max(...sizes)).toBeLessThanOrEqual(20 + 8 + 16);
    }
  });

  it('reads like bodies reply after reply through the buffer it hands out, each into its own request', () => {
    // A body read with its header sits at the same place in that buffer reply after reply, and
    // the reader reuses its view of it; a simple reply's body sits 12 bytes earlier than a
    // structured one's. Each reply's own bytes must reach its own request.
    const bodies = [dataA, Buffer.from('fedcba9876543210'), Buffer.from('ABCDEFGHIJKLMNOP'), dataA];
    const replies = [
      chunk(FLAG_DONE, TYPE_OFFSET_DATA, hex(20), bytes().u64(0).raw(bodies[0]).build()),
      chunk(FLAG_DONE, TYPE_OFFSET_DATA, hex(21), bytes().u64(512).raw(bodies[1]).build()),
      simpleReply(hex(22), 0, bodies[2]),
      chunk(FLAG_DONE, TYPE_OFFSET_DATA, hex(23), bytes().u64(1536).raw(bodies[3]).build()),
    ];
    const t = table(
      bodies.map((b, i) => ({ handle: 20 + i, type: CMD_READ, offset: 512 * i, length: 16 })),
    );
    const reader = new ReplyReader(t.target, 1 << 20);
    for (const reply of replies) {
      for (let at = 0; at < reply.length;) {
        const buf = reader.nextReadBuffer();
        const n = Math.min(buf.length, reply.length - at);
        reply.copy(buf, 0, at, at + n);
        reader.received(buf, n);
        at += n;
      }
    }
    expect(t.order).toEqual([20, 21, 22, 23]);
    bodies.forEach((b, i) => expect(t.outcomes.get(20 + i)!.ok!.data!.equals(b)).toBe(true));
  });

  it('reads a READ body straight into the destination the request names', () => {
    const into = Buffer.alloc(16);
    const t = table([{ handle: 9, type: CMD_READ, offset: 0, length: 16, into }]);
    const reader = new ReplyReader(t.target, 1 << 20);
    const reply = chunk(FLAG_DONE, TYPE_OFFSET_DATA, hex(9), bytes().u64(0).raw(dataA).build());
    const header = reader.nextReadBuffer();
    reply.copy(header, 0, 0, 28); // the header and the offset only, as a short read gives
    reader.received(header, 28);
    expect(reader.nextReadBuffer()).toBe(into);
    reply.copy(into, 0, 28);
    reader.received(into, 16);
    expect(t.outcomes.get(9)!.ok!.data).toBe(into);
    expect(into.equals(dataA)).toBe(true);
  });

  it('copies READ data into the buffer the request names', () => {
    const into = Buffer.alloc(16);
    const t = table([{ handle: 9, type: CMD_READ, offset: 0, length: 16, into }]);
    const reply = chunk(FLAG_DONE, TYPE_OFFSET_DATA, hex(9), bytes().u64(0).raw(dataA).build());
    feed(new ReplyReader(t.target, 1 << 20), reply, [21, 30]);
    expect(t.outcomes.get(9)!.ok!.data).toBe(into);
    expect(into.equals(dataA)).toBe(true);
  });

  const failures: [string, Buffer, string][] = [
    ['a reply for an unknown handle', simpleReply(hex(99), 0), 'NBD_ERR_UNEXPECTED_REPLY'],
    ['a bad magic', Buffer.from('deadbeef000000000000000000000000', 'hex'), 'NBD_ERR_BAD_MAGIC'],
    [
      'an OFFSET_DATA chunk without data',
      chunk(FLAG_DONE, TYPE_OFFSET_DATA, hex(1), bytes().u64(0).build()),
      'NBD_ERR_BAD_REPLY',
    ],
    [
      'content outside the read',
      chunk(FLAG_DONE, TYPE_OFFSET_DATA, hex(1), bytes().u64(4).raw(dataB).build()),
      'NBD_ERR_BAD_REPLY',
    ],
    [
      'a non-data payload over the limit',
      chunk(FLAG_DONE, TYPE_ERROR, hex(1), Buffer.alloc(65)),
      'NBD_ERR_TOO_LARGE',
    ],
  ];
  it.each(failures)('ends the session with a protocol error on %s', (_what, reply, code) => {
    const t = table([{ handle: 1, type: CMD_READ, offset: 0, length: 8 }]);
    expect(() => feed(new ReplyReader(t.target, 64), reply, [])).toThrow(
      expect.objectContaining({ code }),
    );
  });
});

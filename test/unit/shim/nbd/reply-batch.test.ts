import { describe, expect, it } from 'vitest';
import { MemoryBdev } from '../../../../src/bdev/memory-bdev.js';
import { resolveExports } from '../../../../src/shim/nbd/nbd-export.js';
import { NbdCommand, NbdErrno, ReplyFlag, ReplyType } from '../../../../src/shim/nbd/protocol.js';
import {
  FLUSH_EVERY_REPLIES,
  REPLY_ARENA_BYTES,
  ReplyBatch,
} from '../../../../src/shim/nbd/reply-batch.js';
import {
  writeReply,
  type NbdRequest,
  type TransmissionContext,
} from '../../../../src/shim/nbd/request-handler.js';
import { ByteSink } from './byte-sink.js';
import { bytes, chunk, simpleReply } from './nbd-bytes.js';

const BS = 512;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const handleHex = (i: number) => (0x1000 + i).toString(16).padStart(16, '0');

function context(structured: boolean): TransmissionContext {
  const bdev = new MemoryBdev({ name: 'm', blockSize: BS, blockCount: 64 });
  const [exp] = resolveExports([{ name: 'vol0', bdev }]);
  return { export: exp, structuredReplies: structured, baseAllocation: structured };
}

function req(type: number, i: number, offset = 0, length = BS): NbdRequest {
  return {
    type,
    flags: 0,
    offset,
    length,
    handle: Buffer.from(handleHex(i), 'hex'),
    data: Buffer.alloc(0),
  };
}

/** READ data whose every byte says which request it belongs to. */
const readData = (i: number) => Buffer.alloc(BS, i & 0xff);

describe('ReplyBatch: the replies of one turn in one corked batch', () => {
  it('keeps the order and bytes of mixed replies completed in one turn, one group per turn', async () => {
    const sink = new ByteSink();
    const batch = new ReplyBatch(sink);
    const ctx = context(true);
    writeReply(batch, req(NbdCommand.Write, 1), ctx, undefined);
    writeReply(batch, req(NbdCommand.Read, 2, 3 * BS), ctx, readData(2));
    writeReply(batch, req(NbdCommand.Write, 3), ctx, undefined);
    writeReply(batch, req(NbdCommand.Read, 4, 7 * BS), ctx, readData(4));
    expect(sink.isCorked).toBe(true);
    await nextTurn();
    expect(sink.isCorked).toBe(false);
    const offsetData = (i: number, offset: number) =>
      chunk(
        ReplyFlag.Done,
        ReplyType.OffsetData,
        handleHex(i),
        bytes().u64(offset).raw(readData(i)).build(),
      );
    const want = Buffer.concat([
      simpleReply(handleHex(1), NbdErrno.Ok),
      offsetData(2, 3 * BS),
      simpleReply(handleHex(3), NbdErrno.Ok),
      offsetData(4, 7 * BS),
    ]);
    expect(sink.bytes().equals(want)).toBe(true);
    expect(sink.groups).toHaveLength(1);
  });

  it('sends READ data as its own buffer and back-to-back headers as one buffer', async () => {
    const sink = new ByteSink();
    const batch = new ReplyBatch(sink);
    const ctx = context(false);
    for (let i = 0; i < 5; i++) writeReply(batch, req(NbdCommand.Write, i), ctx, undefined);
    writeReply(batch, req(NbdCommand.Read, 9), ctx, readData(9));
    await nextTurn();
    const headers = Buffer.concat(
      [0, 1, 2, 3, 4, 9].map((i) => simpleReply(handleHex(i), NbdErrno.Ok)),
    );
    expect(sink.writes.map((w) => w.length)).toEqual([headers.length, BS]);
    expect(sink.bytes().equals(Buffer.concat([headers, readData(9)]))).toBe(true);
  });

  it('a batch split across turns: each turn its own group, earlier bytes left intact', async () => {
    const sink = new ByteSink();
    const views: Buffer[] = [];
    const batch = new ReplyBatch({
      get writable() {
        return true;
      },
      cork: () => sink.cork(),
      uncork: () => sink.uncork(),
      write: (b) => {
        views.push(b);
        return sink.write(b);
      },
    });
    const ctx = context(false);
    writeReply(batch, req(NbdCommand.Write, 1), ctx, undefined);
    writeReply(batch, req(NbdCommand.Write, 2), ctx, undefined);
    await nextTurn();
    writeReply(batch, req(NbdCommand.Write, 3), ctx, undefined);
    await nextTurn();
    expect(sink.groups.map((g) => Buffer.concat(g))).toEqual([
      Buffer.concat([simpleReply(handleHex(1), 0), simpleReply(handleHex(2), 0)]),
      simpleReply(handleHex(3), 0),
    ]);
    // The socket may still hold the first turn's view while the second turn encodes.
    expect(Buffer.concat(views).equals(sink.bytes())).toBe(true);
  });

  it('a turn with more headers than the arena holds keeps every reply, in order', async () => {
    const sink = new ByteSink();
    const batch = new ReplyBatch(sink);
    const ctx = context(false);
    const n = Math.ceil((2 * REPLY_ARENA_BYTES) / 16) + 3;
    for (let i = 0; i < n; i++) writeReply(batch, req(NbdCommand.Write, i), ctx, undefined);
    await nextTurn();
    const want = Buffer.concat(
      Array.from({ length: n }, (_, i) => simpleReply(handleHex(i), NbdErrno.Ok)),
    );
    expect(sink.bytes().equals(want)).toBe(true);
    // A turn's replies leave in groups of FLUSH_EVERY_REPLIES, each one corked write.
    expect(sink.groups).toHaveLength(Math.ceil(n / FLUSH_EVERY_REPLIES));
  });

  it('flush() sends at once, and nothing is written once the socket is not writable', async () => {
    const sink = new ByteSink();
    const batch = new ReplyBatch(sink);
    const ctx = context(false);
    writeReply(batch, req(NbdCommand.Write, 1), ctx, undefined);
    batch.flush();
    expect(sink.isCorked).toBe(false);
    expect(sink.bytes().equals(simpleReply(handleHex(1), 0))).toBe(true);
    sink.writable = false;
    expect(batch.write([Buffer.from('late')])).toBe(false);
    writeReply(batch, req(NbdCommand.Write, 2), ctx, undefined);
    await nextTurn();
    expect(sink.bytes().equals(simpleReply(handleHex(1), 0))).toBe(true);
  });
});

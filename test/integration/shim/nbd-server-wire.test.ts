/**
 * The NBD server driven byte by byte over real sockets, with messages built from proto.md by
 * the test-only builder: handshake bytes, replies, errors that leave the connection alive,
 * violations that end it, pipelining, DISC, multi-conn, unix sockets, shutdown.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MediaStatus,
  MemoryBdev,
  NvmeStatusError,
  StatusCodeType,
} from '../../../src/bdev/index.js';
import { NbdServer } from '../../../src/shim/nbd/index.js';
import {
  bytes,
  chunk,
  IHAVEOPT,
  NBDMAGIC,
  option,
  optionReply,
  request,
  simpleReply,
} from '../../unit/shim/nbd/nbd-bytes.js';
import { FaultyBdev } from '../../unit/shim/nbd/faulty-bdev.js';
import { RawPeer } from './raw-peer.js';

// proto.md values, typed in.
const OPT = { EXPORT_NAME: 1, ABORT: 2, GO: 7, STRUCTURED: 8, SET_META: 10 };
const REP = { ACK: 1, INFO: 3, META: 4 };
const CMD = { READ: 0, WRITE: 1, DISC: 2, FLUSH: 3, TRIM: 4, BLOCK_STATUS: 7 };
const EINVAL = 22;
const EIO = 5;
const TFLAGS = 0x0d6d; // HAS_FLAGS FLUSH FUA TRIM WRITE_ZEROES MULTI_CONN CACHE FAST_ZERO
const TFLAGS_DF = TFLAGS | 0x0080;
const BS = 4096;
const SIZE = 1 << 20;

const hex = (b: Buffer) => b.toString('hex');
const pattern = (n: number, seed: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff));
const handle = (n: number) => n.toString(16).padStart(16, '0');
const goData = (name: string) => bytes().str32(name).u16(1).u16(3).build();

interface Handshake {
  structured?: boolean;
  meta?: boolean;
}

/** Client flags, [STRUCTURED_REPLY], [SET_META_CONTEXT], GO; checks every reply byte. */
async function handshake(peer: RawPeer, h: Handshake = {}): Promise<void> {
  expect(hex(await peer.read(18))).toBe(
    hex(bytes().u64hex(NBDMAGIC).u64hex(IHAVEOPT).u16(3).build()),
  );
  peer.send(bytes().u32(3).build());
  if (h.structured) {
    peer.send(option(OPT.STRUCTURED));
    expect(hex(await peer.read(20))).toBe(hex(optionReply(OPT.STRUCTURED, REP.ACK)));
  }
  if (h.meta) {
    peer.send(option(OPT.SET_META, bytes().str32('vol0').u32(1).str32('base:allocation').build()));
    const want = Buffer.concat([
      optionReply(OPT.SET_META, REP.META, bytes().u32(1).ascii('base:allocation').build()),
      optionReply(OPT.SET_META, REP.ACK),
    ]);
    expect(hex(await peer.read(want.length))).toBe(hex(want));
  }
  peer.send(option(OPT.GO, goData('vol0')));
  const want = Buffer.concat([
    optionReply(
      OPT.GO,
      REP.INFO,
      bytes()
        .u16(0)
        .u64(SIZE)
        .u16(h.structured ? TFLAGS_DF : TFLAGS)
        .build(),
    ),
    optionReply(
      OPT.GO,
      REP.INFO,
      bytes()
        .u16(3)
        .u32(BS)
        .u32(BS)
        .u32(32 << 20)
        .build(),
    ),
    optionReply(OPT.GO, REP.ACK),
  ]);
  expect(hex(await peer.read(want.length))).toBe(hex(want));
}

/** Reads `count` simple replies, taking `readLengths[handle]` data bytes after successful ones. */
async function simpleReplies(
  peer: RawPeer,
  count: number,
  readLengths: Record<string, number> = {},
) {
  const out = new Map<string, { error: number; data?: Buffer }>();
  for (let i = 0; i < count; i++) {
    const h = await peer.read(16);
    expect(h.readUInt32BE(0)).toBe(0x67446698);
    const id = h.subarray(8, 16).toString('hex');
    const error = h.readUInt32BE(4);
    const n = error === 0 ? (readLengths[id] ?? 0) : 0;
    out.set(id, { error, data: n ? await peer.read(n) : undefined });
  }
  return out;
}

describe('NBD server on the wire', () => {
  let bdev: MemoryBdev;
  let faulty: FaultyBdev;
  let server: NbdServer;
  let port: number;
  let dir: string;

  beforeEach(async () => {
    bdev = new MemoryBdev({ name: 'mem', blockSize: BS, blockCount: SIZE / BS });
    faulty = new FaultyBdev(512, 64);
    server = new NbdServer({
      exports: [
        { name: 'vol0', bdev },
        { name: 'faulty', bdev: faulty },
      ],
    });
    port = ((await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number }).port;
    dir = await mkdtemp(join(tmpdir(), 'nbd-wire-'));
  });

  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('greets with NBDMAGIC, IHAVEOPT and FIXED_NEWSTYLE|NO_ZEROES, then negotiates GO', async () => {
    const peer = await RawPeer.connect({ port });
    await handshake(peer);
    peer.destroy();
  });

  it('drops a client that sets an unknown client flag (proto.md "Client flags")', async () => {
    const peer = await RawPeer.connect({ port });
    await peer.read(18);
    peer.send(bytes().u32(0x4).build());
    await peer.closed;
  });

  it('NBD_OPT_EXPORT_NAME without NO_ZEROES: size, flags, 124 zeroes', async () => {
    const peer = await RawPeer.connect({ port });
    await peer.read(18);
    peer.send(bytes().u32(1).build(), option(OPT.EXPORT_NAME, Buffer.from('vol0')));
    expect(hex(await peer.read(134))).toBe(hex(bytes().u64(SIZE).u16(TFLAGS).zeroes(124).build()));
    peer.send(request(CMD.FLUSH, handle(1), 0, 0));
    expect(hex(await peer.read(16))).toBe(hex(simpleReply(handle(1), 0)));
    peer.destroy();
  });

  it('NBD_OPT_ABORT is acknowledged, then the server closes', async () => {
    const peer = await RawPeer.connect({ port });
    await peer.read(18);
    peer.send(bytes().u32(3).build(), option(OPT.ABORT));
    expect(hex(await peer.read(20))).toBe(hex(optionReply(OPT.ABORT, REP.ACK)));
    await peer.closed;
  });

  it('answers a bad request in a pipeline with EINVAL and serves the rest (simple replies)', async () => {
    const peer = await RawPeer.connect({ port });
    await handshake(peer);
    const data = pattern(2 * BS, 1);
    peer.send(
      Buffer.concat([
        request(CMD.WRITE, handle(1), BS, 2 * BS, 0, data),
        request(CMD.READ, handle(2), 100, BS), // unaligned
        request(CMD.READ, handle(3), SIZE, BS), // beyond the end
        request(CMD.READ, handle(4), BS, 2 * BS),
        request(CMD.FLUSH, handle(5), 0, 0),
      ]),
    );
    const replies = await simpleReplies(peer, 5, { [handle(4)]: 2 * BS });
    expect(replies.get(handle(1))).toEqual({ error: 0, data: undefined });
    expect(replies.get(handle(2))).toEqual({ error: EINVAL, data: undefined });
    expect(replies.get(handle(3))).toEqual({ error: EINVAL, data: undefined });
    expect(replies.get(handle(4))!.data!.equals(data)).toBe(true);
    expect(replies.get(handle(5))).toEqual({ error: 0, data: undefined });
    // The connection is still alive.
    peer.send(request(CMD.READ, handle(6), 0, BS));
    expect(hex(await peer.read(16 + BS))).toBe(hex(simpleReply(handle(6), 0, Buffer.alloc(BS))));
    peer.destroy();
  });

  it('structured replies: OFFSET_DATA, BLOCK_STATUS and ERROR chunks', async () => {
    const peer = await RawPeer.connect({ port });
    await handshake(peer, { structured: true, meta: true });
    const data = pattern(BS, 7);
    peer.send(request(CMD.WRITE, handle(1), 2 * BS, BS, 0, data));
    expect(hex(await peer.read(16))).toBe(hex(simpleReply(handle(1), 0)));
    peer.send(request(CMD.READ, handle(2), 2 * BS, BS));
    expect(hex(await peer.read(20 + 8 + BS))).toBe(
      hex(
        chunk(
          1,
          1,
          handle(2),
          bytes()
            .u64(2 * BS)
            .raw(data)
            .build(),
        ),
      ),
    );
    peer.send(request(CMD.BLOCK_STATUS, handle(3), 0, SIZE));
    const status = bytes()
      .u32(1)
      .u32(2 * BS)
      .u32(3)
      .u32(BS)
      .u32(0)
      .u32(SIZE - 3 * BS)
      .u32(3)
      .build();
    expect(hex(await peer.read(20 + status.length))).toBe(hex(chunk(1, 5, handle(3), status)));
    peer.send(
      request(CMD.TRIM, handle(4), 2 * BS, BS),
      request(CMD.BLOCK_STATUS, handle(5), 0, 4 * BS),
    );
    expect(hex(await peer.read(16))).toBe(hex(simpleReply(handle(4), 0)));
    expect(hex(await peer.read(20 + 12))).toBe(
      hex(
        chunk(
          1,
          5,
          handle(5),
          bytes()
            .u32(1)
            .u32(4 * BS)
            .u32(3)
            .build(),
        ),
      ),
    );
    peer.send(request(CMD.READ, handle(6), SIZE - BS, 2 * BS));
    const msg = `READ offset=${SIZE - BS} length=${2 * BS}: beyond the export size ${SIZE}`;
    const err = chunk(1, 0x8001, handle(6), bytes().u32(EINVAL).u16(msg.length).ascii(msg).build());
    expect(hex(await peer.read(err.length))).toBe(hex(err));
    peer.destroy();
  });

  it('a bdev failure fails that request only', async () => {
    const peer = await RawPeer.connect({ port });
    await peer.read(18);
    peer.send(bytes().u32(3).build(), option(OPT.GO, bytes().str32('faulty').u16(0).build()));
    await peer.read(32 + 34 + 20);
    faulty.fault = {
      lba: 4,
      blocks: 1,
      error: new NvmeStatusError(
        StatusCodeType.MediaAndDataIntegrity,
        MediaStatus.UnrecoveredReadError,
      ),
    };
    peer.send(
      request(CMD.READ, handle(1), 4 * 512, 512),
      request(CMD.READ, handle(2), 5 * 512, 512),
    );
    const replies = await simpleReplies(peer, 2, { [handle(1)]: 512, [handle(2)]: 512 });
    expect(replies.get(handle(1))).toEqual({ error: EIO, data: undefined });
    expect(replies.get(handle(2))!.data!.equals(Buffer.alloc(512))).toBe(true);
    peer.destroy();
  });

  it('a request with a bad magic ends that connection only', async () => {
    const bad = await RawPeer.connect({ port });
    const good = await RawPeer.connect({ port });
    await handshake(bad);
    await handshake(good);
    const req = request(CMD.READ, handle(1), 0, BS);
    req.writeUInt32BE(0x12560953, 0); // the historic request magic, reserved
    bad.send(req);
    await bad.closed;
    good.send(request(CMD.READ, handle(2), 0, BS));
    expect(hex(await good.read(16 + BS))).toBe(hex(simpleReply(handle(2), 0, Buffer.alloc(BS))));
    good.destroy();
  });

  it('NBD_CMD_DISC: every request before it is answered, then the server closes', async () => {
    const peer = await RawPeer.connect({ port });
    await handshake(peer);
    const writes = Array.from({ length: 16 }, (_, i) =>
      request(CMD.WRITE, handle(i + 1), i * BS, BS, 0, pattern(BS, i)),
    );
    peer.send(Buffer.concat([...writes, request(CMD.DISC, handle(99), 0, 0)]));
    const replies = await simpleReplies(peer, 16);
    expect([...replies.values()].every((r) => r.error === 0)).toBe(true);
    await peer.closed;
    expect(peer.buffered).toBe(0); // no reply to DISC
    for (let i = 0; i < 16; i++) expect((await bdev.read(i, 1)).equals(pattern(BS, i))).toBe(true);
  });

  it('multi-conn: a write acknowledged on one connection is read on another', async () => {
    const a = await RawPeer.connect({ port });
    const b = await RawPeer.connect({ port });
    await handshake(a);
    await handshake(b);
    const data = pattern(BS, 42);
    a.send(request(CMD.WRITE, handle(1), 8 * BS, BS, 1 /* FUA */, data));
    expect(hex(await a.read(16))).toBe(hex(simpleReply(handle(1), 0)));
    a.send(request(CMD.FLUSH, handle(2), 0, 0));
    expect(hex(await a.read(16))).toBe(hex(simpleReply(handle(2), 0)));
    b.send(request(CMD.READ, handle(3), 8 * BS, BS));
    expect(hex(await b.read(16 + BS))).toBe(hex(simpleReply(handle(3), 0, data)));
    a.destroy();
    b.destroy();
  });

  it('serves a unix socket too', async () => {
    const path = join(dir, 'nbd.sock');
    const unixServer = new NbdServer({ exports: [{ name: 'vol0', bdev }] });
    expect(await unixServer.listen({ path })).toEqual({ path });
    const peer = await RawPeer.connect({ path });
    await handshake(peer);
    peer.send(request(CMD.READ, handle(1), 0, BS));
    expect(hex(await peer.read(16 + BS))).toBe(hex(simpleReply(handle(1), 0, Buffer.alloc(BS))));
    peer.destroy();
    await unixServer.close();
  });

  it('close() answers in-flight requests, then closes every session', async () => {
    const peer = await RawPeer.connect({ port });
    await handshake(peer);
    const idle = await RawPeer.connect({ port }); // still negotiating
    await idle.read(18);
    peer.send(request(CMD.WRITE, handle(1), 0, BS, 0, pattern(BS, 3)));
    expect(hex(await peer.read(16))).toBe(hex(simpleReply(handle(1), 0)));
    await server.close();
    await Promise.all([peer.closed, idle.closed]);
    expect(server.connections).toBe(0);
    server = new NbdServer({ exports: [{ name: 'vol0', bdev }] }); // for afterEach
  });
});

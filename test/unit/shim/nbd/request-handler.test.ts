import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FileBdev,
  GenericStatus,
  MediaStatus,
  MemoryBdev,
  NvmeStatusError,
  StatusCodeType,
  type Bdev,
} from '../../../../src/bdev/index.js';
import { resolveExports, type NbdExportConfig } from '../../../../src/shim/nbd/nbd-export.js';
import {
  errorReply,
  executeRequest,
  writeReply,
  validateRequest,
  type NbdRequest,
  type TransmissionContext,
} from '../../../../src/shim/nbd/request-handler.js';
import { ReplyBatch } from '../../../../src/shim/nbd/reply-batch.js';
import { bytes, chunk, simpleReply } from './nbd-bytes.js';
import { ByteSink } from './byte-sink.js';
import { FaultyBdev } from './faulty-bdev.js';

// Typed in from proto.md.
const CMD = {
  READ: 0,
  WRITE: 1,
  DISC: 2,
  FLUSH: 3,
  TRIM: 4,
  CACHE: 5,
  WRITE_ZEROES: 6,
  BLOCK_STATUS: 7,
};
const FLAG = { FUA: 1, NO_HOLE: 2, DF: 4, REQ_ONE: 8, FAST_ZERO: 16 };
const E = { EPERM: 1, EIO: 5, EINVAL: 22, ENOSPC: 28, ENOTSUP: 95 };
const MiB = 1024 * 1024;
const HANDLE = 'a1a2a3a4a5a6a7a8';

function context(
  bdev: Bdev,
  extra: Partial<NbdExportConfig> = {},
  structured = true,
): TransmissionContext {
  const [exp] = resolveExports([{ name: 'vol0', bdev, ...extra }]);
  return { export: exp, structuredReplies: structured, baseAllocation: structured };
}

function req(
  type: number,
  offset: number,
  length: number,
  flags = 0,
  data = Buffer.alloc(0),
): NbdRequest {
  return { type, offset, length, flags, data, handle: Buffer.from(HANDLE, 'hex') };
}

/** validate + execute, then the reply or the error reply, as the session does. */
async function serve(r: NbdRequest, ctx: TransmissionContext): Promise<Buffer> {
  const sink = new ByteSink();
  const batch = new ReplyBatch(sink);
  try {
    validateRequest(r, ctx);
    writeReply(batch, r, ctx, await executeRequest(r, ctx));
  } catch (err) {
    batch.write(errorReply(r, ctx, err));
  }
  batch.flush();
  return sink.bytes();
}

const errnoOf = (r: NbdRequest, ctx: TransmissionContext): number | undefined => {
  try {
    validateRequest(r, ctx);
    return undefined;
  } catch (err) {
    return (err as { errno: number }).errno;
  }
};

describe('validateRequest: every request checked once, before the bdev', () => {
  const mem = () => new MemoryBdev({ name: 'm', blockSize: 4096, blockCount: 16384 }); // 64 MiB
  const size = 64 * MiB;
  it.each([
    ['unknown command', E.EINVAL, req(9, 0, 4096)],
    ['unknown flag', E.EINVAL, req(CMD.READ, 0, 4096, 0x20)],
    ['NO_HOLE on a write', E.EINVAL, req(CMD.WRITE, 0, 4096, FLAG.NO_HOLE)],
    ['FAST_ZERO on a trim', E.EINVAL, req(CMD.TRIM, 0, 4096, FLAG.FAST_ZERO)],
    ['REQ_ONE on a read', E.EINVAL, req(CMD.READ, 0, 4096, FLAG.REQ_ONE)],
    ['DF on a write', E.EINVAL, req(CMD.WRITE, 0, 4096, FLAG.DF)],
    ['zero-length read', E.EINVAL, req(CMD.READ, 0, 0)],
    ['zero-length trim', E.EINVAL, req(CMD.TRIM, 4096, 0)],
    ['read past the end', E.EINVAL, req(CMD.READ, size - 4096, 8192)],
    ['write past the end', E.ENOSPC, req(CMD.WRITE, size, 4096)],
    ['write zeroes past the end', E.ENOSPC, req(CMD.WRITE_ZEROES, size - 4096, 8192)],
    ['block status past the end', E.EINVAL, req(CMD.BLOCK_STATUS, size, 4096)],
    ['offset past 2^53', E.EINVAL, req(CMD.READ, 2 ** 60, 4096)],
    ['unaligned offset', E.EINVAL, req(CMD.READ, 512, 4096)],
    ['unaligned length', E.EINVAL, req(CMD.WRITE, 0, 4097)],
    ['unaligned trim', E.EINVAL, req(CMD.TRIM, 0, 1000)],
    ['read over 32 MiB', E.EINVAL, req(CMD.READ, 0, 32 * MiB + 4096)],
    ['cache over 32 MiB', E.EINVAL, req(CMD.CACHE, 0, 33 * MiB)],
    ['write zeroes over 32 MiB', E.EINVAL, req(CMD.WRITE_ZEROES, 0, 33 * MiB)],
    ['flush with an offset', E.EINVAL, req(CMD.FLUSH, 4096, 0)],
  ])('%s → errno %i', (_name, errno, r) => {
    expect(errnoOf(r, context(mem()))).toBe(errno);
  });

  it.each([
    ['read of exactly 32 MiB', req(CMD.READ, 0, 32 * MiB)],
    ['fast zero of the whole export', req(CMD.WRITE_ZEROES, 0, size, FLAG.FAST_ZERO)],
    ['trim of the whole export', req(CMD.TRIM, 0, size)],
    ['FUA on any command', req(CMD.READ, 0, 4096, FLAG.FUA)],
    ['block status with an unaligned length (a hint)', req(CMD.BLOCK_STATUS, 4096, 100)],
    ['flush', req(CMD.FLUSH, 0, 0)],
  ])('%s is accepted', (_name, r) => {
    expect(errnoOf(r, context(mem()))).toBeUndefined();
  });

  it('DF and BLOCK_STATUS need structured replies and a negotiated context', () => {
    const plain = context(mem(), {}, false);
    expect(errnoOf(req(CMD.READ, 0, 4096, FLAG.DF), plain)).toBe(E.EINVAL);
    expect(errnoOf(req(CMD.BLOCK_STATUS, 0, 4096), plain)).toBe(E.EINVAL);
    const noContext = { ...context(mem()), baseAllocation: false };
    expect(errnoOf(req(CMD.BLOCK_STATUS, 0, 4096), noContext)).toBe(E.EINVAL);
  });

  it('a read-only export refuses WRITE, TRIM and WRITE_ZEROES with EPERM, serves READ', () => {
    const ro = context(mem(), { readOnly: true });
    for (const t of [CMD.WRITE, CMD.TRIM, CMD.WRITE_ZEROES])
      expect(errnoOf(req(t, 0, 4096), ro)).toBe(E.EPERM);
    expect(errnoOf(req(CMD.READ, 0, 4096), ro)).toBeUndefined();
  });

  it('a 512-byte export accepts 512-byte alignment', () => {
    const ctx = context(new MemoryBdev({ name: 's', blockSize: 512, blockCount: 64 }));
    expect(errnoOf(req(CMD.WRITE, 512, 1024), ctx)).toBeUndefined();
    expect(errnoOf(req(CMD.WRITE, 256, 512), ctx)).toBe(E.EINVAL);
  });
});

describe('executeRequest and its replies', () => {
  const setup = () => {
    const bdev = new MemoryBdev({ name: 'm', blockSize: 512, blockCount: 2048 }); // 1 MiB
    return { bdev, ctx: context(bdev, { fastZero: true }) };
  };
  const pattern = (n: number, seed: number) =>
    Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));

  it('READ with structured replies: one OFFSET_DATA chunk marked DONE', async () => {
    const { bdev, ctx } = setup();
    const data = pattern(1024, 3);
    await bdev.write(2, data);
    const reply = await serve(req(CMD.READ, 1024, 1024), ctx);
    expect(reply.toString('hex')).toBe(
      chunk(1, 1, HANDLE, bytes().u64(1024).raw(data).build()).toString('hex'),
    );
  });

  it('READ with simple replies: the simple header, then the data', async () => {
    const bdev = new MemoryBdev({ name: 'm', blockSize: 512, blockCount: 8 });
    const data = pattern(512, 9);
    await bdev.write(1, data);
    const reply = await serve(req(CMD.READ, 512, 512), context(bdev, {}, false));
    expect(reply.toString('hex')).toBe(simpleReply(HANDLE, 0, data).toString('hex'));
  });

  it('WRITE, FLUSH, TRIM, CACHE succeed with a simple reply of error 0', async () => {
    const { bdev, ctx } = setup();
    const ok = simpleReply(HANDLE, 0).toString('hex');
    expect(
      (await serve(req(CMD.WRITE, 0, 512, FLAG.FUA, pattern(512, 1)), ctx)).toString('hex'),
    ).toBe(ok);
    expect((await bdev.read(0, 1)).equals(pattern(512, 1))).toBe(true);
    expect((await serve(req(CMD.FLUSH, 0, 0), ctx)).toString('hex')).toBe(ok);
    expect((await serve(req(CMD.CACHE, 0, 4096), ctx)).toString('hex')).toBe(ok);
    expect((await serve(req(CMD.TRIM, 0, 512, FLAG.FUA), ctx)).toString('hex')).toBe(ok);
    expect((await bdev.read(0, 1)).equals(Buffer.alloc(512))).toBe(true);
  });

  it('BLOCK_STATUS: base:allocation descriptors, holes as HOLE|ZERO, data as 0', async () => {
    const { bdev, ctx } = setup();
    await bdev.write(4, pattern(1024, 5)); // bytes 2048..3071
    const reply = await serve(req(CMD.BLOCK_STATUS, 0, 1 << 20), ctx);
    const want = chunk(
      1,
      5,
      HANDLE,
      bytes()
        .u32(1)
        .u32(2048)
        .u32(3)
        .u32(1024)
        .u32(0)
        .u32((1 << 20) - 3072)
        .u32(3)
        .build(),
    );
    expect(reply.toString('hex')).toBe(want.toString('hex'));
  });

  it('BLOCK_STATUS with REQ_ONE: exactly one descriptor, no longer than the request', async () => {
    const { ctx } = setup();
    const reply = await serve(req(CMD.BLOCK_STATUS, 0, 4096, FLAG.REQ_ONE), ctx);
    expect(reply.toString('hex')).toBe(
      chunk(1, 5, HANDLE, bytes().u32(1).u32(4096).u32(3).build()).toString('hex'),
    );
  });

  it('BLOCK_STATUS rounds a hinted length up to whole blocks', async () => {
    const { ctx } = setup();
    const reply = await serve(req(CMD.BLOCK_STATUS, 512, 100), ctx);
    expect(reply.toString('hex')).toBe(
      chunk(1, 5, HANDLE, bytes().u32(1).u32(512).u32(3).build()).toString('hex'),
    );
  });

  it('BLOCK_STATUS on a bdev without blockStatus (FileBdev) reports all data', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nbd-bs-'));
    const file = await FileBdev.open({
      name: 'f',
      path: join(dir, 'f.img'),
      blockSize: 512,
      size: 65536,
    });
    try {
      const ctx = context(file); // FileBdev has no blockStatus
      const reply = await serve(req(CMD.BLOCK_STATUS, 0, 65536), ctx);
      expect(reply.toString('hex')).toBe(
        chunk(1, 5, HANDLE, bytes().u32(1).u32(65536).u32(0).build()).toString('hex'),
      );
    } finally {
      await file.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('WRITE_ZEROES makes a hole; with NO_HOLE it writes zeroes that stay allocated', async () => {
    const { bdev, ctx } = setup();
    await bdev.write(0, pattern(4096, 2));
    await serve(req(CMD.WRITE_ZEROES, 0, 2048), ctx);
    await serve(req(CMD.WRITE_ZEROES, 2048, 2048, FLAG.NO_HOLE | FLAG.FUA), ctx);
    expect((await bdev.read(0, 8)).equals(Buffer.alloc(4096))).toBe(true);
    expect(await bdev.blockStatus(0, 8)).toEqual([
      { blocks: 4, state: 'hole' },
      { blocks: 4, state: 'data' },
    ]);
  });

  it('FAST_ZERO fails fast with ENOTSUP, changing nothing, unless zeroing is fast', async () => {
    const bdev = new MemoryBdev({ name: 'm', blockSize: 512, blockCount: 8 });
    await bdev.write(0, pattern(512, 4));
    const slow = context(bdev); // fastZero not declared
    const refused = await serve(req(CMD.WRITE_ZEROES, 0, 512, FLAG.FAST_ZERO), slow);
    expect(refused.readUInt16BE(6)).toBe(0x8001); // NBD_REPLY_TYPE_ERROR
    expect(refused.readUInt32BE(20)).toBe(E.ENOTSUP);
    expect((await bdev.read(0, 1)).equals(pattern(512, 4))).toBe(true);
    const fast = context(bdev, { fastZero: true });
    expect(
      (
        await serve(req(CMD.WRITE_ZEROES, 0, 512, FLAG.FAST_ZERO | FLAG.NO_HOLE), fast)
      ).readUInt32BE(20),
    ).toBe(E.ENOTSUP);
    expect((await serve(req(CMD.WRITE_ZEROES, 0, 512, FLAG.FAST_ZERO), fast)).toString('hex')).toBe(
      simpleReply(HANDLE, 0).toString('hex'),
    );
    expect((await bdev.read(0, 1)).equals(Buffer.alloc(512))).toBe(true);
  });
});

describe('errors on the wire', () => {
  it('a refused request with structured replies is an ERROR chunk with a message', async () => {
    const ctx = context(new MemoryBdev({ name: 'm', blockSize: 4096, blockCount: 4 }));
    const reply = await serve(req(CMD.READ, 512, 4096), ctx);
    const msg = 'READ offset=512 length=4096: not aligned to the minimum block size 4096';
    expect(reply.toString('hex')).toBe(
      chunk(1, 0x8001, HANDLE, bytes().u32(E.EINVAL).u16(msg.length).ascii(msg).build()).toString(
        'hex',
      ),
    );
  });

  it('without structured replies it is a simple reply carrying the errno and no data', async () => {
    const ctx = context(new MemoryBdev({ name: 'm', blockSize: 4096, blockCount: 4 }), {}, false);
    expect((await serve(req(CMD.READ, 0, 8 * 4096), ctx)).toString('hex')).toBe(
      simpleReply(HANDLE, E.EINVAL).toString('hex'),
    );
  });

  it.each([
    [
      'a media error',
      E.EIO,
      new NvmeStatusError(StatusCodeType.MediaAndDataIntegrity, MediaStatus.UnrecoveredReadError),
    ],
    [
      'capacity exceeded',
      E.ENOSPC,
      new NvmeStatusError(StatusCodeType.Generic, GenericStatus.CapacityExceeded),
    ],
    [
      'a write-protected namespace',
      E.EPERM,
      new NvmeStatusError(StatusCodeType.Generic, GenericStatus.NamespaceWriteProtected),
    ],
    ['a file system ENOSPC', E.ENOSPC, Object.assign(new Error('disk full'), { code: 'ENOSPC' })],
    ['a plain Error', E.EIO, new Error('boom')],
  ])('a bdev failing with %s fails that request only, with errno %i', async (_n, errno, error) => {
    const bdev = new FaultyBdev(512, 64);
    const ctx = context(bdev, {}, false);
    bdev.fault = { lba: 8, blocks: 1, error };
    expect(
      (await serve(req(CMD.WRITE, 8 * 512, 512, 0, Buffer.alloc(512, 1)), ctx)).toString('hex'),
    ).toBe(simpleReply(HANDLE, errno).toString('hex'));
    // The neighbouring block is served as usual.
    expect(
      (await serve(req(CMD.WRITE, 9 * 512, 512, 0, Buffer.alloc(512, 1)), ctx)).toString('hex'),
    ).toBe(simpleReply(HANDLE, 0).toString('hex'));
  });
});

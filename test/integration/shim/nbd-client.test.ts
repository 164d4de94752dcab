/**
 * NbdClient, the NBD client that is a bdev, against real servers: nbdkit (memory, pattern, full,
 * with the error and blocksize-policy filters) and this project's NbdServer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  GenericStatus,
  MediaStatus,
  MemoryBdev,
  NvmeStatusError,
  StatusCodeType,
} from '../../../src/bdev/index.js';
import { NbdClient, NbdServer } from '../../../src/shim/nbd/index.js';
import { expectTools, toolsAvailable } from './nbd-tools.js';
import {
  bytes,
  IHAVEOPT,
  NBDMAGIC,
  optionReply,
  simpleReply,
} from '../../unit/shim/nbd/nbd-bytes.js';

const MiB = 1024 * 1024;
let dir: string;
let serial = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nbd-client-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Pattern data: every 8-byte word holds its own byte offset (nbdkit-pattern-plugin's layout). */
function offsetPattern(offset: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i += 8) b.writeBigUInt64BE(BigInt(offset + i), i);
  return b;
}

const statusOf = (err: unknown) => {
  expect(err).toBeInstanceOf(NvmeStatusError);
  const e = err as NvmeStatusError;
  return { sct: e.sct, sc: e.sc, dnr: e.dnr };
};

interface Nbdkit {
  uri: string;
  stop(): Promise<void>;
}

/** nbdkit in the foreground on a unix socket; ready once it writes its pidfile. */
async function nbdkit(...args: string[]): Promise<Nbdkit> {
  const n = ++serial;
  const sock = join(dir, `kit${n}.sock`);
  const pidfile = join(dir, `kit${n}.pid`);
  const child: ChildProcess = spawn('nbdkit', ['-f', '-U', sock, '-P', pidfile, ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 200 && !existsSync(pidfile); i++) await new Promise((r) => setTimeout(r, 25));
  expect(existsSync(pidfile), `nbdkit ${args.join(' ')} did not start`).toBe(true);
  return {
    uri: `nbd+unix:///?socket=${sock}`,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

describe.runIf(toolsAvailable('nbdkit'))('NbdClient against nbdkit', () => {
  const running: Nbdkit[] = [];
  const start = async (...args: string[]) => {
    const k = await nbdkit(...args);
    running.push(k);
    return k;
  };
  afterEach(async () => {
    await Promise.all(running.splice(0).map((k) => k.stop()));
  });

  it('has nbdkit installed', () => expectTools('nbdkit'));

  it('negotiates structured replies and base:allocation with nbdkit memory', async () => {
    const kit = await start('memory', '64M');
    const c = await NbdClient.connect(kit.uri);
    expect(c.negotiated).toMatchObject({ size: 64 * MiB, structuredReplies: true });
    expect(c.negotiated.baseAllocationId).toBeTypeOf('number');
    expect(c.blockSize).toBe(512); // nbdkit memory advertises no minimum above 1
    expect(c.blockCount).toBe((64 * MiB) / 512);
    await c.close();
  });

  it('pipelines concurrent writes and reads, and splits a read beyond 32 MiB', async () => {
    const kit = await start('memory', '64M');
    const c = await NbdClient.connect(kit.uri);
    const blocks = 8; // 4 KiB
    await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        c.write(i * 977, offsetPattern(i * 977 * 512, blocks * 512)),
      ),
    );
    const back = await Promise.all(Array.from({ length: 64 }, (_, i) => c.read(i * 977, blocks)));
    back.forEach((b, i) =>
      expect(b.equals(offsetPattern(i * 977 * 512, blocks * 512)), `write ${i}`).toBe(true),
    );
    await c.write((33 * MiB) / 512, Buffer.alloc(4096, 0xee), { fua: true });
    const big = await c.read(0, (40 * MiB) / 512);
    expect(big.length).toBe(40 * MiB);
    expect(big.subarray(977 * 512, 977 * 512 + 4096).equals(offsetPattern(977 * 512, 4096))).toBe(
      true,
    );
    expect(big.subarray(33 * MiB, 33 * MiB + 4096).equals(Buffer.alloc(4096, 0xee))).toBe(true);
    expect(c.stats.snapshot()).toMatchObject({ writeOps: 65, readOps: 65, errors: 0 });
    await c.close();
  });

  it('reports block status from base:allocation, and zeroes read back as zero', async () => {
    const kit = await start('memory', '16M');
    const c = await NbdClient.connect(kit.uri);
    const mb = MiB / 512;
    await c.write(mb, Buffer.alloc(256 * 1024, 0x42)); // 1 MiB .. 1.25 MiB
    await c.deallocate([{ lba: mb + 256, blocks: 128 }]); // last 64 KiB of it
    await c.writeZeroes(mb, 8);
    await c.flush();
    expect((await c.read(mb, 16)).subarray(0, 4096).equals(Buffer.alloc(4096))).toBe(true);
    const extents = await c.blockStatus(0, 4 * mb);
    const total = extents.reduce((n, e) => n + e.blocks, 0);
    expect(total).toBe(4 * mb);
    expect(extents[0]).toEqual({ blocks: mb, state: 'hole' });
    // The written area is allocated except its deallocated tail (nbdkit tracks 32 KiB pages).
    const lbaState = (lba: number) => {
      let at = 0;
      for (const e of extents) if (lba < (at += e.blocks)) return e.state;
      return undefined;
    };
    expect(lbaState(mb + 64)).toBe('data');
    expect(lbaState(mb + 300)).toBe('hole');
    expect(lbaState(3 * mb)).toBe('hole');
    await c.close();
  });

  it('reads nbdkit pattern data: each 8-byte word is its offset', async () => {
    const kit = await start('pattern', '1G');
    const c = await NbdClient.connect(kit.uri);
    const lba = 123456789 % c.blockCount;
    expect((await c.read(lba, 64)).equals(offsetPattern(lba * 512, 64 * 512))).toBe(true);
    // pattern is read-only: the server's EPERM becomes Namespace Write Protected.
    const err = await c.write(0, Buffer.alloc(512)).catch((e) => e);
    expect(statusOf(err)).toEqual({
      sct: StatusCodeType.Generic,
      sc: GenericStatus.NamespaceWriteProtected,
      dnr: true,
    });
    await c.close();
  });

  it('takes the block size from NBD_INFO_BLOCK_SIZE', async () => {
    const kit = await start(
      '--filter=blocksize-policy',
      'memory',
      '8M',
      'blocksize-minimum=4096',
      'blocksize-preferred=65536',
      'blocksize-maximum=1M',
    );
    const c = await NbdClient.connect(kit.uri);
    expect(c.negotiated.constraints).toEqual({ minimum: 4096, preferred: 65536, maximum: MiB });
    expect(c.blockSize).toBe(4096);
    expect(c.maxRequestBytes).toBe(MiB);
    const data = offsetPattern(0, 3 * MiB);
    await c.write(0, data); // three requests of the 1 MiB maximum
    expect((await c.read(0, (3 * MiB) / 4096)).equals(data)).toBe(true);
    await c.close();
  });

  it('maps nbdkit errors: EIO on reads, ENOSPC on writes, each failing only its request', async () => {
    const eio = await start('--filter=error', 'memory', '1M', 'error=EIO', 'error-pread-rate=100%');
    const c = await NbdClient.connect(eio.uri);
    await c.write(0, Buffer.alloc(512, 1));
    expect(statusOf(await c.read(0, 1).catch((e) => e))).toEqual({
      sct: StatusCodeType.MediaAndDataIntegrity,
      sc: MediaStatus.UnrecoveredReadError,
      dnr: true,
    });
    await c.write(1, Buffer.alloc(512, 2)); // the connection lives on
    expect(c.stats.errors).toBe(1);
    await c.close();

    const full = await start('full', '1M');
    const f = await NbdClient.connect(full.uri);
    expect(statusOf(await f.write(0, Buffer.alloc(512)).catch((e) => e))).toEqual({
      sct: StatusCodeType.Generic,
      sc: GenericStatus.CapacityExceeded,
      dnr: true,
    });
    expect((await f.read(0, 1)).equals(Buffer.alloc(512))).toBe(true);
    await f.close();
  });
});

describe('NbdClient against NbdServer', () => {
  let server: NbdServer;
  let port: number;
  let mem: MemoryBdev;
  const uri = (name: string) => `nbd://127.0.0.1:${port}/${name}`;

  beforeAll(async () => {
    mem = new MemoryBdev({ name: 'mem', blockSize: 4096, blockCount: 4096 }); // 16 MiB
    server = new NbdServer({
      exports: [
        { name: 'vol0', bdev: mem, description: 'd' },
        { name: 'small', bdev: new MemoryBdev({ name: 's', blockSize: 512, blockCount: 64 }) },
        {
          name: 'ro',
          bdev: new MemoryBdev({ name: 'r', blockSize: 512, blockCount: 64 }),
          readOnly: true,
        },
      ],
    });
    port = ((await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number }).port;
  });
  afterAll(async () => {
    await server.close();
  });

  it('negotiates the export: 4 KiB blocks, name, description, base:allocation', async () => {
    const c = await NbdClient.connect(uri('vol0'), { name: 'remote-vol0' });
    expect(c).toMatchObject({
      name: 'remote-vol0',
      blockSize: 4096,
      blockCount: 4096,
      maxRequestBytes: 32 * MiB,
    });
    expect(c.negotiated).toMatchObject({
      name: 'vol0',
      description: 'd',
      structuredReplies: true,
      baseAllocationId: 1,
    });
    await c.close();
  });

  it('moves data both ways with 256 requests in flight', async () => {
    const c = await NbdClient.connect(uri('vol0'));
    await Promise.all(
      Array.from({ length: 256 }, (_, i) => c.write(i * 16, offsetPattern(i * 65536, 4096))),
    );
    const back = await Promise.all(Array.from({ length: 256 }, (_, i) => c.read(i * 16, 1)));
    back.forEach((b, i) => expect(b.equals(offsetPattern(i * 65536, 4096))).toBe(true));
    expect((await mem.read(16 * 100, 1)).equals(offsetPattern(100 * 65536, 4096))).toBe(true);
    await c.close();
  });

  it('sees the same block status as the bdev it reaches', async () => {
    const c = await NbdClient.connect(uri('vol0'));
    await c.deallocate([{ lba: 0, blocks: 4096 }]);
    await c.write(10, Buffer.alloc(3 * 4096, 9));
    await c.writeZeroes(11, 1);
    expect(await c.blockStatus(0, 4096)).toEqual(await mem.blockStatus(0, 4096));
    expect(await c.blockStatus(0, 4096)).toEqual([
      { blocks: 10, state: 'hole' },
      { blocks: 1, state: 'data' },
      { blocks: 1, state: 'hole' },
      { blocks: 1, state: 'data' },
      { blocks: 4083, state: 'hole' },
    ]);
    await c.close();
  });

  it('checks ranges before the wire, and maps the server refusing a write to a read-only export', async () => {
    const c = await NbdClient.connect(uri('ro'));
    await expect(c.read(64, 1)).rejects.toThrow(/beyond 64 blocks/);
    const err = await c.write(0, Buffer.alloc(512)).catch((e) => e);
    expect(statusOf(err)).toEqual({
      sct: StatusCodeType.Generic,
      sc: GenericStatus.NamespaceWriteProtected,
      dnr: true,
    });
    expect((err as Error).message).toMatch(/export is read-only/);
    await c.close();
  });

  it('fails with one sentence for an unknown export, and for nothing listening', async () => {
    await expect(NbdClient.connect(uri('nope'))).rejects.toThrow(
      /NBD_OPT_GO failed with NBD_REP_ERR_UNKNOWN: no export named "nope"/,
    );
    await expect(NbdClient.connect('nbd://127.0.0.1:1/x')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('works over a unix socket', async () => {
    const path = join(dir, 'srv.sock');
    const unix = new NbdServer({
      exports: [
        { name: 'small', bdev: new MemoryBdev({ name: 'u', blockSize: 512, blockCount: 8 }) },
      ],
    });
    await unix.listen({ path });
    const c = await NbdClient.connect(`nbd+unix:///small?socket=${path}`);
    await c.write(7, Buffer.alloc(512, 7));
    expect((await c.read(7, 1)).equals(Buffer.alloc(512, 7))).toBe(true);
    await c.close();
    await unix.close();
  });

  it('fails requests as a lost connection once the server is gone', async () => {
    const own = new NbdServer({
      exports: [{ name: 'x', bdev: new MemoryBdev({ name: 'x', blockSize: 512, blockCount: 8 }) }],
    });
    const p = ((await own.listen({ host: '127.0.0.1', port: 0 })) as { port: number }).port;
    const c = await NbdClient.connect(`nbd://127.0.0.1:${p}/x`);
    await own.close();
    const err = await c.read(0, 1).catch((e) => e);
    expect(statusOf(err)).toEqual({
      sct: StatusCodeType.Generic,
      sc: GenericStatus.TransientTransportError,
      dnr: false,
    });
    await c.close(); // a no-op now
  });
});

/**
 * An old server, scripted in bytes: fixed newstyle but no NBD_OPT_STRUCTURED_REPLY and no
 * NBD_OPT_GO (both NBD_REP_ERR_UNSUP), so the client must fall back to NBD_OPT_EXPORT_NAME and
 * read simple replies, whose READ data length only the client knows.
 */
async function oldServer(
  size: number,
): Promise<{ port: number; options: number[]; close(): Promise<void> }> {
  const options: number[] = [];
  const srv = net.createServer((sock) => {
    sock.write(bytes().u64hex(NBDMAGIC).u64hex(IHAVEOPT).u16(3).build());
    let buf = Buffer.alloc(0);
    let phase: 'flags' | 'options' | 'requests' = 'flags';
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (true) {
        if (phase === 'flags') {
          if (buf.length < 4) return;
          buf = buf.subarray(4);
          phase = 'options';
        } else if (phase === 'options') {
          if (buf.length < 16 || buf.length < 16 + buf.readUInt32BE(12)) return;
          const code = buf.readUInt32BE(8);
          const name = buf.subarray(16, 16 + buf.readUInt32BE(12));
          buf = buf.subarray(16 + name.length);
          options.push(code);
          if (code === 1) {
            sock.write(
              bytes()
                .u64(size)
                .u16(0x0001 | 0x0004)
                .build(),
            ); // HAS_FLAGS, SEND_FLUSH
            phase = 'requests';
          } else sock.write(optionReply(code, 0x80000001));
        } else {
          if (buf.length < 28) return;
          const type = buf.readUInt16BE(6);
          const handle = buf.subarray(8, 16).toString('hex');
          const offset = Number(buf.readBigUInt64BE(16));
          const length = buf.readUInt32BE(24);
          const payload = type === 1 ? length : 0;
          if (buf.length < 28 + payload) return;
          buf = buf.subarray(28 + payload);
          if (type === 2) return void sock.end();
          sock.write(
            simpleReply(handle, 0, type === 0 ? offsetPattern(offset, length) : undefined),
          );
        }
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    options,
    close: () => new Promise<void>((r) => srv.close(() => r())),
  };
}

describe('NbdClient against an old server', () => {
  it('falls back to NBD_OPT_EXPORT_NAME and reads simple replies', async () => {
    const old = await oldServer(MiB);
    const c = await NbdClient.connect(`nbd://127.0.0.1:${old.port}/disk`);
    expect(old.options).toEqual([8, 7, 1]); // STRUCTURED_REPLY, GO, EXPORT_NAME
    expect(c.negotiated).toMatchObject({
      size: MiB,
      structuredReplies: false,
      constraints: undefined,
    });
    expect(c.blockSize).toBe(512);
    const reads = await Promise.all([c.read(3, 2), c.read(100, 8), c.read(7, 1)]);
    expect(reads[0].equals(offsetPattern(3 * 512, 1024))).toBe(true);
    expect(reads[1].equals(offsetPattern(100 * 512, 4096))).toBe(true);
    expect(reads[2].equals(offsetPattern(7 * 512, 512))).toBe(true);
    // No WRITE_ZEROES advertised: zeroes are written as data.
    await c.writeZeroes(0, 4);
    expect(await c.blockStatus(0, 16)).toEqual([{ blocks: 16, state: 'data' }]);
    await c.close();
    await old.close();
  });
});

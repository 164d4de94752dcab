/**
 * The NBD server in-process on MemoryBdevs, driven by the real clients of
 * ../shared/REAL-CLIENTS.md: libnbd's nbdinfo and nbdcopy, qemu-img, qemu-io and fio's nbd
 * engine. Each must see the export, its constraints and flags, and its data exactly.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBdev } from '../../../src/bdev/index.js';
import { NbdServer } from '../../../src/shim/nbd/index.js';
import { expectTools, run, runOk, toolsAvailable } from './nbd-tools.js';

const TOOLS = ['nbdinfo', 'nbdcopy', 'qemu-img', 'qemu-io', 'fio'];
const MiB = 1024 * 1024;

/** `nbdinfo --map` lines: offset, length, type, description. */
function parseMap(out: string) {
  return out
    .trim()
    .split('\n')
    .map((line) => {
      const [offset, length, type, ...desc] = line.trim().split(/\s+/);
      return {
        offset: Number(offset),
        length: Number(length),
        type: Number(type),
        desc: desc.join(' '),
      };
    });
}

describe.runIf(toolsAvailable(...TOOLS))('NBD server with real clients', () => {
  let server: NbdServer;
  let port: number;
  let dir: string;
  let sock: string;
  const mem = new MemoryBdev({ name: 'vol0', blockSize: 512, blockCount: (64 * MiB) / 512 });
  const copy = new MemoryBdev({ name: 'copy', blockSize: 4096, blockCount: (32 * MiB) / 4096 });
  const fio = new MemoryBdev({ name: 'fio', blockSize: 4096, blockCount: (64 * MiB) / 4096 });
  const uri = (name: string) => `nbd://127.0.0.1:${port}/${name}`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nbd-tools-'));
    sock = join(dir, 'nbd.sock');
    server = new NbdServer({
      exports: [
        { name: 'vol0', bdev: mem, description: 'sparse test volume', fastZero: true },
        { name: 'copy', bdev: copy },
        { name: 'fio', bdev: fio },
        {
          name: 'ro',
          bdev: new MemoryBdev({ name: 'ro', blockSize: 4096, blockCount: 256 }),
          readOnly: true,
        },
      ],
    });
    port = ((await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number }).port;
  });

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('has the tools installed', () => expectTools(...TOOLS));

  it('nbdinfo --json shows size, block sizes, flags and base:allocation', async () => {
    const info = JSON.parse(await runOk('nbdinfo', ['--json', uri('vol0')]));
    expect(info).toMatchObject({ protocol: 'newstyle-fixed', TLS: false, structured: true });
    expect(info.exports).toHaveLength(1);
    expect(info.exports[0]).toMatchObject({
      'export-name': 'vol0',
      description: 'sparse test volume',
      'export-size': 64 * MiB,
      block_size_minimum: 512,
      block_size_preferred: 4096,
      block_size_maximum: 32 * MiB,
      contexts: ['base:allocation'],
      is_read_only: false,
      is_rotational: false,
      can_cache: true,
      can_df: true,
      can_fast_zero: true,
      can_flush: true,
      can_fua: true,
      can_multi_conn: true,
      can_trim: true,
      can_zero: true,
    });
  });

  it('nbdinfo reports a read-only 4K export as such', async () => {
    const info = JSON.parse(await runOk('nbdinfo', ['--json', uri('ro')]));
    expect(info.exports[0]).toMatchObject({
      'export-size': 1 * MiB,
      block_size_minimum: 4096,
      is_read_only: true,
      can_trim: false,
      can_zero: false,
    });
  });

  it('nbdinfo --list lists every export with its description', async () => {
    const info = JSON.parse(
      await runOk('nbdinfo', ['--list', '--json', `nbd://127.0.0.1:${port}`]),
    );
    const names = info.exports.map((e: { 'export-name': string }) => e['export-name']);
    expect(names).toEqual(['vol0', 'copy', 'fio', 'ro']);
    expect(info.exports[0].description).toBe('sparse test volume');
  });

  it('nbdinfo works over the unix socket', async () => {
    const unix = new NbdServer({ exports: [{ name: 'vol0', bdev: mem }] });
    await unix.listen({ path: sock });
    try {
      const size = await runOk('nbdinfo', ['--size', `nbd+unix:///vol0?socket=${sock}`]);
      expect(size.trim()).toBe(String(64 * MiB));
    } finally {
      await unix.close();
    }
  });

  it('qemu-io writes and reads back a pattern; a wrong pattern fails', async () => {
    await runOk('qemu-io', [
      '-f',
      'raw',
      '-c',
      'write -P 0xab 8M 1M',
      '-c',
      'read -P 0xab 8M 1M',
      uri('vol0'),
    ]);
    const wrong = await run('qemu-io', ['-f', 'raw', '-c', 'read -P 0xcd 8M 1M', uri('vol0')]);
    expect(wrong.stdout + wrong.stderr).toMatch(/Pattern verification failed/);
    // Unaligned I/O: qemu reads, modifies and writes whole 512-byte blocks itself.
    await runOk('qemu-io', [
      '-f',
      'raw',
      '-c',
      'write -P 0x11 9437284 300',
      '-c',
      'read -P 0x11 9437284 300',
      '-c',
      'read -P 0 9437184 100',
      uri('vol0'),
    ]);
    expect((await mem.read((8 * MiB) / 512, 1)).equals(Buffer.alloc(512, 0xab))).toBe(true);
  });

  it('nbdinfo --map agrees with what was written, trimmed and zeroed', async () => {
    // 16M..18M written; 16.5M..16.75M trimmed; 20M..20M+64K zeroed allocated (NO_HOLE);
    // 21M..21M+64K written then zeroed with unmap allowed (a hole again).
    await runOk('qemu-io', [
      '-f',
      'raw',
      '-c',
      'write -P 0x5a 16M 2M',
      '-c',
      'discard 16896K 256K',
      '-c',
      'write -z 20M 64K',
      '-c',
      'write -P 0x77 21M 64K',
      '-c',
      'write -z -u 21M 64K',
      uri('vol0'),
    ]);
    const map = parseMap(await runOk('nbdinfo', ['--map', uri('vol0')]));
    const at = (offset: number) =>
      map.find((e) => e.offset <= offset && offset < e.offset + e.length);
    expect(at(16 * MiB)).toMatchObject({
      offset: 16 * MiB,
      length: 512 * 1024,
      type: 0,
      desc: 'data',
    });
    expect(at(16896 * 1024)).toMatchObject({ length: 256 * 1024, type: 3, desc: 'hole,zero' });
    expect(at(17152 * 1024)).toMatchObject({ offset: 17152 * 1024, length: 1280 * 1024, type: 0 });
    expect(at(18 * MiB)).toMatchObject({ type: 3 });
    expect(at(20 * MiB)).toMatchObject({ offset: 20 * MiB, length: 64 * 1024, type: 0 });
    expect(at(21 * MiB)).toMatchObject({ type: 3 });
    // Extents cover the export, in order, without gaps.
    let next = 0;
    for (const e of map) {
      expect(e.offset).toBe(next);
      next += e.length;
    }
    expect(next).toBe(64 * MiB);
    // And the data agrees: zeroes where zeroed or trimmed.
    const readBack = await mem.read((16 * MiB) / 512, (2 * MiB) / 512);
    expect(readBack.subarray(0, 512 * 1024).equals(Buffer.alloc(512 * 1024, 0x5a))).toBe(true);
    expect(readBack.subarray(512 * 1024, 768 * 1024).equals(Buffer.alloc(256 * 1024))).toBe(true);
    expect((await mem.read((20 * MiB) / 512, 128)).equals(Buffer.alloc(64 * 1024))).toBe(true);
  });

  it('nbdcopy copies 32 MiB of random data in and out byte-identical; qemu-img compare agrees', async () => {
    const src = join(dir, 'random.bin');
    const out = join(dir, 'out.bin');
    const data = randomBytes(32 * MiB);
    await writeFile(src, data);
    await runOk('nbdcopy', ['--flush', src, uri('copy')], 120_000);
    await runOk('nbdcopy', [uri('copy'), out], 120_000);
    expect((await readFile(out)).equals(data)).toBe(true);
    expect(
      await runOk('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', src, uri('copy')]),
    ).toMatch(/Images are identical/);
    // One flipped byte is seen by the comparison.
    await copy.write(4096, Buffer.alloc(4096, 0x00));
    const diff = await run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', src, uri('copy')]);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toMatch(/Content mismatch at offset 16384|Content mismatch/);
  });

  it('fio --ioengine=nbd randwrite + crc32c verify at QD32 finishes with zero errors', async () => {
    const jsonOut = join(dir, 'fio.json');
    await runOk(
      'fio',
      [
        '--name=verify',
        '--ioengine=nbd',
        `--uri=${uri('fio')}`,
        '--rw=randwrite',
        '--bs=4k',
        '--iodepth=32',
        '--size=16M',
        '--verify=crc32c',
        '--do_verify=1',
        '--output-format=json',
        `--output=${jsonOut}`,
      ],
      120_000,
    );
    const result = JSON.parse(await readFile(jsonOut, 'utf8'));
    const job = result.jobs[0];
    expect(job.error).toBe(0);
    expect(job.write.io_bytes).toBe(16 * MiB);
    expect(job.read.io_bytes).toBe(16 * MiB); // the verify pass
  });
});

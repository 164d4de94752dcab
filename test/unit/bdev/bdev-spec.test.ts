import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FileBdev,
  MemoryBdev,
  NullBdev,
  createBdevFromSpec,
  parseBdevSpec,
} from '../../../src/bdev/index.js';

describe('parseBdevSpec', () => {
  it.each([
    ['mem:64MiB', { kind: 'mem', size: 64 * 1024 * 1024, blockSize: 512 }],
    ['mem:64MiB:4096', { kind: 'mem', size: 64 * 1024 * 1024, blockSize: 4096 }],
    ['null:1GiB:512', { kind: 'null', size: 1024 ** 3, blockSize: 512 }],
    ['mem:4096', { kind: 'mem', size: 4096, blockSize: 512 }],
    ['file:/tmp/a.img:1G', { kind: 'file', path: '/tmp/a.img', size: 1024 ** 3, blockSize: 512 }],
    [
      'file:/tmp/a.img:1G:4096',
      { kind: 'file', path: '/tmp/a.img', size: 1024 ** 3, blockSize: 4096 },
    ],
    ['file:/tmp/a:b.img:8k', { kind: 'file', path: '/tmp/a:b.img', size: 8192, blockSize: 512 }],
    ['file:/tmp/x:4096', { kind: 'file', path: '/tmp/x', size: 4096, blockSize: 512 }],
    [
      'file:/tmp/a.img:1G:4096:io=sync',
      { kind: 'file', path: '/tmp/a.img', size: 1024 ** 3, blockSize: 4096, io: 'sync' },
    ],
    [
      'file:/tmp/a:b.img:8k:io=pool',
      { kind: 'file', path: '/tmp/a:b.img', size: 8192, blockSize: 512, io: 'pool' },
    ],
  ])('%s', (spec, want) => {
    expect(parseBdevSpec(spec)).toEqual(want);
  });

  it.each([
    ['disk:1G', /unknown kind "disk"/],
    ['mem', /has no size/],
    ['mem:lots', /size "lots" that is not a size/],
    ['mem:1G:1000', /block size 1000/],
    ['mem:1000', /not a positive multiple of the 512-byte block size/],
    ['mem:1G:4096:x', /size "4096:x"|too many fields|not a size/],
    ['file:1G', /has no path/],
    ['file:/tmp/a:1G:1000', /block size 1000/],
    ['file:/tmp/a:1G:io=fast', /I\/O mode "fast" that is not one of auto, sync, pool/],
    ['mem:1G:io=sync', /not a size|too many fields/],
  ])('refuses %s in one sentence', (spec, message) => {
    expect(() => parseBdevSpec(spec)).toThrow(RangeError);
    expect(() => parseBdevSpec(spec)).toThrow(message);
    expect(() => parseBdevSpec(spec)).toThrow(/expected mem:SIZE\[:BS\]/);
  });
});

describe('createBdevFromSpec', () => {
  it('builds each kind', async () => {
    const mem = await createBdevFromSpec('mem:1MiB:4096', 'a');
    expect(mem).toBeInstanceOf(MemoryBdev);
    expect([mem.name, mem.blockSize, mem.blockCount]).toEqual(['a', 4096, 256]);
    expect(await createBdevFromSpec('null:1MiB', 'b')).toBeInstanceOf(NullBdev);
    const dir = await mkdtemp(join(tmpdir(), 'spec-'));
    try {
      const f = await createBdevFromSpec(`file:${join(dir, 'x.img')}:64k`, 'c');
      expect(f).toBeInstanceOf(FileBdev);
      expect(f.blockCount).toBe(128);
      await f.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

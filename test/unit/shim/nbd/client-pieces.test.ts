import { describe, expect, it } from 'vitest';
import { bytesToBlockExtents } from '../../../../src/shim/nbd/block-extents.js';
import { parseNbdUri } from '../../../../src/shim/nbd/nbd-uri.js';
import { PendingRequest, type ReplyResult } from '../../../../src/shim/nbd/pending-request.js';
import { bytes } from './nbd-bytes.js';

const HOLE = 1;
const ZERO = 2;

describe('parseNbdUri (NBD doc/uri.md)', () => {
  it.each([
    [
      'nbd://127.0.0.1:10810/vol0',
      { kind: 'tcp', host: '127.0.0.1', port: 10810, exportName: 'vol0' },
    ],
    ['nbd://localhost', { kind: 'tcp', host: 'localhost', port: 10809, exportName: '' }],
    ['nbd://[::1]:99/a%20b', { kind: 'tcp', host: '::1', port: 99, exportName: 'a b' }],
    [
      'nbd+unix:///vol0?socket=/tmp/n.sock',
      { kind: 'unix', path: '/tmp/n.sock', exportName: 'vol0' },
    ],
    ['nbd+unix://?socket=/tmp/n.sock', { kind: 'unix', path: '/tmp/n.sock', exportName: '' }],
  ])('%s', (uri, want) => {
    expect(parseNbdUri(uri)).toEqual(want);
  });

  it.each([
    ['not a uri', /is not an NBD URI/],
    ['nbds://host/x', /expected nbd or nbd\+unix/],
    ['nbd+unix:///vol0', /has no socket/],
  ])('refuses %s with one clear sentence', (uri, msg) => {
    expect(() => parseNbdUri(uri)).toThrow(msg);
  });
});

/** Reference: byte by byte, each block the "worst" state of its bytes. */
function slowExtents(runs: { length: number; flags: number }[], bs: number) {
  const rank = (f: number) => (f & HOLE && f & ZERO ? 0 : f & ZERO ? 1 : 2);
  const perByte: number[] = [];
  for (const r of runs) for (let i = 0; i < r.length; i++) perByte.push(rank(r.flags));
  const out: { blocks: number; state: string }[] = [];
  for (let b = 0; b * bs < perByte.length; b++) {
    const state = ['hole', 'zero', 'data'][Math.max(...perByte.slice(b * bs, (b + 1) * bs))];
    const last = out[out.length - 1];
    if (last && last.state === state) last.blocks++;
    else out.push({ blocks: 1, state });
  }
  return out;
}

describe('bytesToBlockExtents', () => {
  it('maps HOLE|ZERO to hole, ZERO to zero, HOLE alone and 0 to data', () => {
    expect(
      bytesToBlockExtents(
        [
          { length: 1024, flags: HOLE | ZERO },
          { length: 512, flags: ZERO },
          { length: 512, flags: HOLE },
          { length: 512, flags: 0 },
        ],
        512,
      ),
    ).toEqual([
      { blocks: 2, state: 'hole' },
      { blocks: 1, state: 'zero' },
      { blocks: 2, state: 'data' },
    ]);
  });

  it('agrees with a byte-by-byte reading on seeded random runs, unaligned included', () => {
    let seed = 99;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    for (let round = 0; round < 200; round++) {
      const bs = 8 << rand(3);
      const runs = Array.from({ length: 1 + rand(8) }, () => ({
        length: 1 + rand(40),
        flags: rand(4),
      }));
      const total = runs.reduce((n, r) => n + r.length, 0);
      runs[runs.length - 1].length += (bs - (total % bs)) % bs; // whole blocks overall
      expect(bytesToBlockExtents(runs, bs)).toEqual(slowExtents(runs, bs));
    }
  });
});

describe('PendingRequest: assembling a structured reply', () => {
  const READ = 0;
  const collect = (type: number, offset: number, length: number) => {
    const out: { ok?: ReplyResult; err?: unknown } = {};
    const p = new PendingRequest(
      type,
      offset,
      length,
      1,
      (r) => (out.ok = r),
      (e) => (out.err = e),
    );
    return { p, out };
  };
  const dataChunk = (offset: number, data: Buffer) => ({
    h: { flags: 0, type: 1, handle: 1n, length: 8 + data.length },
    payload: bytes().u64(offset).raw(data).build(),
  });
  const holeChunk = (offset: number, length: number) => ({
    h: { flags: 0, type: 2, handle: 1n, length: 12 },
    payload: bytes().u64(offset).u32(length).build(),
  });

  it('hands on the data of a single chunk without copying', () => {
    const { p, out } = collect(READ, 4096, 8);
    const c = dataChunk(4096, Buffer.from('abcdefgh'));
    expect(p.chunk(c.h, c.payload, true)).toBe(true);
    expect(out.ok!.data!.buffer).toBe(c.payload.buffer);
  });

  it('reassembles data and hole chunks sent in any order', () => {
    const { p, out } = collect(READ, 100, 12);
    const a = dataChunk(108, Buffer.from('WXYZ'));
    const b = holeChunk(104, 4);
    const c = dataChunk(100, Buffer.from('abcd'));
    expect(p.chunk(a.h, a.payload, false)).toBe(false);
    p.chunk(b.h, b.payload, false);
    p.chunk(c.h, c.payload, false);
    expect(p.chunk({ flags: 1, type: 0, handle: 1n, length: 0 }, Buffer.alloc(0), true)).toBe(true);
    expect(out.ok!.data!.toString('latin1')).toBe('abcd\0\0\0\0WXYZ');
  });

  it('fails the request with the error chunk, even after data', () => {
    const { p, out } = collect(READ, 0, 8);
    const a = dataChunk(0, Buffer.from('abcd'));
    p.chunk(a.h, a.payload, false);
    p.chunk(
      { flags: 1, type: 0x8001, handle: 1n, length: 9 },
      bytes().u32(5).u16(3).ascii('bad').build(),
      true,
    );
    expect(out.err).toEqual({ errno: 5, message: 'bad' });
  });

  it('fails as EIO when a successful reply leaves a gap', () => {
    const { p, out } = collect(READ, 0, 8);
    const a = dataChunk(0, Buffer.from('abcd'));
    p.chunk(a.h, a.payload, true);
    expect(out.err).toMatchObject({ errno: 5 });
  });

  it('treats content outside the request, or overlapping, as a protocol violation', () => {
    const { p } = collect(READ, 0, 8);
    const outside = dataChunk(6, Buffer.from('abcd'));
    expect(() => p.chunk(outside.h, outside.payload, false)).toThrow(/outside or overlapping/);
    const whole = dataChunk(0, Buffer.from('abcdefgh'));
    p.chunk(whole.h, whole.payload, false);
    const again = dataChunk(0, Buffer.from('ab'));
    expect(() => p.chunk(again.h, again.payload, false)).toThrow(/overlapping/);
  });

  it('refuses an unknown chunk type without bit 15, and errors the request for one with it', () => {
    const { p } = collect(READ, 0, 8);
    expect(() =>
      p.chunk({ flags: 1, type: 77, handle: 1n, length: 0 }, Buffer.alloc(0), true),
    ).toThrow(/type 77/);
    const { p: q, out } = collect(READ, 0, 8);
    q.chunk(
      { flags: 1, type: 0x8077, handle: 1n, length: 6 },
      bytes().u32(22).u16(0).build(),
      true,
    );
    expect(out.err).toEqual({ errno: 22, message: '' });
  });
});

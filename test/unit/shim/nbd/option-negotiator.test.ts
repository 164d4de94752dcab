import { describe, expect, it } from 'vitest';
import { MemoryBdev } from '../../../../src/bdev/index.js';
import { resolveExports } from '../../../../src/shim/nbd/nbd-export.js';
import { OptionNegotiator } from '../../../../src/shim/nbd/option-negotiator.js';
import { bytes, optionReply } from './nbd-bytes.js';

// Option codes and reply types typed in from proto.md.
const OPT = {
  EXPORT_NAME: 1,
  ABORT: 2,
  LIST: 3,
  STARTTLS: 5,
  INFO: 6,
  GO: 7,
  STRUCTURED: 8,
  LIST_META: 9,
  SET_META: 10,
};
const REP = {
  ACK: 1,
  SERVER: 2,
  INFO: 3,
  META: 4,
  UNSUP: 0x80000001,
  POLICY: 0x80000002,
  INVALID: 0x80000003,
  UNKNOWN: 0x80000006,
};
// HAS_FLAGS|SEND_FLUSH|SEND_FUA|SEND_TRIM|SEND_WRITE_ZEROES|CAN_MULTI_CONN|SEND_CACHE|SEND_FAST_ZERO
const FLAGS = 0x0001 | 0x0004 | 0x0008 | 0x0020 | 0x0040 | 0x0100 | 0x0400 | 0x0800;
const SEND_DF = 0x0080;
const READ_ONLY = 0x0002;

function negotiator(noZeroes = true) {
  const exports = resolveExports([
    {
      name: 'vol0',
      bdev: new MemoryBdev({ name: 'a', blockSize: 4096, blockCount: 256 }),
      description: 'first',
    },
    {
      name: 'ro',
      bdev: new MemoryBdev({ name: 'b', blockSize: 512, blockCount: 8 }),
      readOnly: true,
    },
  ]);
  return new OptionNegotiator(exports, noZeroes);
}

const hexes = (bufs: Buffer[]) => bufs.map((b) => b.toString('hex'));
const text = (s: string) => Buffer.from(s);
const goData = (name: string, ...requests: number[]) => {
  const b = bytes().str32(name).u16(requests.length);
  for (const r of requests) b.u16(r);
  return b.build();
};
const metaData = (name: string, ...queries: string[]) => {
  const b = bytes().str32(name).u32(queries.length);
  for (const q of queries) b.str32(q);
  return b.build();
};
const infoExport = (opt: number, size: number, flags: number) =>
  optionReply(opt, REP.INFO, bytes().u16(0).u64(size).u16(flags).build());
const infoBlockSize = (opt: number, min: number) =>
  optionReply(
    opt,
    REP.INFO,
    bytes()
      .u16(3)
      .u32(min)
      .u32(Math.max(4096, min))
      .u32(32 * 2 ** 20)
      .build(),
  );

describe('OptionNegotiator', () => {
  it('NBD_OPT_GO: INFO_EXPORT, the requested NAME and DESCRIPTION, BLOCK_SIZE, then ACK', () => {
    const n = negotiator();
    const out = n.handle(OPT.GO, goData('vol0', 1, 2, 3));
    expect(out.kind).toBe('transmission');
    expect(hexes(out.kind === 'transmission' ? out.replies : [])).toEqual(
      hexes([
        infoExport(OPT.GO, 1 << 20, FLAGS),
        optionReply(OPT.GO, REP.INFO, bytes().u16(1).ascii('vol0').build()),
        optionReply(OPT.GO, REP.INFO, bytes().u16(2).ascii('first').build()),
        infoBlockSize(OPT.GO, 4096),
        optionReply(OPT.GO, REP.ACK),
      ]),
    );
  });

  it('the empty name is the default (first) export; INFO does not end negotiation', () => {
    const out = negotiator().handle(OPT.INFO, goData(''));
    expect(out.kind).toBe('continue');
    expect(hexes(out.kind === 'continue' ? out.replies : [])).toEqual(
      hexes([
        infoExport(OPT.INFO, 1 << 20, FLAGS),
        infoBlockSize(OPT.INFO, 4096),
        optionReply(OPT.INFO, REP.ACK),
      ]),
    );
  });

  it('a read-only export advertises READ_ONLY and no write features; DF once structured', () => {
    const n = negotiator();
    n.handle(OPT.STRUCTURED, Buffer.alloc(0));
    const out = n.handle(OPT.INFO, goData('ro'));
    const flags = 0x0001 | 0x0004 | 0x0008 | 0x0100 | 0x0400 | READ_ONLY | SEND_DF;
    expect(out.kind === 'continue' && out.replies[0].toString('hex')).toBe(
      infoExport(OPT.INFO, 4096, flags).toString('hex'),
    );
  });

  it('an unknown export: NBD_REP_ERR_UNKNOWN for GO, a hard disconnect for EXPORT_NAME', () => {
    const n = negotiator();
    expect(hexes((n.handle(OPT.GO, goData('nope')) as { replies: Buffer[] }).replies)).toEqual(
      hexes([optionReply(OPT.GO, REP.UNKNOWN, text('no export named "nope"'))]),
    );
    expect(n.handle(OPT.EXPORT_NAME, text('nope')).kind).toBe('disconnect');
  });

  it('NBD_OPT_EXPORT_NAME: size, flags and the 124 zeroes unless NO_ZEROES', () => {
    const withZeroes = negotiator(false).handle(OPT.EXPORT_NAME, text('vol0'));
    expect(withZeroes.kind === 'transmission' && withZeroes.replies[0].toString('hex')).toBe(
      bytes()
        .u64(1 << 20)
        .u16(FLAGS)
        .zeroes(124)
        .build()
        .toString('hex'),
    );
    const noZeroes = negotiator(true).handle(OPT.EXPORT_NAME, text(''));
    expect(noZeroes.kind === 'transmission' && noZeroes.replies[0].toString('hex')).toBe(
      bytes()
        .u64(1 << 20)
        .u16(FLAGS)
        .build()
        .toString('hex'),
    );
  });

  it('NBD_OPT_LIST: one NBD_REP_SERVER per export, then ACK; with data it is INVALID', () => {
    const n = negotiator();
    expect(hexes((n.handle(OPT.LIST, Buffer.alloc(0)) as { replies: Buffer[] }).replies)).toEqual(
      hexes([
        optionReply(OPT.LIST, REP.SERVER, bytes().str32('vol0').ascii('first').build()),
        optionReply(OPT.LIST, REP.SERVER, bytes().str32('ro').build()),
        optionReply(OPT.LIST, REP.ACK),
      ]),
    );
    const bad = n.handle(OPT.LIST, text('x')) as { replies: Buffer[] };
    expect(bad.replies[0].readUInt32BE(12)).toBe(REP.INVALID);
  });

  it('NBD_OPT_STARTTLS gets NBD_REP_ERR_POLICY (NOTLS mode), an unknown option UNSUP', () => {
    const n = negotiator();
    expect(
      hexes((n.handle(OPT.STARTTLS, Buffer.alloc(0)) as { replies: Buffer[] }).replies),
    ).toEqual(
      hexes([optionReply(OPT.STARTTLS, REP.POLICY, text('this server does not offer TLS'))]),
    );
    expect(hexes((n.handle(99, text('whatever')) as { replies: Buffer[] }).replies)).toEqual(
      hexes([optionReply(99, REP.UNSUP, text('option 99 is not supported'))]),
    );
  });

  it('NBD_OPT_ABORT is acknowledged and ends the session', () => {
    const out = negotiator().handle(OPT.ABORT, Buffer.alloc(0));
    expect(out.kind).toBe('abort');
    expect(hexes((out as { replies: Buffer[] }).replies)).toEqual(
      hexes([optionReply(OPT.ABORT, REP.ACK)]),
    );
  });

  it('meta contexts need structured replies first', () => {
    const n = negotiator();
    const out = n.handle(OPT.SET_META, metaData('vol0', 'base:allocation')) as {
      replies: Buffer[];
    };
    expect(out.replies[0].readUInt32BE(12)).toBe(REP.INVALID);
  });

  it('SET_META_CONTEXT base:allocation selects id 1 for that export and enables BLOCK_STATUS', () => {
    const n = negotiator();
    n.handle(OPT.STRUCTURED, Buffer.alloc(0));
    const set = n.handle(OPT.SET_META, metaData('vol0', 'qemu:dirty-bitmap:x', 'base:allocation'));
    expect(hexes((set as { replies: Buffer[] }).replies)).toEqual(
      hexes([
        optionReply(OPT.SET_META, REP.META, bytes().u32(1).ascii('base:allocation').build()),
        optionReply(OPT.SET_META, REP.ACK),
      ]),
    );
    expect(n.handle(OPT.GO, goData('vol0'))).toMatchObject({
      kind: 'transmission',
      baseAllocation: true,
    });
  });

  it('a context set for another export, or replaced by an empty SET, does not carry over', () => {
    const n = negotiator();
    n.handle(OPT.STRUCTURED, Buffer.alloc(0));
    n.handle(OPT.SET_META, metaData('ro', 'base:allocation'));
    expect(n.handle(OPT.INFO, goData('vol0'))).toMatchObject({ kind: 'continue' });
    expect(n.handle(OPT.GO, goData('vol0'))).toMatchObject({ baseAllocation: false });
    const m = negotiator();
    m.handle(OPT.STRUCTURED, Buffer.alloc(0));
    m.handle(OPT.SET_META, metaData('vol0', 'base:allocation'));
    expect(
      hexes((m.handle(OPT.SET_META, metaData('vol0')) as { replies: Buffer[] }).replies),
    ).toEqual(hexes([optionReply(OPT.SET_META, REP.ACK)]));
    expect(m.handle(OPT.GO, goData('vol0'))).toMatchObject({ baseAllocation: false });
  });

  it('LIST_META_CONTEXT lists base:allocation (id 0) for no query and for "base:"', () => {
    const n = negotiator();
    n.handle(OPT.STRUCTURED, Buffer.alloc(0));
    const want = hexes([
      optionReply(OPT.LIST_META, REP.META, bytes().u32(0).ascii('base:allocation').build()),
      optionReply(OPT.LIST_META, REP.ACK),
    ]);
    expect(
      hexes((n.handle(OPT.LIST_META, metaData('vol0')) as { replies: Buffer[] }).replies),
    ).toEqual(want);
    expect(
      hexes((n.handle(OPT.LIST_META, metaData('vol0', 'base:')) as { replies: Buffer[] }).replies),
    ).toEqual(want);
    expect(
      hexes(
        (n.handle(OPT.LIST_META, metaData('vol0', 'x-other:')) as { replies: Buffer[] }).replies,
      ),
    ).toEqual(hexes([optionReply(OPT.LIST_META, REP.ACK)]));
  });

  it('malformed option data is NBD_REP_ERR_INVALID and negotiation continues', () => {
    const n = negotiator();
    const out = n.handle(OPT.GO, bytes().u32(100).u16(0).build());
    expect(out.kind).toBe('continue');
    expect((out as { replies: Buffer[] }).replies[0].readUInt32BE(12)).toBe(REP.INVALID);
  });
});

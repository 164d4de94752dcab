import { describe, expect, it } from 'vitest';
import {
  decodeExportNameReply,
  decodeGoData,
  decodeGreeting,
  decodeInfo,
  decodeMetaContextData,
  decodeOptionReplyHeader,
  decodeRepMetaContext,
  decodeRepServer,
  encodeClientFlags,
  encodeExportNameReply,
  encodeGoData,
  encodeGreeting,
  encodeInfoBlockSize,
  encodeInfoExport,
  encodeInfoString,
  encodeMetaContextData,
  encodeOption,
  encodeOptionReply,
  encodeRepMetaContext,
  encodeRepServer,
  NbdOptionError,
} from '../../../../src/shim/nbd/handshake-codec.js';
import { NbdInfo, NbdReply } from '../../../../src/shim/nbd/protocol.js';
import { bytes, IHAVEOPT, NBDMAGIC, option, optionReply } from './nbd-bytes.js';

const hex = (b: Buffer) => b.toString('hex');

describe('greeting and flags (proto.md "Newstyle negotiation")', () => {
  it('greeting is NBDMAGIC, IHAVEOPT, then the 16-bit handshake flags', () => {
    const want = bytes().u64hex(NBDMAGIC).u64hex(IHAVEOPT).u16(0x0003).build();
    expect(hex(encodeGreeting(3))).toBe(hex(want));
    expect(want.subarray(0, 8).toString('latin1')).toBe('NBDMAGIC');
    expect(want.subarray(8, 16).toString('latin1')).toBe('IHAVEOPT');
    expect(decodeGreeting(want)).toBe(3);
  });

  it('refuses a greeting that is not NBD newstyle', () => {
    const oldstyle = bytes().u64hex(NBDMAGIC).u64hex('00420281861253').u16(0).build();
    expect(() => decodeGreeting(oldstyle)).toThrow(/not an NBD newstyle server/);
  });

  it('client flags are one big-endian u32', () => {
    expect(hex(encodeClientFlags(3))).toBe('00000003');
  });
});

describe('option requests and replies (proto.md "Fixed newstyle negotiation")', () => {
  it('an option request is IHAVEOPT, option, length, data', () => {
    expect(hex(encodeOption(8))).toBe(hex(option(8)));
    expect(hex(encodeOption(1, Buffer.from('vol0')))).toBe(hex(option(1, Buffer.from('vol0'))));
  });

  it('an option reply is the reply magic, option, type, length, data', () => {
    const want = optionReply(5, 0x80000002, Buffer.from('no TLS'));
    expect(hex(encodeOptionReply(5, NbdReply.ErrPolicy, Buffer.from('no TLS')))).toBe(hex(want));
    expect(decodeOptionReplyHeader(want)).toEqual({ option: 5, reply: 0x80000002 });
  });

  it('NBD_OPT_GO data: name length, name, request count, requests', () => {
    const want = bytes().str32('vol0').u16(2).u16(3).u16(1).build();
    expect(hex(encodeGoData({ name: 'vol0', requests: [3, 1] }))).toBe(hex(want));
    expect(decodeGoData(want)).toEqual({ name: 'vol0', requests: [3, 1] });
    expect(decodeGoData(bytes().u32(0).u16(0).build())).toEqual({ name: '', requests: [] });
  });

  it.each([
    ['too short', bytes().u32(0).build()],
    ['name longer than the data - 6', bytes().u32(5).ascii('vol0').u16(0).build()],
    ['fewer requests than counted', bytes().str32('a').u16(2).u16(3).build()],
    ['trailing bytes', bytes().str32('a').u16(0).u8(9).build()],
  ])('NBD_OPT_GO data %s is NBD_REP_ERR_INVALID', (_name, data) => {
    expect(() => decodeGoData(data)).toThrow(
      expect.objectContaining({ reply: NbdReply.ErrInvalid }),
    );
  });

  it('an export name over 4096 bytes is NBD_REP_ERR_TOO_BIG', () => {
    const data = bytes().str32('x'.repeat(4097)).u16(0).build();
    expect(() => decodeGoData(data)).toThrow(NbdOptionError);
    expect(() => decodeGoData(data)).toThrow(
      expect.objectContaining({ reply: NbdReply.ErrTooBig }),
    );
  });

  it('meta context data: name, query count (u32), length-prefixed queries', () => {
    const want = bytes().str32('vol0').u32(2).str32('base:allocation').str32('qemu:dirty').build();
    const req = { name: 'vol0', queries: ['base:allocation', 'qemu:dirty'] };
    expect(hex(encodeMetaContextData(req))).toBe(hex(want));
    expect(decodeMetaContextData(want)).toEqual(req);
    expect(() => decodeMetaContextData(want.subarray(0, want.length - 1))).toThrow(
      expect.objectContaining({ reply: NbdReply.ErrInvalid }),
    );
    expect(() => decodeMetaContextData(bytes().str32('v').u32(1).u32(99).build())).toThrow(
      /query 0 overruns/,
    );
  });

  it('NBD_REP_SERVER: name length, name, description', () => {
    const want = bytes().str32('vol0').ascii('the volume').build();
    expect(hex(encodeRepServer('vol0', 'the volume'))).toBe(hex(want));
    expect(decodeRepServer(want)).toEqual({ name: 'vol0', description: 'the volume' });
  });

  it('NBD_REP_META_CONTEXT: id then name', () => {
    const want = bytes().u32(1).ascii('base:allocation').build();
    expect(hex(encodeRepMetaContext(1, 'base:allocation'))).toBe(hex(want));
    expect(decodeRepMetaContext(want)).toEqual({ id: 1, name: 'base:allocation' });
  });
});

describe('NBD_REP_INFO payloads (proto.md "NBD_REP_INFO")', () => {
  it('NBD_INFO_EXPORT is 12 bytes: type 0, size u64, transmission flags u16', () => {
    const want = bytes()
      .u16(0)
      .u64(64 * 2 ** 30)
      .u16(0x0d6d)
      .build();
    expect(want.length).toBe(12);
    expect(hex(encodeInfoExport(64 * 2 ** 30, 0x0d6d))).toBe(hex(want));
    expect(decodeInfo(want)).toEqual({
      type: NbdInfo.Export,
      size: 64 * 2 ** 30,
      transmissionFlags: 0x0d6d,
    });
  });

  it('NBD_INFO_NAME and NBD_INFO_DESCRIPTION are type then text', () => {
    expect(hex(encodeInfoString(NbdInfo.Name, 'vol0'))).toBe(
      hex(bytes().u16(1).ascii('vol0').build()),
    );
    expect(hex(encodeInfoString(NbdInfo.Description, 'd'))).toBe(
      hex(bytes().u16(2).ascii('d').build()),
    );
    expect(decodeInfo(bytes().u16(1).ascii('vol0').build())).toEqual({
      type: NbdInfo.Name,
      text: 'vol0',
    });
  });

  it('NBD_INFO_BLOCK_SIZE is 14 bytes: type 3, minimum, preferred, maximum', () => {
    const want = bytes()
      .u16(3)
      .u32(512)
      .u32(4096)
      .u32(32 * 2 ** 20)
      .build();
    expect(want.length).toBe(14);
    const c = { minimum: 512, preferred: 4096, maximum: 32 * 2 ** 20 };
    expect(hex(encodeInfoBlockSize(c))).toBe(hex(want));
    expect(decodeInfo(want)).toEqual({ type: NbdInfo.BlockSize, ...c });
  });

  it('an unknown info type is returned as such, a short known one is refused', () => {
    expect(decodeInfo(bytes().u16(99).u32(7).build())).toEqual({ type: 'unknown', code: 99 });
    expect(() => decodeInfo(bytes().u16(0).u32(7).build())).toThrow(/malformed/);
  });
});

describe('NBD_OPT_EXPORT_NAME reply', () => {
  it('is size, flags, and 124 zeroes unless NO_ZEROES was negotiated', () => {
    const full = bytes()
      .u64(1 << 20)
      .u16(0x0001)
      .zeroes(124)
      .build();
    expect(hex(encodeExportNameReply(1 << 20, 1, false))).toBe(hex(full));
    expect(hex(encodeExportNameReply(1 << 20, 1, true))).toBe(hex(full.subarray(0, 10)));
    expect(decodeExportNameReply(full)).toEqual({ size: 1 << 20, transmissionFlags: 1 });
  });
});
